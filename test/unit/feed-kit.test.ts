import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ALARM_RULES } from '../../feeds/alarms/alarm-config.js';
import type { AlarmPlan, AlarmScheduler, TickHandler } from '../../feeds/alarms/scheduler.js';
import { AlarmsProvider } from '../../feeds/alarms/start.js';
import type { ControllerClient, FireAnswer, TriggerInfo } from '../../feeds/kit/controller-client.js';
import { FeedKit } from '../../feeds/kit/feed-kit.js';
import { isFatal, retryDelay } from '../../feeds/kit/firer.js';
import { FeedLifecycle } from '../../feeds/kit/lifecycle.js';
import { EmbeddedFeedFireQueue } from '../../feeds/kit/queues/embedded-feed-queue.js';
import { Registrations } from '../../feeds/kit/registrations.js';
import { HubError } from '../../src/entities/errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { StoreConflictError, type ArtifactStore } from '../../src/store/artifact-store.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';

/**
 * The feed kit and the alarms provider without timers or HTTP: a scheduler whose ticks the test
 * delivers, and a controller that answers what the test says. On the embedded store.
 */
const KEY = '11111111-2222-3333-4444-555555555555:' + 'k'.repeat(64);
const OTHER = '99999999-2222-3333-4444-555555555555:' + 'o'.repeat(64);
const logger = createLogger('silent');

class ManualScheduler implements AlarmScheduler {
  readonly name = 'manual';
  readonly planned = new Map<string, { generation: number; plan: AlarmPlan }>();
  onTick?: TickHandler;
  async start(onTick: TickHandler) {
    this.onTick = onTick;
  }
  async upsert(id: string, generation: number, plan: AlarmPlan) {
    this.planned.set(id, { generation, plan });
  }
  async remove(id: string) {
    this.planned.delete(id);
  }
  async plans() {
    return new Map([...this.planned].map(([id, p]) => [id, p.generation]));
  }
  async stop() {}
  /** Delivers tick `at` of registration `id` as the scheduler would. */
  tick(id: string, at: number, prepared = false) {
    const p = this.planned.get(id);
    if (!p) throw new Error(`${id} has no plan`);
    return this.onTick!({ id, generation: p.generation, scheduledAt: at, ...(prepared ? { prepared } : {}) });
  }
}

class FakeController implements ControllerClient {
  fires: { ns: string; name: string; payload: Record<string, unknown>; key: string }[] = [];
  triggers = new Map<string, { owner: string; rules?: Record<string, unknown> }>();
  answers: FireAnswer[] = [];
  deleted: string[] = [];
  /** When set, fire() waits for it before answering: lets a test act while a fire is in flight. */
  hold?: Promise<void>;
  async getTrigger(ns: string, name: string, authKey: string): Promise<TriggerInfo> {
    if (authKey !== KEY) return { status: 401, error: 'The supplied authentication is invalid' };
    if (ns !== 'guest') return { status: 403, error: 'forbidden' };
    const t = this.triggers.get(name);
    return t ? { status: 200, body: { name, namespace: ns, rules: t.rules } } : { status: 404, error: 'The requested resource does not exist.' };
  }
  async namespaceOf(authKey: string) {
    return authKey === KEY ? 'guest' : undefined;
  }
  async fire(ns: string, name: string, key: string, payload: Record<string, unknown>, idempotencyKey: string): Promise<FireAnswer> {
    this.fires.push({ ns, name, payload: { ...payload, idempotencyKey }, key });
    if (this.hold) await this.hold;
    return this.answers.shift() ?? (this.triggers.has(name) ? { status: 202, activationId: `a${this.fires.length}` } : { status: 404, error: 'gone' });
  }
  async deleteTrigger(_ns: string, name: string) {
    this.deleted.push(`trigger:${name}`);
    return this.triggers.delete(name) ? 200 : 404;
  }
  async deleteRule(ns: string, name: string) {
    this.deleted.push(`rule:${ns}/${name}`);
    return 200;
  }
}

let store: ArtifactStore;
let controller: FakeController;
const running: FeedKit[] = [];

