import cronParser from 'cron-parser';
import type { AlarmConfig, AlarmRules, CronAlarm } from './alarm-config.js';
import { nextUtcTick, parseUtcCron, type UtcCron } from './utc-cron.js';

/**
 * When an alarm is due: its ticks as epoch ms, computed the same way everywhere (READ's next
 * fires, stopDate checks, catch-up, the interval grid). Cron patterns are read by cron-parser,
 * the parser BullMQ's job schedulers use in the cluster.
 */

/** A stable second 0..limit for a name (the reference's `strict=false` spreading). */
export function jitterSecond(name: string, limit: number): number {
  let h = 0;
  for (const ch of name) h = (Math.imul(31, h) + ch.charCodeAt(0)) | 0;
  return Math.abs(h) % (limit + 1);
}

/** The pattern that really runs: a 5-field pattern of a non-strict alarm gets a seconds field when spreading is on. */
export function effectivePattern(c: CronAlarm, name: string, rules: Pick<AlarmRules, 'delayLimitSeconds'>): string {
  const fields = c.cron.trim().split(/\s+/);
  if (fields.length === 5 && rules.delayLimitSeconds > 0 && c.strict !== true) return `${jitterSecond(name, rules.delayLimitSeconds)} ${fields.join(' ')}`;
  return fields.join(' ');
}

const utcPatterns = new Map<string, UtcCron | null>();

/** The fast UTC reading of a pattern, when it has one (see utc-cron.ts). */
function utcCron(pattern: string, timezone: string | undefined): UtcCron | undefined {
  if (timezone !== undefined && timezone !== 'UTC' && timezone !== 'Etc/UTC') return undefined;
  let c = utcPatterns.get(pattern);
  if (c === undefined) {
    c = parseUtcCron(pattern) ?? null;
    if (utcPatterns.size >= 10_000) utcPatterns.clear();
    utcPatterns.set(pattern, c);
  }
  return c ?? undefined;
}

/** Cron ticks strictly after `after`, in `timezone` (UTC when unset). */
export function* cronTicks(pattern: string, timezone: string | undefined, after: number): Generator<number> {
  const fast = utcCron(pattern, timezone);
  if (fast) {
    for (let t = nextUtcTick(fast, after); t !== undefined; t = nextUtcTick(fast, t)) yield t;
    return;
  }
  const it = cronParser.parseExpression(pattern, { currentDate: new Date(after), tz: timezone ?? 'UTC' });
  for (;;) {
    let next: number;
    try {
      next = it.next().getTime();
    } catch {
      return; // no further occurrence
    }
    yield next;
  }
}

const nextMemo = new Map<string, number | undefined>();

/**
 * The first cron tick strictly after `after`, remembered: alarms that share a pattern (most do:
 * every minute, every five) tick together and ask the same question at the same moment, and
 * cron-parser answers it by stepping second by second (about half a millisecond).
 */
export function nextCronTick(pattern: string, timezone: string | undefined, after: number): number | undefined {
  const key = `${pattern}|${timezone ?? ''}|${after}`;
  if (nextMemo.has(key)) return nextMemo.get(key);
  const t = cronTicks(pattern, timezone, after).next();
  const next = t.done ? undefined : t.value;
  if (nextMemo.size >= 10_000) nextMemo.clear();
  nextMemo.set(key, next);
  return next;
}

/**
 * The alarm's ticks in (`after`, `upto`], at most `max` of them, oldest first, within its
 * startDate/stopDate. `pattern` is the effective cron pattern (alarm only).
 */
export function ticksBetween(c: AlarmConfig, pattern: string | undefined, after: number, upto: number, max: number): number[] {
  const out: number[] = [];
  if (max <= 0 || upto <= after) return out;
  if (c.type === 'once') {
    if (c.date > after && c.date <= upto) out.push(c.date);
    return out;
  }
  const start = c.startDate ?? -Infinity;
  const stop = Math.min(upto, c.stopDate ?? Infinity);
  if (c.type === 'interval') {
    const every = c.minutes * 60_000;
    let k = after < c.startDate ? 0 : Math.floor((after - c.startDate) / every) + 1;
    for (let t = c.startDate + k * every; t <= stop && out.length < max; t = c.startDate + ++k * every) out.push(t);
    return out;
  }
  for (const t of cronTicks(pattern!, c.timezone, Math.max(after, start - 1))) {
    if (t > stop || out.length >= max) break;
    out.push(t);
  }
  return out;
}

/** The next `count` ticks after `after` (READ, CREATE's answer, "is there any tick before stopDate"). */
export function nextTicks(c: AlarmConfig, pattern: string | undefined, after: number, count: number): number[] {
  return ticksBetween(c, pattern, after, Infinity, count);
}

/** How many ticks fall in (`after`, `upto`], counting up to `cap`. */
export function countTicks(c: AlarmConfig, pattern: string | undefined, after: number, upto: number, cap = 100_000): number {
  return ticksBetween(c, pattern, after, upto, cap).length;
}
