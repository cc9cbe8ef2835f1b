import cron from 'node-cron';
import cronParser from 'cron-parser';
import { badRequest } from '../../src/entities/errors.js';
import {
  CATCH_UP_MAX,
  CATCH_UP_WINDOW_DEFAULT,
  CATCH_UP_WINDOW_MAX,
  type AlarmCommon,
  type AlarmConfig,
  type AlarmRules,
  type CronAlarm,
  type IntervalAlarm,
  type OnceAlarm,
} from './alarm-config.js';
import { nextTicks } from './schedule.js';

/**
 * Validation of the alarm feeds' parameters, with the reference provider's checks and messages
 * (openwhisk-package-alarms alarmWebAction.js, paraphrased), each a 400. Dates are epoch ms or
 * anything `Date` parses; checks run parse → in the future → after startDate.
 */
type Params = Record<string, unknown>;

const INTERVAL_DEFAULT_DELAY_MS = 30_000;

function has(p: Params, k: string): boolean {
  return p[k] !== undefined && p[k] !== null && p[k] !== '';
}

function parseDate(p: Params, k: string): number {
  const v = p[k];
  const ms = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).getTime() !== ms) throw badRequest(`${k} parameter '${String(v)}' is not a valid Date`);
  return ms;
}

function futureDate(p: Params, k: string, now: number): number {
  const ms = parseDate(p, k);
  if (ms <= now) throw badRequest(`${k} parameter '${String(p[k])}' must be in the future`);
  return ms;
}

function bool(p: Params, k: string, dflt: boolean): boolean {
  const v = p[k];
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  throw badRequest(`${k} parameter must be true or false`);
}

function integer(p: Params, k: string): number | undefined {
  const v = p[k];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw badRequest(`the ${k} parameter must be an integer`);
  return n;
}

/** `trigger_payload`: an object is the fire body; a string becomes `{payload}`; absent or empty: `{}`. */
export function parsePayload(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null || v === '') return {};
  if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  if (typeof v === 'string') return { payload: v };
  throw badRequest('trigger_payload must be an object or a string');
}

export function validateTimezone(tz: unknown): string {
  if (typeof tz !== 'string' || !tz.trim()) throw badRequest('Invalid timezone.');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz.trim() });
  } catch {
    throw badRequest('Invalid timezone.');
  }
  return tz.trim();
}

/** A 5- or 6-field pattern (leading seconds) that both cron-parser (cluster) and node-cron (standalone) accept. */
export function validateCron(pattern: unknown, rules: Pick<AlarmRules, 'limitCronFields'>, timezone?: string): string {
  if (typeof pattern !== 'string' || !pattern.trim()) throw badRequest('alarms trigger feed is missing the cron parameter');
  const fields = pattern.trim().split(/\s+/);
  const invalid = () => badRequest(`cron pattern '${pattern}' is not valid: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading seconds field`);
  if (fields.length < 5 || fields.length > 6) throw invalid();
  const normal = fields.join(' ');
  try {
    cronParser.parseExpression(normal, { tz: timezone ?? 'UTC' }).next();
  } catch {
    throw invalid();
  }
  if (!cron.validate(normal)) throw invalid();
  if (rules.limitCronFields && fields.length === 6 && fields[0] !== '0') {
    throw badRequest('cron pattern is limited to 5 fields with 1 minute as the finest granularity');
  }
  return normal;
}

function common(p: Params, old?: AlarmCommon): AlarmCommon {
  const catchUp = integer(p, 'catchUp') ?? old?.catchUp ?? 0;
  if (catchUp < 0 || catchUp > CATCH_UP_MAX) throw badRequest(`the catchUp parameter must be an integer from 0 to ${CATCH_UP_MAX}`);
  const catchUpWindow = integer(p, 'catchUpWindow') ?? old?.catchUpWindow ?? CATCH_UP_WINDOW_DEFAULT;
  if (catchUpWindow < 1 || catchUpWindow > CATCH_UP_WINDOW_MAX) {
    throw badRequest(`the catchUpWindow parameter must be a number of seconds from 1 to ${CATCH_UP_WINDOW_MAX}`);
  }
  return {
    payload: p.trigger_payload !== undefined ? parsePayload(p.trigger_payload) : (old?.payload ?? {}),
    includeSchedule: bool(p, 'includeSchedule', old?.includeSchedule ?? true),
    catchUp,
    catchUpWindow,
  };
}

function maxTriggers(p: Params, stopDate: number | undefined): number {
  const n = integer(p, 'maxTriggers');
  if (n === undefined) return -1;
  if (n === 0 || n < -1) throw badRequest('the maxTriggers parameter must be -1 (unlimited) or an integer greater than zero');
  if (n !== -1 && stopDate !== undefined) throw badRequest('maxTriggers is not allowed when the stopDate parameter is specified');
  return n;
}

function deleteAfterFire(v: unknown): OnceAlarm['deleteAfterFire'] {
  if (v === undefined || v === null || v === '') return 'false';
  const s = String(v).trim().toLowerCase();
  if (s === 'false' || s === 'true' || s === 'rules') return s;
  throw badRequest('deleteAfterFire parameter must be one of [false, true, rules].');
}

function stopAfterStart(p: Params, stopDate: number, startDate: number | undefined): void {
  if (startDate !== undefined && stopDate <= startDate) throw badRequest(`stopDate parameter '${String(p.stopDate)}' must be greater than the startDate`);
}

