/**
 * A fast path for the commonest alarm: a cron pattern read in UTC with numbers, ranges, steps,
 * lists and month or day names. cron-parser (the reference for every tick, and what BullMQ runs
 * in the cluster) steps through luxon dates second by second, about half a millisecond per
 * answer; this jumps field by field on plain UTC dates. Anything else (a time zone, `L`, `W`,
 * `#`, `?`) is left to cron-parser. The unit tests hold both to the same ticks.
 */
export interface UtcCron {
  second: boolean[];
  minute: boolean[];
  hour: boolean[];
  dayOfMonth: boolean[];
  month: boolean[];
  dayOfWeek: boolean[];
  /** Day of month / day of week allow every day: cron's OR of the two applies only when both are restricted. */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** One field into a lookup table over [min, max]; undefined when it uses syntax this path leaves to cron-parser. */
function field(text: string, min: number, max: number, names?: string[], nameBase = 0): boolean[] | undefined {
  const table = new Array<boolean>(max + 1).fill(false);
  const value = (v: string): number | undefined => {
    const i = names?.indexOf(v.toLowerCase()) ?? -1;
    if (i >= 0) return i + nameBase;
    if (!/^\d+$/.test(v)) return undefined;
    const n = Number(v);
    return n >= min && n <= max ? n : undefined;
  };
  for (const part of text.split(',')) {
    const m = /^(\*|([^-/]+)(?:-([^-/]+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (step < 1) return undefined;
    let from = min;
    let to = max;
    if (m[1] !== '*') {
      const a = value(m[2]);
      const b = m[3] === undefined ? (m[4] === undefined ? a : max) : value(m[3]);
      if (a === undefined || b === undefined || b < a) return undefined;
      from = a;
      to = b;
    }
    for (let v = from; v <= to; v += step) table[v] = true;
  }
  return table;
}

/** Parses a 5- or 6-field pattern for the fast path; undefined when it is not for it. */
export function parseUtcCron(pattern: string): UtcCron | undefined {
  const f = pattern.trim().split(/\s+/);
  if (f.length === 5) f.unshift('0');
  if (f.length !== 6) return undefined;
  const [s, mi, h, dom, mon, dow] = f;
  const second = field(s, 0, 59);
  const minute = field(mi, 0, 59);
  const hour = field(h, 0, 23);
  const dayOfMonth = field(dom, 1, 31);
  const month = field(mon, 1, 12, MONTHS, 1);
  const weekdays = field(dow, 0, 7, DAYS);
  if (!second || !minute || !hour || !dayOfMonth || !month || !weekdays) return undefined;
  if (weekdays[7]) weekdays[0] = true; // 7 is Sunday too
  const all = (t: boolean[], from: number, to: number) => t.slice(from, to + 1).every(Boolean);
  return { second, minute, hour, dayOfMonth, month, dayOfWeek: weekdays, anyDayOfMonth: all(dayOfMonth, 1, 31), anyDayOfWeek: all(weekdays, 0, 6) };
}

function dayMatches(c: UtcCron, d: Date): boolean {
  const dom = c.dayOfMonth[d.getUTCDate()];
  const dow = c.dayOfWeek[d.getUTCDay()];
  if (c.anyDayOfMonth && c.anyDayOfWeek) return true;
  if (c.anyDayOfMonth) return dow;
  if (c.anyDayOfWeek) return dom;
  return dom || dow;
}

/** How far ahead a pattern may have no tick at all (Feb 30 never comes): cron-parser gives up too. */
const HORIZON_MS = 8 * 366 * 86_400_000;

/** The first tick strictly after `after` (epoch ms), in UTC; undefined when there is none within eight years. */
export function nextUtcTick(c: UtcCron, after: number): number | undefined {
  let t = Math.floor(after / 1000) * 1000 + 1000;
  const end = after + HORIZON_MS;
  while (t <= end) {
    const d = new Date(t);
    if (!c.month[d.getUTCMonth() + 1]) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    } else if (!dayMatches(c, d)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    } else if (!c.hour[d.getUTCHours()]) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
    } else if (!c.minute[d.getUTCMinutes()]) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes() + 1);
    } else if (!c.second[d.getUTCSeconds()]) {
      t += 1000;
    } else {
      return t;
    }
  }
  return undefined;
}
