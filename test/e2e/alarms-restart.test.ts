import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REGISTRATIONS, type Registration } from '../../feeds/kit/registration.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';
import { ECHO, feedClient, sleep, until } from './alarms-support.js';

/**
 * Alarms across a standalone restart on the same data directory: maxTriggers is a persisted
 * counter (N fires in all, not N per process lifetime), and the catch-up policy fires the newest
 * missed ticks late while the rest are counted as missed.
 */
const ENV = { WHISKHUB_CONTAINER_FACTORY: 'process', WHISKHUB_AUTH_CACHE_MS: '0', WHISKHUB_ALARMS_LATE_TOLERANCE_MS: '1000' };
let wh: StandaloneProcess;
const f = feedClient(() => wh);

afterAll(async () => {
  if (wh) expect(await wh.stop()).toBe(0);
});

describe('alarms across a restart', () => {
  it('keeps maxTriggers across a restart and catches up missed ticks when asked', async () => {
    wh = await startStandaloneProcess({ env: ENV });
    for (const name of ['limited-echo', 'catchup-echo']) await f.api('PUT', `/actions/${name}`, { exec: { kind: 'nodejs:default', code: ECHO } });

    expect((await f.create('limited', 'alarm', { cron: '* * * * * *', maxTriggers: 6 })).status).toBe(200);
    await f.api('PUT', '/rules/limited-rule', { trigger: '/_/limited', action: '/_/limited-echo' });
    expect((await f.create('catchup', 'alarm', { cron: '* * * * * *', catchUp: 2, catchUpWindow: 600 })).status).toBe(200);
    await f.api('PUT', '/rules/catchup-rule', { trigger: '/_/catchup', action: '/_/catchup-echo' });
    await f.create('skipper', 'alarm', { cron: '* * * * * *' }); // catch-up off: missed ticks are counted, not fired

    await until('two limited fires', async () => f.result(await f.get('limited')).counters.fired >= 2);
    expect(await wh.stop()).toBe(0);
    const downAt = Date.now();
    await sleep(4_000);
    wh = await startStandaloneProcess({ dataDir: wh.dataDir, env: ENV });
    const downMs = Date.now() - downAt;

    // The sixth tick ends the registration when it is claimed (up to WHISKHUB_ALARMS_PREPARE_MS
    // before its time); its fire is counted once the controller has accepted it, a moment later.
    const limited = await until('limited to end and its last fire to be counted', async () => {
      const r = f.result(await f.get('limited'));
      return r.status.active === false && r.counters.fired >= 6 ? r : undefined;
    }, 30_000);
    expect(limited.status.reason).toMatchObject({ kind: 'AUTO', message: 'Automatically disabled after reaching maxTriggers (6)' });
    expect(limited.counters).toMatchObject({ fired: 6, remaining: 0 });
    await sleep(2_000);
    expect(await f.count('limited-echo')).toBe(6);
    expect(await f.count('limited')).toBe(6);

    const late = (await f.results('catchup-echo')).filter((p) => p.alarm.late === true);
    expect(late).toHaveLength(2);
    const lateTimes = late.map((p) => Date.parse(p.alarm.scheduledTime)).sort();
    expect(lateTimes[1] - lateTimes[0]).toBe(1000);
    const catchup = f.result(await f.get('catchup'));
    expect(catchup.counters.caughtUp).toBe(2);
    expect(catchup.counters.missed).toBeGreaterThanOrEqual(1);
    const skipper = f.result(await f.get('skipper'));
    expect(skipper.counters.missed).toBeGreaterThanOrEqual(Math.floor(downMs / 1000) - 3);
    expect(skipper.counters.caughtUp).toBe(0);
    expect(skipper.status.active).toBe(true);

    // No scheduled time fired twice, across both lives of the process.
    const times = (await f.results('catchup-echo')).map((p) => p.alarm.scheduledTime);
    expect(new Set(times).size).toBe(times.length);
  });

  it('fires a tick that was claimed but not queued when the process died between the two', async () => {
    if (wh) expect(await wh.stop()).toBe(0);
    wh = await startStandaloneProcess({ env: ENV });
    await f.api('PUT', '/actions/claimed-echo', { exec: { kind: 'nodejs:default', code: ECHO } });
    // Every 10 s: its next tick is far enough off not to come by itself during the test.
    expect((await f.create('claimed', 'alarm', { cron: '*/10 * * * * *' })).status).toBe(200);
    await f.api('PUT', '/rules/claimed-rule', { trigger: '/_/claimed', action: '/_/claimed-echo' });
    await until('a first fire, counted', async () => f.result(await f.get('claimed')).counters.fired >= 1, 30_000);
    expect(await wh.stop()).toBe(0);

    // What a kill -9 between the claim and the fire's queueing leaves: one tick more claimed
    // (lastEvent, recentEvents) than fired (lastFire), and no fire job for it.
    const store = await createEmbeddedStore(join(wh.dataDir, 'store'));
    const got = (await store.getDoc<Registration<unknown>>(REGISTRATIONS, 'alarms/guest/claimed'))!;
    const fired = Date.parse(got.doc.lastFire!.scheduledTime);
    const lost = got.doc.lastEvent! + 10_000;
    await store.putDoc(REGISTRATIONS, got.id, { ...got.doc, lastEvent: lost, recentEvents: [...(got.doc.recentEvents ?? []), lost] }, got.rev);
    await store.close();

    wh = await startStandaloneProcess({ dataDir: wh.dataDir, env: ENV });
    const times = await until('the claimed tick to fire', async () => {
      const t = (await f.results('claimed-echo')).map((p) => Date.parse(p.alarm.scheduledTime));
      return t.includes(lost) ? t : undefined;
    }, 30_000);
    // The tick that had fired and been counted is not fired again; none fires twice.
    expect(times.filter((t) => t === fired)).toHaveLength(1);
    expect(new Set(times).size).toBe(times.length);
    await until('its fire counted', async () => Date.parse(f.result(await f.get('claimed')).lastFire?.scheduledTime ?? '0') >= lost, 30_000);
  });
});