function checkCronHasTick(c: CronAlarm, now: number): void {
  if (c.stopDate === undefined) return;
  const [first] = nextTicks(c, c.cron, Math.max(now, (c.startDate ?? now) - 1), 1);
  if (first === undefined || first > c.stopDate) {
    throw badRequest(`cron pattern '${c.cron}' has no occurrence between ${new Date(c.startDate ?? now).toISOString()} and the stopDate ${new Date(c.stopDate).toISOString()}`);
  }
}

/** CREATE: the configuration of a new alarm, or a 400. */
export function validateAlarmCreate(feed: string, p: Params, now: number, rules: AlarmRules): AlarmConfig {
  const base = common(p);
  if (feed === 'once') {
    if (!has(p, 'date')) throw badRequest('alarms once trigger feed is missing the date parameter');
    return { type: 'once', ...base, date: futureDate(p, 'date', now), deleteAfterFire: deleteAfterFire(p.deleteAfterFire) };
  }
  const startDate = has(p, 'startDate') ? futureDate(p, 'startDate', now) : undefined;
  const stopDate = has(p, 'stopDate') ? futureDate(p, 'stopDate', now) : undefined;
  if (stopDate !== undefined) stopAfterStart(p, stopDate, startDate ?? (feed === 'interval' ? now + INTERVAL_DEFAULT_DELAY_MS : undefined));
  if (feed === 'interval') {
    const minutes = integerMinutes(p);
    const c: IntervalAlarm = { type: 'interval', ...base, minutes, startDate: startDate ?? now + INTERVAL_DEFAULT_DELAY_MS, maxTriggers: maxTriggers(p, stopDate) };
    if (stopDate !== undefined) c.stopDate = stopDate;
    return c;
  }
  if (feed !== 'alarm') throw badRequest(`unknown alarms feed '${feed}'`);
  const timezone = has(p, 'timezone') ? validateTimezone(p.timezone) : undefined;
  const c: CronAlarm = { type: 'alarm', ...base, cron: validateCron(p.cron, rules, timezone), maxTriggers: maxTriggers(p, stopDate) };
  if (timezone) c.timezone = timezone;
  if (has(p, 'strict')) c.strict = bool(p, 'strict', false);
  if (startDate !== undefined) c.startDate = startDate;
  if (stopDate !== undefined) c.stopDate = stopDate;
  checkCronHasTick(c, now);
  return c;
}

function integerMinutes(p: Params): number {
  if (!has(p, 'minutes') || p.minutes === 0 || p.minutes === '0') throw badRequest('interval trigger feed is missing the minutes parameter');
  const n = integer(p, 'minutes')!;
  if (n <= 0) throw badRequest('the minutes parameter must be an integer greater than zero');
  return n;
}

const UPDATABLE: Record<AlarmConfig['type'], string[]> = {
  alarm: ['cron', 'timezone', 'strict', 'startDate', 'stopDate'],
  once: ['date', 'deleteAfterFire'],
  interval: ['minutes', 'startDate', 'stopDate'],
};
const UPDATABLE_COMMON = ['trigger_payload', 'includeSchedule', 'catchUp', 'catchUpWindow'];

/** UPDATE: the stored configuration with the given parameters changed (same checks as CREATE), or a 400. */
export function validateAlarmUpdate(old: AlarmConfig, p: Params, now: number, rules: AlarmRules): AlarmConfig {
  const given = [...UPDATABLE[old.type], ...UPDATABLE_COMMON].filter((k) => p[k] !== undefined);
  if (!given.length) throw badRequest('no updatable parameters were specified');
  const base = common(p, old);
  if (old.type === 'once') {
    return {
      ...old,
      ...base,
      date: has(p, 'date') ? futureDate(p, 'date', now) : old.date,
      deleteAfterFire: p.deleteAfterFire !== undefined ? deleteAfterFire(p.deleteAfterFire) : old.deleteAfterFire,
    };
  }
  const startDate = has(p, 'startDate') ? futureDate(p, 'startDate', now) : old.startDate;
  const stopDate = has(p, 'stopDate') ? futureDate(p, 'stopDate', now) : old.stopDate;
  if (stopDate !== undefined) {
    if (stopDate <= now) throw badRequest(`stopDate parameter '${new Date(stopDate).toISOString()}' must be in the future`);
    stopAfterStart({ stopDate: p.stopDate ?? new Date(stopDate).toISOString() }, stopDate, startDate);
  }
  if (old.type === 'interval') {
    const c: IntervalAlarm = { ...old, ...base, minutes: p.minutes !== undefined ? integerMinutes(p) : old.minutes, startDate: startDate ?? old.startDate };
    if (stopDate !== undefined) c.stopDate = stopDate;
    return c;
  }
  const timezone = has(p, 'timezone') ? validateTimezone(p.timezone) : old.timezone;
  const c: CronAlarm = { ...old, ...base, cron: validateCron(p.cron ?? old.cron, rules, timezone) };
  if (timezone) c.timezone = timezone;
  if (p.strict !== undefined) c.strict = bool(p, 'strict', false);
  if (startDate !== undefined) c.startDate = startDate;
  if (stopDate !== undefined) c.stopDate = stopDate;
  if (c.stopDate !== undefined && c.maxTriggers !== -1) throw badRequest('maxTriggers is not allowed when the stopDate parameter is specified');
  checkCronHasTick(c, now);
  return c;
}
