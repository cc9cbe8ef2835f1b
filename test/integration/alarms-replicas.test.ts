import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedApi, startFakeController, startReplica, tally, type FakeController, type Replica } from './alarms-support.js';

/**
 * The alarms provider as the cluster runs it: several `whiskhub provider alarms` processes on the
 * real CouchDB (registrations, WHISKHUB_FEEDS_STORE=store: the e2e alarms-cluster case covers the
 * default, Redis) and Redis (BullMQ schedules and fire queue), firing at a controller that records
 * every fire and dedupes nothing, so a tick fired twice would show.
 */
function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the services with deploy/dev/services-up.sh and source .data/services/env`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const prefix = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let controller: FakeController;
let env: Record<string, string>;
const replicas: Replica[] = [];

async function metric(r: Replica, event: string): Promise<number> {
  const text = await fetch(`${r.url}/feeds/v1/metrics`).then((res) => res.text());
  return Number(new RegExp(`whiskhub_feed_events_total\\{provider="alarms",event="${event}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

const scheduled = (fires: FakeController['fires'], trigger: string) =>
  fires.filter((f) => f.trigger === trigger).map((f) => Date.parse(f.body.alarm.scheduledTime));

beforeAll(async () => {
  controller = await startFakeController();
  env = {
    WHISKHUB_STORE: 'couchdb',
    WHISKHUB_FEEDS_STORE: 'store',
    WHISKHUB_COUCHDB_URL: need('WHISKHUB_COUCHDB_URL'),
    WHISKHUB_COUCHDB_PREFIX: `${prefix}_`,
    WHISKHUB_REDIS_URL: need('WHISKHUB_REDIS_URL'),
    WHISKHUB_FEEDS_QUEUE_PREFIX: prefix,
    WHISKHUB_FEEDS_CONTROLLER_URL: controller.url,
    WHISKHUB_FEEDS_RETRY_BASE_MS: '100',
    WHISKHUB_ALARMS_LATE_TOLERANCE_MS: '3000',
  };
  // One first, so the databases are created once; then two more.
  replicas.push(await startReplica(env));
  replicas.push(...(await Promise.all([startReplica(env), startReplica(env)])));
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await r.stop('SIGKILL');
  await controller?.close();
  // Leave no queues or databases behind.
  const redis = new Redis(env.WHISKHUB_REDIS_URL);
  for (const pattern of [`bull:${prefix}-*`, `whiskhub:alarm-plans:${prefix}-*`]) {
    const keys = await redis.keys(pattern);
    if (keys.length) await redis.del(...keys);
  }
  await redis.quit();
  const dbs = (await fetch(`${env.WHISKHUB_COUCHDB_URL}/_all_dbs`).then((r) => r.json())) as string[];
  for (const db of dbs.filter((d) => d.startsWith(`${prefix}_`))) await fetch(`${env.WHISKHUB_COUCHDB_URL}/${db}`, { method: 'DELETE' });
});

describe('alarms provider replicas on Redis', () => {
  it('fire every tick of every alarm once, share the work, and go on when a replica is killed', async () => {
    const names = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
    for (const [i, name] of names.entries()) {
      controller.triggers.add(name);
      const r = await feedApi(replicas[i % 3], 'POST', name, { feed: 'alarm', cron: '* * * * * *' });
      expect(r.status).toBe(200);
    }
    await sleep(8_000);
    const before = tally(controller.fires);
    expect(before.duplicates).toEqual([]);
    for (const name of names) expect(before.per.get(name)!.length).toBeGreaterThanOrEqual(6);
    const firedBy = await Promise.all(replicas.map((r) => metric(r, 'fired')));
    expect(firedBy.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2); // the work is shared

    const killedAt = Date.now();
    expect(await replicas[0].stop('SIGKILL')).toBe(null);
    await sleep(20_000);

    const after = tally(controller.fires);
    // A fire in flight in the killed replica may be posted again by another replica with the same
    // idempotency key (the real controller answers it with the first fire's activation); nothing else may repeat.
    for (const dup of after.duplicates) {
      const [trigger, key] = dup.split(' ');
      const first = controller.fires.find((f) => f.trigger === trigger && f.key === key)!;
      expect(Math.abs(first.at - killedAt)).toBeLessThan(2_000);
    }
    const lost: number[] = [];
    for (const name of names) {
      const times = scheduled(controller.fires, name);
      // Still firing every second, well after the kill (another replica holds every schedule).
      expect(times.filter((t) => t > killedAt + 16_000).length).toBeGreaterThanOrEqual(3);
      const unique = [...new Set(times)].sort((a, b) => a - b);
      const span = (unique[unique.length - 1] - unique[0]) / 1000 + 1;
      // None lost: the ticks the killed replica held are redelivered to another and fired late.
      lost.push(span - unique.length);
      expect(span - unique.length).toBe(0);
    }
    console.log(`replicas: fired per replica before the kill ${firedBy.join('/')}; ticks lost per alarm around the kill ${lost.join(',')}; repeated posts of in-flight fires ${after.duplicates.length}`);
    const read = await feedApi(replicas[1], 'GET', 'r0');
    expect(read.body.counters.fired).toBeGreaterThanOrEqual(20);
    for (const name of names) await feedApi(replicas[1 + (names.indexOf(name) % 2)], 'DELETE', name);
    await sleep(1_500);
    const stopped = controller.fires.length;
    await sleep(2_500);
    expect(controller.fires.length).toBe(stopped);
  }, 90_000);

  it('shares lifecycle state: created on one replica, paused on another, resumed and deleted on a third; a 404 disables', async () => {
    const [, a, b] = replicas;
    controller.triggers.add('shared');
    expect((await feedApi(a, 'POST', 'shared', { feed: 'alarm', cron: '* * * * * *', trigger_payload: { via: 'a' } })).status).toBe(200);
    await sleep(2_500);
    expect(scheduled(controller.fires, 'shared').length).toBeGreaterThanOrEqual(1);
    expect((await feedApi(b, 'POST', 'shared', undefined, '/pause')).body).toMatchObject({ active: false });
    await sleep(1_500);
    const paused = scheduled(controller.fires, 'shared').length;
    await sleep(3_000);
    expect(scheduled(controller.fires, 'shared').length).toBe(paused);
    expect((await feedApi(a, 'POST', 'shared', undefined, '/unpause')).body).toMatchObject({ active: true });
    await sleep(3_000);
    expect(scheduled(controller.fires, 'shared').length).toBeGreaterThan(paused + 1);

    controller.triggers.delete('shared'); // deleted behind the provider's back
    await sleep(2_500);
    const read = await feedApi(b, 'GET', 'shared');
    expect(read.status).toBe(200);
    expect(read.body.status).toMatchObject({ active: false, reason: { kind: 'AUTO', statusCode: 404 } });
    expect((await feedApi(a, 'DELETE', 'shared')).body).toEqual({ status: 'success' });
  }, 60_000);

  it('after every replica was down, skips the missed ticks or catches up the newest ones when asked', async () => {
    controller.triggers.add('cu');
    controller.triggers.add('skip');
    const a = replicas[1];
    await feedApi(a, 'POST', 'cu', { feed: 'alarm', cron: '* * * * * *', catchUp: 2 });
    await feedApi(a, 'POST', 'skip', { feed: 'alarm', cron: '* * * * * *' });
    await sleep(2_500);
    await Promise.all(replicas.slice(1).map((r) => r.stop('SIGTERM')));
    const downAt = Date.now();
    await sleep(8_000);
    const back = await startReplica(env);
    replicas.push(back);
    await sleep(4_000);
    const late = controller.fires.filter((f) => f.trigger === 'cu' && f.body.alarm.late === true);
    expect(late).toHaveLength(2);
    expect(late.every((f) => Date.parse(f.body.alarm.scheduledTime) > downAt)).toBe(true);
    const cu = await feedApi(back, 'GET', 'cu');
    expect(cu.body.counters.caughtUp).toBe(2);
    expect(cu.body.counters.missed).toBeGreaterThanOrEqual(3);
    const skip = await feedApi(back, 'GET', 'skip');
    expect(skip.body.counters).toMatchObject({ caughtUp: 0 });
    expect(skip.body.counters.missed).toBeGreaterThanOrEqual(5);
    expect(controller.fires.filter((f) => f.trigger === 'skip' && f.body.alarm.late)).toEqual([]);
    // And both go on firing on schedule.
    const now = Date.now();
    await sleep(2_500);
    for (const t of ['cu', 'skip']) expect(controller.fires.filter((f) => f.trigger === t && f.at > now).length).toBeGreaterThanOrEqual(1);
    expect(tally(controller.fires.filter((f) => f.trigger === 'cu' || f.trigger === 'skip')).duplicates).toEqual([]);
  }, 90_000);
});
