import { describe, expect, it } from 'vitest';
import { DEFAULT_ALARM_RULES, type AlarmConfig, type CronAlarm } from '../../feeds/alarms/alarm-config.js';
import { parsePayload, validateAlarmCreate, validateAlarmUpdate } from '../../feeds/alarms/validate.js';
import { HubError } from '../../src/entities/errors.js';

const NOW = Date.parse('2030-06-01T12:00:00Z');
const rules = DEFAULT_ALARM_RULES;
const create = (feed: string, p: Record<string, unknown>, r = rules) => validateAlarmCreate(feed, p, NOW, r);

function refused(fn: () => unknown): HubError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(400);
    return err as HubError;
  }
  throw new Error('expected a 400');
}

describe('alarm (cron) parameters', () => {
  it('accepts 5 and 6 fields, normalizes spacing, and reads defaults', () => {
    const c = create('alarm', { cron: ' */5  * * * * ' }) as CronAlarm;
    expect(c).toEqual({ type: 'alarm', cron: '*/5 * * * *', payload: {}, includeSchedule: true, catchUp: 0, catchUpWindow: 3600, maxTriggers: -1 });
    expect((create('alarm', { cron: '*/10 * * * * *' }) as CronAlarm).cron).toBe('*/10 * * * * *');
  });

  it('refuses a missing, unparsable or wrongly sized pattern, naming it (16)', () => {
    expect(refused(() => create('alarm', {})).message).toBe('alarms trigger feed is missing the cron parameter');
    expect(refused(() => create('alarm', { cron: '61 * * * *' })).message).toMatch(/^cron pattern '61 \* \* \* \*' is not valid/);
    expect(refused(() => create('alarm', { cron: '* * * *' })).message).toMatch(/^cron pattern '\* \* \* \*' is not valid/);
    expect(refused(() => create('alarm', { cron: '* * * * * * *' })).message).toMatch(/is not valid/);
    expect(refused(() => create('alarm', { cron: '0 0 31 2 *' })).message).toMatch(/is not valid/);
  });

  it('refuses sub-minute patterns when limitCronFields is on (19)', () => {
    const limited = { ...rules, limitCronFields: true };
    expect(refused(() => create('alarm', { cron: '*/5 * * * * *' }, limited)).message).toBe('cron pattern is limited to 5 fields with 1 minute as the finest granularity');
    expect((create('alarm', { cron: '0 * * * * *' }, limited) as CronAlarm).cron).toBe('0 * * * * *');
  });

  it('checks the timezone (17)', () => {
    expect(refused(() => create('alarm', { cron: '* * * * *', timezone: 'Europe/Nowhere' })).message).toBe('Invalid timezone.');
    expect((create('alarm', { cron: '* * * * *', timezone: 'America/New_York' }) as CronAlarm).timezone).toBe('America/New_York');
  });

  it('checks dates in the order parse, future, after startDate (20, 21, 22)', () => {
    expect(refused(() => create('alarm', { cron: '* * * * *', startDate: 'not-a-date' })).message).toBe("startDate parameter 'not-a-date' is not a valid Date");
    expect(refused(() => create('alarm', { cron: '* * * * *', startDate: NOW - 1 })).message).toBe(`startDate parameter '${NOW - 1}' must be in the future`);
    expect(refused(() => create('alarm', { cron: '* * * * *', stopDate: '2030-06-01T11:00:00Z' })).message).toBe("stopDate parameter '2030-06-01T11:00:00Z' must be in the future");
    expect(refused(() => create('alarm', { cron: '* * * * *', startDate: NOW + 7200_000, stopDate: NOW + 3600_000 })).message).toBe(
      `stopDate parameter '${NOW + 3600_000}' must be greater than the startDate`,
    );
    expect(refused(() => create('alarm', { cron: '0 0 1 1 *', stopDate: '2030-07-01T00:00:00Z' })).message).toMatch(/has no occurrence between/);
    const ok = create('alarm', { cron: '0 * * * *', startDate: String(NOW + 1000), stopDate: '2030-06-02T00:00:00Z' }) as CronAlarm;
    expect(ok.startDate).toBe(NOW + 1000);
    expect(ok.stopDate).toBe(Date.parse('2030-06-02T00:00:00Z'));
  });

  it('takes maxTriggers (-1 unlimited), not with stopDate (24)', () => {
    expect((create('alarm', { cron: '* * * * *', maxTriggers: '3' }) as CronAlarm).maxTriggers).toBe(3);
    expect((create('alarm', { cron: '* * * * *', maxTriggers: -1 }) as CronAlarm).maxTriggers).toBe(-1);
    expect(refused(() => create('alarm', { cron: '* * * * *', maxTriggers: 0 })).message).toMatch(/maxTriggers parameter must be -1/);
    expect(refused(() => create('alarm', { cron: '* * * * *', maxTriggers: 2, stopDate: NOW + 3600_000 })).message).toBe(
      'maxTriggers is not allowed when the stopDate parameter is specified',
    );
  });

  it('reads strict, includeSchedule and the catch-up policy', () => {
    const c = create('alarm', { cron: '* * * * *', strict: 'TRUE', includeSchedule: 'false', catchUp: 5, catchUpWindow: '120' }) as CronAlarm;
    expect(c).toMatchObject({ strict: true, includeSchedule: false, catchUp: 5, catchUpWindow: 120 });
    expect(refused(() => create('alarm', { cron: '* * * * *', catchUp: -1 })).message).toMatch(/catchUp parameter must be an integer from 0 to 100/);
    expect(refused(() => create('alarm', { cron: '* * * * *', catchUp: 1.5 })).message).toBe('the catchUp parameter must be an integer');
    expect(refused(() => create('alarm', { cron: '* * * * *', catchUpWindow: 0 })).message).toMatch(/catchUpWindow parameter must be a number of seconds/);
    expect(refused(() => create('alarm', { cron: '* * * * *', includeSchedule: 'yes' })).message).toBe('includeSchedule parameter must be true or false');
  });
});

