import { describe, expect, it } from 'vitest';
import type { CronAlarm, IntervalAlarm, OnceAlarm } from '../../feeds/alarms/alarm-config.js';
import { firePayload } from '../../feeds/alarms/payload.js';
import { effectivePattern, jitterSecond, nextTicks, ticksBetween } from '../../feeds/alarms/schedule.js';
import { nextGridSlot } from '../../feeds/alarms/scheduler.js';

const common = { payload: { a: 1 }, includeSchedule: true, catchUp: 0, catchUpWindow: 3600 };
const cron = (c: Partial<CronAlarm>): CronAlarm => ({ type: 'alarm', cron: '* * * * *', maxTriggers: -1, ...common, ...c });
const iso = (ms: number[]) => ms.map((t) => new Date(t).toISOString());

describe('cron ticks', () => {
  it('honours the seconds field of 6-field patterns (15) and minutes of 5-field ones (14)', () => {
    const from = Date.parse('2030-01-01T00:00:00Z');
    expect(iso(nextTicks(cron({ cron: '*/20 * * * * *' }), '*/20 * * * * *', from, 3))).toEqual([
      '2030-01-01T00:00:20.000Z',
      '2030-01-01T00:00:40.000Z',
      '2030-01-01T00:01:00.000Z',
    ]);
    expect(iso(nextTicks(cron({}), '* * * * *', from, 2))).toEqual(['2030-01-01T00:01:00.000Z', '2030-01-01T00:02:00.000Z']);
  });

  it('reads the pattern in the timezone, across a DST change (18)', () => {
    // 09:00 in New York: 14:00Z in winter, 13:00Z after the switch on 2030-03-10.
    const c = cron({ cron: '0 9 * * *', timezone: 'America/New_York' });
    expect(iso(nextTicks(c, c.cron, Date.parse('2030-03-08T00:00:00Z'), 4))).toEqual([
      '2030-03-08T14:00:00.000Z',
      '2030-03-09T14:00:00.000Z',
      '2030-03-10T13:00:00.000Z',
      '2030-03-11T13:00:00.000Z',
    ]);
  });

  it('stays within startDate and stopDate', () => {
    const start = Date.parse('2030-01-01T00:00:30Z');
    const stop = Date.parse('2030-01-01T00:03:00Z');
    const c = cron({ startDate: start, stopDate: stop });
    expect(iso(ticksBetween(c, c.cron, 0, Infinity, 10))).toEqual(['2030-01-01T00:01:00.000Z', '2030-01-01T00:02:00.000Z', '2030-01-01T00:03:00.000Z']);
    expect(ticksBetween(c, c.cron, stop, Infinity, 10)).toEqual([]);
  });

  it('lists the ticks in (after, upto], oldest first, capped', () => {
    const from = Date.parse('2030-01-01T00:00:00Z');
    const c = cron({ cron: '* * * * * *' });
    expect(ticksBetween(c, c.cron, from, from + 5000, 100)).toHaveLength(5);
    expect(ticksBetween(c, c.cron, from, from + 5000, 2)).toEqual([from + 1000, from + 2000]);
  });
});

describe('jitter (strict) (26)', () => {
  it('gives a 5-field pattern of a non-strict alarm a stable second; strict or 6-field patterns stay', () => {
    const s = jitterSecond('/guest/t', 30);
    expect(s).toBe(jitterSecond('/guest/t', 30));
    expect(s).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThanOrEqual(30);
    expect(effectivePattern(cron({}), '/guest/t', { delayLimitSeconds: 30 })).toBe(`${s} * * * * *`);
    expect(effectivePattern(cron({ strict: true }), '/guest/t', { delayLimitSeconds: 30 })).toBe('* * * * *');
    expect(effectivePattern(cron({ cron: '5 * * * * *' }), '/guest/t', { delayLimitSeconds: 30 })).toBe('5 * * * * *');
    expect(effectivePattern(cron({}), '/guest/t', { delayLimitSeconds: 0 })).toBe('* * * * *');
    const spread = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => jitterSecond(`/guest/${n}`, 59)));
    expect(spread.size).toBeGreaterThan(3);
  });
});

describe('interval grid (35, 36)', () => {
  const start = Date.parse('2030-01-01T00:00:00Z');
  const c: IntervalAlarm = { type: 'interval', minutes: 5, startDate: start, maxTriggers: -1, ...common };

  it('fires at startDate and every `minutes` after, also when computed later (after a restart)', () => {
    expect(iso(nextTicks(c, undefined, start - 1, 2))).toEqual(['2030-01-01T00:00:00.000Z', '2030-01-01T00:05:00.000Z']);
    expect(iso(nextTicks(c, undefined, start + 7 * 60_000 + 123, 2))).toEqual(['2030-01-01T00:10:00.000Z', '2030-01-01T00:15:00.000Z']);
    expect(nextGridSlot(start, 300_000, start + 300_000)).toBe(start + 300_000);
    expect(nextGridSlot(start, 300_000, start + 300_001)).toBe(start + 600_000);
    expect(nextGridSlot(start, 300_000, start - 5)).toBe(start);
  });

  it('stops at stopDate', () => {
    expect(ticksBetween({ ...c, stopDate: start + 10 * 60_000 }, undefined, start - 1, Infinity, 10)).toHaveLength(3);
  });
});

describe('once', () => {
  it('has one tick', () => {
    const o: OnceAlarm = { type: 'once', date: 1000, deleteAfterFire: 'false', ...common };
    expect(ticksBetween(o, undefined, 0, 2000, 5)).toEqual([1000]);
    expect(ticksBetween(o, undefined, 1000, 2000, 5)).toEqual([]);
  });
});

describe('fire payload', () => {
  it('adds the scheduled time and schedule unless opted out; the user payload wins on `alarm`', () => {
    const at = Date.parse('2030-01-01T00:00:05Z');
    expect(firePayload(cron({ cron: '*/5 * * * * *' }), at, false)).toEqual({
      a: 1,
      alarm: { feed: 'alarm', scheduledTime: '2030-01-01T00:00:05.000Z', cron: '*/5 * * * * *', timezone: 'UTC' },
    });
    expect(firePayload(cron({}), at, true).alarm).toMatchObject({ late: true });
    expect(firePayload(cron({ includeSchedule: false }), at, false)).toEqual({ a: 1 });
    expect(firePayload(cron({ payload: { alarm: 'mine' } }), at, false)).toEqual({ alarm: 'mine' });
  });
});
