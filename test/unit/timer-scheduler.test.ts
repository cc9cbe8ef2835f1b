import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmTick } from '../../feeds/alarms/scheduler.js';
import { TimerScheduler } from '../../feeds/alarms/timer-scheduler.js';
import { createLogger } from '../../src/logging/logger.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the in-process alarm scheduler', () => {
  let s: TimerScheduler;
  afterEach(async () => s?.stop());

  async function started(more: (t: AlarmTick) => boolean = () => true, prepareMs = 0) {
    const ticks: (AlarmTick & { woke: number })[] = [];
    s = new TimerScheduler(createLogger('silent', 'test'), prepareMs);
    await s.start(async (t) => {
      ticks.push({ ...t, woke: Date.now() });
      return more(t);
    });
    return ticks;
  }

  it('hands out each cron tick on its second, within milliseconds, and a removed plan ticks no more', async () => {
    const ticks = await started();
    await s.upsert('a', 1, { kind: 'cron', pattern: '* * * * * *' });
    await s.upsert('b', 7, { kind: 'cron', pattern: '* * * * * *' });
    await sleep(2_300);
    await s.remove('b');
    const bCount = ticks.filter((t) => t.id === 'b').length;
    await sleep(1_200);
    const a = ticks.filter((t) => t.id === 'a');
    expect(a.length).toBeGreaterThanOrEqual(3);
    for (const t of a) {
      expect(t.scheduledAt % 1000).toBe(0);
      expect(t.woke - t.scheduledAt).toBeGreaterThanOrEqual(0);
      expect(t.woke - t.scheduledAt).toBeLessThan(50);
    }
    expect(new Set(a.map((t) => t.scheduledAt)).size).toBe(a.length); // each tick once
    expect(bCount).toBeGreaterThanOrEqual(2);
    expect(ticks.filter((t) => t.id === 'b').length).toBe(bCount);
    expect(ticks.find((t) => t.id === 'b')!.generation).toBe(7);
    expect([...(await s.plans())]).toEqual([['a', 1]]);
  });

  it('fires a once plan once, an interval on its grid, and drops a plan whose handler says so', async () => {
    const ticks = await started((t) => t.id !== 'stop');
    const now = Date.now();
    await s.upsert('once', 1, { kind: 'once', at: now + 300 });
    await s.upsert('every', 1, { kind: 'interval', everyMs: 400, startDate: now + 100 });
    await s.upsert('stop', 1, { kind: 'cron', pattern: '* * * * * *' });
    await sleep(1_500);
    expect(ticks.filter((t) => t.id === 'once').map((t) => t.scheduledAt)).toEqual([now + 300]);
    const grid = ticks.filter((t) => t.id === 'every').map((t) => t.scheduledAt);
    expect(grid.slice(0, 3)).toEqual([now + 100, now + 500, now + 900]);
    expect(ticks.filter((t) => t.id === 'stop').length).toBeLessThanOrEqual(1);
    expect((await s.plans()).has('stop')).toBe(false);
  });

  it('replaces a plan: the new generation ticks, the old does not', async () => {
    const ticks = await started();
    await s.upsert('x', 1, { kind: 'cron', pattern: '* * * * * *' });
    await s.upsert('x', 2, { kind: 'cron', pattern: '* * * * * *' });
    await sleep(1_300);
    expect(ticks.length).toBeGreaterThanOrEqual(1);
    expect(ticks.every((t) => t.generation === 2)).toBe(true);
  });

  it('with a lead, hands each tick out that long before its time, marked prepared, with its real time', async () => {
    const ticks = await started(() => true, 150);
    // Made just after a second begins, so even its first tick is more than the lead away (a plan
    // made within the lead of its first tick hands that tick out at once, less than the lead early).
    await sleep(1000 - (Date.now() % 1000) + 10);
    await s.upsert('a', 1, { kind: 'cron', pattern: '* * * * * *' });
    await sleep(2_300);
    const a = ticks.filter((t) => t.id === 'a');
    expect(a.length).toBeGreaterThanOrEqual(2);
    for (const t of a) {
      expect(t.scheduledAt % 1000).toBe(0);
      expect(t.prepared).toBe(true);
      expect(t.scheduledAt - t.woke).toBeGreaterThan(100);
      expect(t.scheduledAt - t.woke).toBeLessThanOrEqual(150);
    }
    expect(new Set(a.map((t) => t.scheduledAt)).size).toBe(a.length);
  });
});