async function startReplica(countDelayMs = 0) {
  const scheduler = new ManualScheduler();
  const alarms = new AlarmsProvider(scheduler, new Registrations(store), { ...DEFAULT_ALARM_RULES, lateToleranceMs: 60_000 }, logger);
  const kit = new FeedKit({
    countDelayMs,
    store,
    queue: new EmbeddedFeedFireQueue(store, logger),
    controller,
    providers: [alarms],
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    logger,
  });
  await kit.start();
  running.push(kit);
  return { kit, scheduler, alarms, lifecycle: new FeedLifecycle(kit) };
}

const req = (trigger: string, namespace = '_', authKey = KEY) => ({ provider: 'alarms', namespace, trigger, authKey });
const ID = (t: string) => `alarms/guest/${t}`;
const settle = async (kit: FeedKit) => {
  for (let i = 0; i < 200 && (await kit.health()).queue && ((await kit.health()).queue as { pending: number }).pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
};
const at = (s: number) => Date.parse('2030-01-01T00:00:00Z') + s * 1000;

async function status(h: HubError | unknown): Promise<number> {
  return (h as HubError).status;
}

beforeEach(async () => {
  store = await createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-feedkit-')));
  controller = new FakeController();
  controller.triggers.set('t', { owner: 'guest' });
});

afterEach(async () => {
  for (const kit of running.splice(0)) await kit.stop();
  await store.close();
});

describe('lifecycle', () => {
  it('stores `_` under the caller\'s namespace, without showing the key (2, 9)', async () => {
    const { lifecycle } = await startReplica();
    const created = await lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *' });
    expect(created).toMatchObject({ status: 'success', trigger: '/guest/t' });
    const read = await lifecycle.read(req('t'));
    expect(read).toMatchObject({ config: { name: 't', namespace: 'guest', cron: '* * * * * *' }, status: { active: true }, feed: 'alarm' });
    expect(JSON.stringify(read)).not.toContain(KEY.split(':')[1]);
    expect((await store.getDoc('feed-registrations', ID('t')))?.doc).toMatchObject({ authKey: KEY });
  });

  it('fails CREATE with the status of the trigger check: 401, 403, 404 (3)', async () => {
    const { lifecycle } = await startReplica();
    const codes: number[] = [];
    for (const r of [req('t', 'guest', OTHER), req('t', 'someone-else'), req('missing')]) {
      codes.push(await lifecycle.create(r, 'alarm', { cron: '* * * * *' }).then(() => 0, status));
    }
    expect(codes).toEqual([401, 403, 404]);
    expect(await new Registrations(store).list('alarms')).toEqual([]);
  });

  it('DELETE tolerates a trigger that is gone (4), and refuses an unknown registration (5)', async () => {
    const { lifecycle, scheduler } = await startReplica();
    await lifecycle.create(req('t'), 'alarm', { cron: '* * * * *' });
    controller.triggers.delete('t');
    expect(await lifecycle.delete(req('t'))).toEqual({ status: 'success' });
    expect(scheduler.planned.size).toBe(0);
    expect(await lifecycle.delete(req('t')).then(() => 0, status)).toBe(404);
  });

  it('CREATE over an existing registration replaces it (6); unknown events never reach it (8)', async () => {
    const { lifecycle, scheduler } = await startReplica();
    await lifecycle.create(req('t'), 'alarm', { cron: '* * * * *' });
    const first = scheduler.planned.get(ID('t'))!.generation;
    await lifecycle.create(req('t'), 'interval', { minutes: 2 });
    expect(scheduler.planned.get(ID('t'))!.generation).toBeGreaterThan(first);
    expect(scheduler.planned.get(ID('t'))!.plan).toMatchObject({ kind: 'interval', everyMs: 120_000 });
    expect((await lifecycle.read(req('t'))).feed).toBe('interval');
    expect(await lifecycle.create(req('t'), 'weekly', {}).then(() => 0, status)).toBe(400);
  });

  it('PAUSE stops, UNPAUSE restores (7); UPDATE re-enables an auto-disabled feed (39) but not an admin-disabled one (40)', async () => {
    const { lifecycle, scheduler, kit } = await startReplica();
    await lifecycle.create(req('t'), 'alarm', { cron: '* * * * *' });
    expect(await lifecycle.pause(req('t'))).toMatchObject({ active: false, reason: { kind: 'USER' } });
    expect(scheduler.planned.has(ID('t'))).toBe(false);
    expect(await lifecycle.unpause(req('t'))).toMatchObject({ active: true });
    expect(scheduler.planned.has(ID('t'))).toBe(true);

    await kit.disable(ID('t'), { kind: 'AUTO', statusCode: 401, message: 'key revoked' });
    expect((await lifecycle.read(req('t'))).status).toMatchObject({ active: false, reason: { kind: 'AUTO', statusCode: 401 } });
    await lifecycle.update(req('t'), { cron: '*/2 * * * *' });
    expect((await lifecycle.read(req('t'))).status).toEqual(expect.objectContaining({ active: true }));
    expect(scheduler.planned.get(ID('t'))!.plan).toMatchObject({ pattern: '*/2 * * * *' });

    await kit.disable(ID('t'), { kind: 'ADMIN', message: 'abuse' });
    expect(await lifecycle.update(req('t'), { cron: '* * * * *' }).then(() => 0, status)).toBe(400);
    expect(await lifecycle.unpause(req('t')).then(() => 0, status)).toBe(400);
  });
});

describe('ticks and fires', () => {
  it('fires each tick once with its idempotency key, even when delivered twice or to two replicas (42, 10, 11)', async () => {
    const a = await startReplica();
    const b = await startReplica();
    await a.lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *', trigger_payload: { x: 1 } });
    await b.scheduler.upsert(ID('t'), a.scheduler.planned.get(ID('t'))!.generation, a.scheduler.planned.get(ID('t'))!.plan);
    const now = Math.floor(Date.now() / 1000);
    const t1 = now * 1000;
    await Promise.all([a.scheduler.tick(ID('t'), t1), b.scheduler.tick(ID('t'), t1), a.scheduler.tick(ID('t'), t1)]);
    await a.scheduler.tick(ID('t'), t1 + 1000);
    await settle(a.kit);
    await settle(b.kit);
    expect(controller.fires.map((f) => f.payload.idempotencyKey)).toEqual([`alarm:${new Date(t1).toISOString()}`, `alarm:${new Date(t1 + 1000).toISOString()}`]);
    expect(controller.fires[0]).toMatchObject({ ns: 'guest', name: 't', key: KEY, payload: { x: 1, alarm: { scheduledTime: new Date(t1).toISOString() } } });
    const read = await a.lifecycle.read(req('t'));
    expect(read.counters).toMatchObject({ fired: 2, failed: 0 });
    expect(read.lastFire).toMatchObject({ statusCode: 202, scheduledTime: new Date(t1 + 1000).toISOString() });
  });

  it('fires, in order and once, the ticks a scheduler skipped that are still within the tolerance (BullMQ skips ticks when its workers run behind)', async () => {
    const { lifecycle, scheduler, kit } = await startReplica();
    await lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *' });
    const t1 = Math.floor(Date.now() / 1000) * 1000;
    await scheduler.tick(ID('t'), t1);
    // The next three ticks never come; the fourth does.
    await scheduler.tick(ID('t'), t1 + 4000);
    await scheduler.tick(ID('t'), t1 + 4000);
    await settle(kit);
    const times = controller.fires.map((f) => (f.payload.alarm as { scheduledTime: string }).scheduledTime);
    expect(times).toEqual([0, 1, 2, 3, 4].map((s) => new Date(t1 + s * 1000).toISOString()));
    expect(controller.fires.every((f) => (f.payload.alarm as { late?: boolean }).late !== true)).toBe(true);
    const read = await lifecycle.read(req('t'));
    expect(read.counters).toMatchObject({ fired: 5, missed: 0, caughtUp: 0 });
    expect(await kit.metricsText()).toMatch(/whiskhub_feed_events_total\{provider="alarms",event="gapfilled"\} 3/);
  });

  it('counts fires on the registration in one write when they come close together (cluster), and a stop writes what is still waiting', async () => {
    const { lifecycle, scheduler, kit } = await startReplica(60_000);
    await lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *' });
    const t1 = Math.floor(Date.now() / 1000) * 1000;
    await scheduler.tick(ID('t'), t1);
    await scheduler.tick(ID('t'), t1 + 1000);
    await settle(kit);
    expect(controller.fires).toHaveLength(2);
    // Fired, not yet counted: the count waits for more to join it.
    expect((await lifecycle.read(req('t'))).counters).toMatchObject({ fired: 0 });
    await kit.stop();
    running.splice(running.indexOf(kit), 1);
    const after = (await new Registrations(store).get<unknown>(ID('t')))!.doc;
    expect(after.counters).toMatchObject({ fired: 2 });
    expect(after.lastFire).toMatchObject({ statusCode: 202, scheduledTime: new Date(t1 + 1000).toISOString() });
  });

  it('fires a claimed tick whose write went through although the store answered with a conflict', async () => {
    // The first claim write is applied, then reported as a conflict (an answer lost, a retried request).
    const real = store;
    let lie = true;
    store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'putDoc') return Reflect.get(target, prop, receiver);
        return async (collection: string, id: string, doc: { recentEvents?: number[] }, rev?: string) => {
          const written = await target.putDoc(collection, id, doc, rev);
          if (lie && doc.recentEvents?.length) {
            lie = false;
            throw new StoreConflictError(id);
          }
          return written;
        };
      },
    });
    try {
      const { lifecycle, scheduler, kit } = await startReplica();
      await lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *' });
      const t1 = Math.floor(Date.now() / 1000) * 1000;
      await scheduler.tick(ID('t'), t1);
      await settle(kit);
      expect(lie, 'the claim write was answered with a conflict').toBe(false);
      expect(controller.fires.map((f) => (f.payload.alarm as { scheduledTime: string }).scheduledTime)).toEqual([new Date(t1).toISOString()]);
    } finally {
      store = real;
    }
  });

  it('disables on a fatal answer with the status and message (12, 73, 75), and retries then dead-letters others without disabling (13)', async () => {
    const { lifecycle, scheduler, kit } = await startReplica();
    await lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *' });
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    controller.answers.push({ status: 429, retryAfterMs: 10 }, { status: 503, error: 'busy' }, { status: 502 });
    await scheduler.tick(ID('t'), t0);
    await settle(kit);
    await new Promise((r) => setTimeout(r, 100));
    let read = await lifecycle.read(req('t'));
    expect(controller.fires).toHaveLength(3);
    expect(read.status).toMatchObject({ active: true });
    expect(read.counters).toMatchObject({ fired: 0, failed: 1 });
    expect(read.deadLetters).toMatchObject({ count: 1, latest: [{ status: 502, attempts: 3 }] });

    controller.answers.push({ status: 401, error: 'The supplied authentication is invalid' });
    await scheduler.tick(ID('t'), t0 + 1000);
    await settle(kit);
    read = await lifecycle.read(req('t'));
    expect(read.status).toMatchObject({
      active: false,
      reason: { kind: 'AUTO', statusCode: 401, message: expect.stringMatching(/401 status code when firing the trigger: The supplied authentication is invalid/) },
    });
    expect(scheduler.planned.has(ID('t'))).toBe(false);
  });

  it('drops a queued fire of an older generation: a PAUSE wins over a fire in flight (44)', async () => {
    const { lifecycle, scheduler, kit } = await startReplica();
    await lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *' });
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    controller.answers.push({ status: 503 });
    let release!: () => void;
    controller.hold = new Promise((r) => (release = r));
    await scheduler.tick(ID('t'), t0);
    for (let i = 0; i < 200 && controller.fires.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(controller.fires).toHaveLength(1); // in flight, its answer held back
    await lifecycle.pause(req('t'));
    controller.hold = undefined;
    release(); // the 503 arrives after the PAUSE: the retry must see the new generation
    await settle(kit);
    await new Promise((r) => setTimeout(r, 60));
    expect(controller.fires).toHaveLength(1); // the first attempt only; the retry was dropped
    expect((await lifecycle.read(req('t'))).deadLetters).toMatchObject({ count: 0 });
  });

  it('claims a tick handed out ahead of its time at once and fires it at its time, not before, also after a restart', async () => {
    const first = await startReplica();
    // Made just after a second begins, so the plan's first tick (the next second) is most of a
    // second away; a tick on the plan's grid, as a scheduler hands them out (an earlier tick of the
    // grid that never came would be fired with it, as a skipped one).
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    await first.lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *' });
    const at = Math.ceil(Date.now() / 1000) * 1000;
    await first.scheduler.tick(ID('t'), at, true);
    // Claimed and durable now ...
    expect((await first.kit.health()).queue).toMatchObject({ pending: 1 });
    expect(controller.fires).toHaveLength(0);
    // ... and still waiting after a restart of the provider, whose queue picks the job up again.
    await first.kit.stop();
    running.splice(running.indexOf(first.kit), 1);
    const second = await startReplica();
    await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now() - 100)));
    expect(controller.fires).toHaveLength(0);
    while (controller.fires.length === 0 && Date.now() < at + 2_000) await new Promise((r) => setTimeout(r, 2));
    const firedAt = Date.now();
    expect(firedAt).toBeGreaterThanOrEqual(at);
    expect(firedAt - at).toBeLessThan(200);
    expect(controller.fires[0].payload).toMatchObject({ alarm: { scheduledTime: new Date(at).toISOString() } });
    // A second delivery of the same tick (at its time) fires nothing more.
    await second.scheduler.tick(ID('t'), at);
    await settle(second.kit);
    expect(controller.fires).toHaveLength(1);
  });

  it('the fire queue runs a job again when its retry is due before its run has ended (none is lost)', async () => {
    const queue = new EmbeddedFeedFireQueue(store, logger);
    const runs: string[] = [];
    await queue.start(async (j) => {
      runs.push(j.id);
      return runs.length < 3 ? { done: false, job: { ...j, attempts: j.attempts + 1 }, retryInMs: 0 } : { done: true };
    });
    try {
      await queue.enqueue({ id: 'again', registrationId: 'alarms/guest/t', generation: 1, namespace: 'guest', trigger: 't', payload: {}, idempotencyKey: 'k', eventTime: Date.now(), enqueuedAt: Date.now(), attempts: 0 });
      for (let i = 0; i < 100 && (await queue.pending()) > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(runs).toEqual(['again', 'again', 'again']);
      expect(await queue.pending()).toBe(0);
    } finally {
      await queue.stop();
    }
  });

  it('counts maxTriggers down in the store, across a restart (25), then ends', async () => {
    const first = await startReplica();
    await first.lifecycle.create(req('t'), 'alarm', { cron: '* * * * * *', maxTriggers: 3 });
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    await first.scheduler.tick(ID('t'), t0);
    await first.scheduler.tick(ID('t'), t0 + 1000);
    await settle(first.kit);
    await first.kit.stop();
    running.splice(running.indexOf(first.kit), 1);

    const second = await startReplica();
    expect(await second.scheduler.plans()).toEqual(new Map([[ID('t'), expect.any(Number)]]));
    expect(await second.scheduler.tick(ID('t'), t0 + 2000)).toBe(false); // the third and last
    expect(second.scheduler.planned.has(ID('t'))).toBe(false);
    await settle(second.kit);
    expect(controller.fires).toHaveLength(3);
    const read = await second.lifecycle.read(req('t'));
    expect(read.counters).toMatchObject({ fired: 3, remaining: 0 });
    expect(read.status).toMatchObject({ active: false, reason: { message: 'Automatically disabled after reaching maxTriggers (3)' } });
  });

  it('deletes a once alarm\'s trigger and rules after the fire when deleteAfterFire=rules (30, 31)', async () => {
    controller.triggers.set('t', { owner: 'guest', rules: { 'guest/r1': {}, 'guest/r2': {} } });
    const { lifecycle, scheduler, kit } = await startReplica();
    const date = Date.now() + 60_000;
    await lifecycle.create(req('t'), 'once', { date, deleteAfterFire: 'rules' });
    expect(await scheduler.tick(ID('t'), date)).toBe(false);
    await settle(kit);
    for (let i = 0; i < 50 && controller.deleted.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(controller.deleted.sort()).toEqual(['rule:guest/r1', 'rule:guest/r2', 'trigger:t']);
    expect(await new Registrations(store).get(ID('t'))).toBeUndefined();
  });
});

describe('retry policy', () => {
  it('disables on 4xx but 408, 409 and 429; backs off exponentially, never sooner than Retry-After', () => {
    expect([400, 401, 403, 404, 413].every(isFatal)).toBe(true);
    expect([408, 409, 429, 500, 502, 503, 0].some(isFatal)).toBe(false);
    const p = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(retryDelay(p, 1, 0, () => 1)).toBe(100);
    expect(retryDelay(p, 3, 0, () => 1)).toBe(400);
    expect(retryDelay(p, 3, 0, () => 0)).toBe(200);
    expect(retryDelay(p, 10, 0, () => 1)).toBe(1000);
    expect(retryDelay(p, 1, 3000, () => 1)).toBe(3000);
  });
});