describe('trigger_payload (37)', () => {
  it('is the object itself; a string becomes {payload}; empty is {}', () => {
    expect(parsePayload({ a: 1 })).toEqual({ a: 1 });
    expect(parsePayload('hi')).toEqual({ payload: 'hi' });
    expect(parsePayload('{"a":1}')).toEqual({ payload: '{"a":1}' });
    expect(parsePayload('')).toEqual({});
    expect(parsePayload(undefined)).toEqual({});
    expect(() => parsePayload([1])).toThrow(/trigger_payload must be an object or a string/);
  });
});

describe('once parameters (27, 32)', () => {
  it('needs a valid future date', () => {
    expect(refused(() => create('once', {})).message).toBe('alarms once trigger feed is missing the date parameter');
    expect(refused(() => create('once', { date: 'someday' })).message).toBe("date parameter 'someday' is not a valid Date");
    expect(refused(() => create('once', { date: NOW })).message).toBe(`date parameter '${NOW}' must be in the future`);
    expect(create('once', { date: '2030-06-01T12:00:05Z' })).toMatchObject({ type: 'once', date: NOW + 5000, deleteAfterFire: 'false' });
  });

  it('reads deleteAfterFire case-insensitively, trimmed', () => {
    expect(create('once', { date: NOW + 1, deleteAfterFire: true })).toMatchObject({ deleteAfterFire: 'true' });
    expect(create('once', { date: NOW + 1, deleteAfterFire: ' Rules ' })).toMatchObject({ deleteAfterFire: 'rules' });
    expect(refused(() => create('once', { date: NOW + 1, deleteAfterFire: 'yes' })).message).toBe('deleteAfterFire parameter must be one of [false, true, rules].');
  });
});

describe('interval parameters (34, 35)', () => {
  it('needs a whole number of minutes above zero', () => {
    expect(refused(() => create('interval', {})).message).toBe('interval trigger feed is missing the minutes parameter');
    expect(refused(() => create('interval', { minutes: 0 })).message).toBe('interval trigger feed is missing the minutes parameter');
    expect(refused(() => create('interval', { minutes: 5.5 })).message).toBe('the minutes parameter must be an integer');
    expect(refused(() => create('interval', { minutes: -2 })).message).toBe('the minutes parameter must be an integer greater than zero');
  });

  it('starts 30 s after creation unless told', () => {
    expect(create('interval', { minutes: '2' })).toMatchObject({ type: 'interval', minutes: 2, startDate: NOW + 30_000, maxTriggers: -1 });
    expect(create('interval', { minutes: 1, startDate: NOW + 5000 })).toMatchObject({ startDate: NOW + 5000 });
    expect(refused(() => create('interval', { minutes: 1, stopDate: NOW + 10_000 })).message).toMatch(/must be greater than the startDate/);
  });
});

describe('UPDATE (38)', () => {
  const stored = create('alarm', { cron: '* * * * *', trigger_payload: { a: 1 } });

  it('refuses an update with nothing updatable', () => {
    expect(refused(() => validateAlarmUpdate(stored, {}, NOW, rules)).message).toBe('no updatable parameters were specified');
    expect(refused(() => validateAlarmUpdate(stored, { minutes: 3 }, NOW, rules)).message).toBe('no updatable parameters were specified');
  });

  it('changes only what is given, with the same checks as CREATE', () => {
    const next = validateAlarmUpdate(stored, { timezone: 'Asia/Tokyo' }, NOW, rules) as CronAlarm;
    expect(next).toMatchObject({ cron: '* * * * *', timezone: 'Asia/Tokyo', payload: { a: 1 } });
    expect(validateAlarmUpdate(stored, { trigger_payload: 'x' }, NOW, rules)).toMatchObject({ payload: { payload: 'x' } });
    expect(refused(() => validateAlarmUpdate(stored, { cron: 'nope' }, NOW, rules)).message).toMatch(/cron pattern 'nope' is not valid/);
    const once: AlarmConfig = create('once', { date: NOW + 1000 });
    expect(validateAlarmUpdate(once, { date: NOW + 5000 }, NOW, rules)).toMatchObject({ date: NOW + 5000 });
    expect(refused(() => validateAlarmUpdate(once, { date: NOW - 5 }, NOW, rules)).message).toMatch(/must be in the future/);
  });
});
