import { randomBytes } from 'node:crypto';
import type { Logger } from '../../src/logging/logger.js';
import type { Stored } from '../../src/store/artifact-store.js';
import { eachLimited } from '../kit/each-limited.js';
import type { FeedFireJob } from '../kit/fire-queue.js';
import type { FeedEvents, FeedProvider, FireOutcome } from '../kit/provider.js';
import { iso, RECENT_EVENTS, type Registration, type StatusReason } from '../kit/registration.js';
import type { Registrations } from '../kit/registrations.js';
import type { AlarmConfig, AlarmRules } from './alarm-config.js';
import { firePayload } from './payload.js';
import { effectivePattern, nextTicks, ticksBetween } from './schedule.js';
import type { AlarmPlan, AlarmScheduler, AlarmTick } from './scheduler.js';
import { validateAlarmCreate, validateAlarmUpdate } from './validate.js';

type AlarmRegistration = Registration<AlarmConfig>;

/** Names this process in claim tokens; with the counter, a token no other write carries. */
const PROCESS_ID = randomBytes(6).toString('hex');
let claimSeq = 0;

/** Registrations settled and planned at once when the provider starts. */
const START_LANES = 32;

/** Most skipped ticks fired before a tick (the tolerance bounds them anyway: 10 for a per-second alarm by default). */
const GAP_CAP = 1_000;

/** Upper bound of ticks looked at when counting what was missed. */
const MISSED_SCAN_CAP = 10_000;

/**
 * Up to when a registration's ticks are settled: its last event, but never before it became
 * active. A PAUSE leaves lastEvent from before it; the ticks of the pause are off, not skipped,
 * and must be neither filled in nor counted as missed after UNPAUSE (or UPDATE).
 */
const settledUntil = (reg: AlarmRegistration): number => Math.max(reg.lastEvent ?? -Infinity, reg.activeSince);

/**
 * The alarms provider: feeds `alarm` (cron), `once` and `interval`, compatible with
 * /whisk.system/alarms. Each tick is claimed in the store with a compare-and-set on the
 * registration (`lastEvent` moves forward, `remaining` counts down), so a tick fires at most once
 * whichever replica sees it, and counters survive restarts; then the fire goes to the durable
 * queue with the idempotency key `<feed>:<scheduled time>`. Ticks missed while no replica ran are
 * skipped (counted in `missed`) unless the registration asks for catch-up.
 */
export class AlarmsProvider implements FeedProvider<AlarmConfig> {
  readonly name = 'alarms';
  readonly feeds = ['alarm', 'once', 'interval'] as const;
  private events?: FeedEvents;

  constructor(
    private readonly scheduler: AlarmScheduler,
    private readonly registrations: Registrations,
    private readonly rules: AlarmRules,
    private readonly logger: Logger,
  ) {}

  validateCreate(feed: string, params: Record<string, unknown>, now: number): AlarmConfig {
    return validateAlarmCreate(feed, params, now, this.rules);
  }

  validateUpdate(reg: AlarmRegistration, params: Record<string, unknown>, now: number): AlarmConfig {
    return validateAlarmUpdate(reg.config, params, now, this.rules);
  }

  initialCounters(c: AlarmConfig) {
    return c.type !== 'once' && c.maxTriggers > 0 ? { remaining: c.maxTriggers } : {};
  }

  whyNotActivatable(reg: AlarmRegistration, now: number): string | undefined {
    const c = reg.config;
    if (c.type === 'once' && (c.date <= now || (reg.lastEvent ?? 0) >= c.date)) return `the once alarm's date ${iso(c.date)} has passed: UPDATE it with a new date`;
    if (c.type !== 'once' && c.stopDate !== undefined && c.stopDate <= now) return `the stopDate ${iso(c.stopDate)} has passed: UPDATE it with a new stopDate`;
    if (reg.counters.remaining === 0) return 'maxTriggers is reached: CREATE the feed again to start over';
    return undefined;
  }

  private pattern(reg: AlarmRegistration): string | undefined {
    return reg.config.type === 'alarm' ? effectivePattern(reg.config, `/${reg.namespace}/${reg.trigger}`, this.rules) : undefined;
  }

  describe(reg: AlarmRegistration) {
    const c = reg.config;
    const dates = (k: 'startDate' | 'stopDate') => (c.type !== 'once' && c[k] !== undefined ? { [k]: iso(c[k]!) } : {});
    const config: Record<string, unknown> = {
      name: reg.trigger,
      namespace: reg.namespace,
      payload: c.payload,
      includeSchedule: c.includeSchedule,
      catchUp: c.catchUp,
      catchUpWindow: c.catchUpWindow,
    };
    if (c.type === 'alarm') {
      Object.assign(config, { cron: c.cron, timezone: c.timezone ?? 'UTC', strict: c.strict ?? false, maxTriggers: c.maxTriggers, ...dates('startDate'), ...dates('stopDate') });
      const p = this.pattern(reg);
      if (p !== c.cron) config.effectiveCron = p;
    } else if (c.type === 'once') {
      Object.assign(config, { date: iso(c.date), deleteAfterFire: c.deleteAfterFire });
    } else {
      Object.assign(config, { minutes: c.minutes, maxTriggers: c.maxTriggers, ...dates('startDate'), ...dates('stopDate') });
    }
    const after = Math.max(Date.now(), reg.lastEvent ?? 0);
    let next = reg.status.active ? nextTicks(c, this.pattern(reg), after, 3) : [];
    if (reg.counters.remaining !== undefined) next = next.slice(0, reg.counters.remaining);
    return { config, nextFires: next.map(iso) };
  }

  private plan(reg: AlarmRegistration): AlarmPlan {
    const c = reg.config;
    if (c.type === 'once') return { kind: 'once', at: c.date };
    if (c.type === 'interval') return { kind: 'interval', everyMs: c.minutes * 60_000, startDate: c.startDate, endDate: c.stopDate };
    return { kind: 'cron', pattern: this.pattern(reg)!, timezone: c.timezone, startDate: c.startDate, endDate: c.stopDate };
  }

  async activate(reg: AlarmRegistration): Promise<void> {
    await this.scheduler.upsert(reg.id, reg.generation, this.plan(reg));
  }

  async deactivate(id: string): Promise<void> {
    await this.scheduler.remove(id);
  }

  /**
   * After a restart: first settles what every active registration missed (caught up or skipped,
   * claimed in the store, so replicas starting together agree), then (re)plans them all and drops
   * plans left for registrations that are gone or inactive.
   */
  async start(events: FeedEvents): Promise<void> {
    this.events = events;
    const now = Date.now();
    const all = await this.registrations.list<AlarmConfig>(this.name);
    await eachLimited(all, START_LANES, (reg) => this.requeueClaimed(reg).catch((err) => this.logger.error({ err, registration: reg.id }, 'alarm: queueing claimed ticks again failed')));
    const active = all.filter((r) => r.status.active);
    await eachLimited(active, START_LANES, (reg) =>
      this.settleMissed(reg, now, now - this.rules.lateToleranceMs).catch((err) => this.logger.error({ err, registration: reg.id }, 'alarm catch-up failed')),
    );
    await this.scheduler.start((tick) => this.onTick(tick));
    const planned = await this.scheduler.plans();
    const wanted = new Set<string>();
    const current = (await this.registrations.list<AlarmConfig>(this.name)).filter((r) => r.status.active);
    await eachLimited(current, START_LANES, async (reg) => {
      const why = this.whyNotActivatable(reg, Date.now());
      if (why) {
        await events.disable(reg.id, { kind: 'AUTO', message: `Automatically disabled: ${why}` }, reg.generation);
        return;
      }
      wanted.add(reg.id);
      await this.activate(reg);
    });
    // Plans left for registrations that are gone or inactive go; each is read on its own first, so
    // a registration a listing missed (one being written as it was listed) keeps its plan.
    await eachLimited([...planned.keys()].filter((id) => !wanted.has(id)), START_LANES, async (id) => {
      const got = await this.registrations.get<AlarmConfig>(id);
      if (got?.doc.status.active && !this.whyNotActivatable(got.doc, Date.now())) await this.activate(got.doc);
      else await this.scheduler.remove(id);
    });
    this.logger.info({ alarms: wanted.size, scheduler: this.scheduler.name }, 'alarms provider started');
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
  }

  async health(): Promise<Record<string, unknown>> {
    return { scheduler: this.scheduler.name, planned: (await this.scheduler.plans()).size };
  }

  /** A tick from the scheduler; false stops the plan. */
  async onTick(tick: AlarmTick): Promise<boolean> {
    // A registration that seems gone is read once more before its plan is dropped for good: a
    // wrong "missing" (the dev CouchDB stand-in can answer one while the document is being
    // written) would otherwise end the alarm silently.
    const got = (await this.registrations.get<AlarmConfig>(tick.id)) ?? (await this.registrations.get<AlarmConfig>(tick.id));
    const reg = got?.doc;
    // A redelivered tick that was claimed (perhaps its registration's last) still gets its fire queued.
    const finishing = tick.redelivered && (reg?.lastEvent === tick.scheduledAt || !!reg?.recentEvents?.includes(tick.scheduledAt));
    if (!reg || reg.generation !== tick.generation || (!reg.status.active && !finishing)) return false;
    const now = Date.now();
    const oldest = now - this.rules.lateToleranceMs;
    // The registration as the claim wrote it: what decides whether the plan goes on, without a read.
    let written: AlarmRegistration | undefined;
    if (tick.redelivered) {
      // A replica died holding this tick: fire it now, and finish a claim it may have made.
      written = await this.claimAndFire(reg, tick.scheduledAt, tick.scheduledAt < oldest, true, false, got);
    } else if (tick.scheduledAt < oldest) {
      await this.settleMissed(reg, now, oldest);
    } else {
      // Ticks before this one that nobody handled and that are past the tolerance were missed
      // (e.g. due in the last moments before this replica started): settle them first.
      const handled = settledUntil(reg);
      const noGap = tick.previousAt !== undefined && handled >= tick.previousAt;
      let cur: Stored<AlarmRegistration> | undefined = got;
      if (!noGap && handled < Math.min(tick.scheduledAt - 1, oldest)) {
        await this.settleMissed(reg, now, Math.min(tick.scheduledAt - 1, oldest));
        cur = await this.registrations.get<AlarmConfig>(tick.id);
      }
      if (!cur) return false;
      const gap = noGap ? [] : this.skippedTicks(cur.doc, oldest, tick.scheduledAt);
      written = await this.claimAndFire(cur.doc, [...gap, tick.scheduledAt], false, false, tick.prepared, cur);
    }
    const after = written ?? (await this.registrations.get<AlarmConfig>(tick.id))?.doc;
    return !!after && after.generation === tick.generation && after.status.active;
  }

  /**
   * The ticks between the last one handled and `before` that are still within the tolerance but
   * were never handed out: BullMQ plans a job scheduler's next tick from the moment its last one
   * was taken, so a worker running behind (a replica gone, the others busy) skips ticks instead of
   * delivering them late. They are on time by the tolerance's measure, so they fire with the tick
   * that came (not as catch-up), claimed in the same write.
   */
  private skippedTicks(reg: AlarmRegistration, oldest: number, before: number): number[] {
    const gap = ticksBetween(reg.config, this.pattern(reg), Math.max(settledUntil(reg), oldest), before - 1, GAP_CAP);
    if (gap.length) this.events!.count(this.name, 'gapfilled', gap.length);
    return gap;
  }

  /**
   * Claims ticks `ats` (ascending) for registration `reg` in one compare-and-set on `lastEvent`,
   * counts each down from `remaining`, and ends the registration at its last tick; then queues
   * their fires.
   * With `redelivered`, a tick that is already the newest claimed (by a worker that died before it
   * queued the fire, or after) is queued again: the fire job's id and the idempotency key make a
   * second queueing of a fire that did go out fire nothing twice. A `prepared` tick (handed out
   * ahead of its time) is queued to fire at `at`, not before. `known` is `reg` as just read, with
   * its revision (saves a read). Resolves with the registration as the claim wrote it, if it did.
   */
  private async claimAndFire(reg: AlarmRegistration, ats: number | readonly number[], late: boolean, redelivered = false, prepared = false, known?: Stored<AlarmRegistration>): Promise<AlarmRegistration | undefined> {
    const ticks = typeof ats === 'number' ? [ats] : ats;
    if (redelivered && ticks.length === 1 && (reg.lastEvent === ticks[0] || reg.recentEvents?.includes(ticks[0]))) {
      await this.queueFire(reg, ticks[0], late);
      return undefined;
    }
    let fire: number[] = [];
    let ended = false;
    // Each attempt's write carries a token of its own; what it would fire is kept by token.
    const attempts = new Map<string, { fire: number[]; ended: boolean }>();
    let ours: AlarmRegistration | undefined;
    const claimed = await this.registrations.update<AlarmConfig>(reg.id, (cur) => {
      fire = [];
      ended = false;
      const earlier = cur.claimToken ? attempts.get(cur.claimToken) : undefined;
      if (earlier) {
        // An attempt reported as failed was written after all: its fires are ours to queue.
        ({ fire, ended } = earlier);
        ours = cur;
        return undefined;
      }
      const c = cur.config;
      if (cur.generation !== reg.generation || !cur.status.active) return undefined;
      let next = cur;
      for (const at of ticks) {
        const recent = next.recentEvents ?? [];
        if (next.lastEvent === at || recent.includes(at)) continue;
        // Older than the newest claim: only a redelivered tick, within what the claims remember.
        if (next.lastEvent !== undefined && at < next.lastEvent && !(redelivered && recent.length > 0 && at > recent[0])) continue;
        if (c.type !== 'once' && c.startDate !== undefined && at < c.startDate) continue;
        if (c.type !== 'once' && c.stopDate !== undefined && at > c.stopDate) {
          ended = true;
          next = this.ended(next, at, { kind: 'AUTO', message: `Automatically disabled: the stopDate ${iso(c.stopDate)} has passed` });
          break;
        }
        const counters = { ...next.counters, ...(late ? { caughtUp: next.counters.caughtUp + 1 } : {}) };
        const catchUpRun = late ? (next.catchUpRun ?? 0) + 1 : 0;
        if (counters.remaining !== undefined) {
          if (counters.remaining <= 0) break;
          counters.remaining -= 1;
        }
        fire.push(at);
        const recentEvents = [...recent, at].sort((x, y) => x - y).slice(-RECENT_EVENTS);
        next = { ...next, counters, lastEvent: Math.max(next.lastEvent ?? at, at), recentEvents, catchUpRun };
        const end = this.endReason(next, at);
        if (end) {
          ended = true;
          next = { ...next, status: { active: false, dateChanged: Date.now(), reason: end } };
          break;
        }
      }
      if (!fire.length && !ended) return undefined;
      const claimToken = `${PROCESS_ID}:${++claimSeq}`;
      attempts.set(claimToken, { fire, ended });
      return { ...next, claimToken };
    }, known);
    const written = claimed ?? ours;
    if (!written) return undefined;
    for (const at of fire) await this.queueFire(written, at, late, prepared);
    if (ended) {
      this.logger.info({ registration: written.id, reason: written.status.reason?.message }, 'alarm ended');
      await this.scheduler.remove(written.id);
    }
    return written;
  }

  /**
   * Ticks claimed but perhaps never queued: a process killed between the claim (one durable write)
   * and the fire's queueing (the next) left them claimed and unfired, and no scheduler hands them
   * out again (BullMQ redelivers a dead worker's tick; standalone's in-process scheduler has
   * nothing to redeliver). At start, every tick claimed in the registration's current active span
   * (after activeSince: a PAUSE or UPDATE since then wins) that has no fire counted (lastFire is
   * older) is queued again, under its own job id: a fire still queued is not queued twice, and
   * one that went out before its count was written carries the same idempotency key, which the
   * controller answers without firing again. Registrations a claim ended (a once alarm, the last
   * of maxTriggers) are inactive with an AUTO reason: their last tick is looked at too.
   */
  private async requeueClaimed(reg: AlarmRegistration): Promise<void> {
    if (!reg.status.active && reg.status.reason?.kind !== 'AUTO') return;
    const counted = reg.lastFire ? Date.parse(reg.lastFire.scheduledTime) : -Infinity;
    const ticks = (reg.recentEvents ?? []).filter((at) => at > counted && at > reg.activeSince);
    for (const at of ticks) await this.queueFire(reg, at, at < Date.now() - this.rules.lateToleranceMs, false, 'requeued');
  }

  private async queueFire(reg: AlarmRegistration, at: number, late: boolean, prepared = false, count?: string): Promise<void> {
    const job: Omit<FeedFireJob, 'attempts' | 'enqueuedAt'> = {
      id: `${reg.id}@${reg.generation}@${at}`,
      registrationId: reg.id,
      generation: reg.generation,
      namespace: reg.namespace,
      trigger: reg.trigger,
      payload: firePayload(reg.config, at, late),
      idempotencyKey: `${reg.config.type}:${iso(at)}`,
      eventTime: at,
      // Prepared ahead of its time (the scheduler's lead): claimed and durable now, fired at `at`.
      ...(prepared && at > Date.now() ? { notBefore: at } : {}),
    };
    await this.events!.enqueue(job);
    this.events!.count(this.name, count ?? (late ? 'caughtup' : 'tick'));
  }

  private ended(cur: AlarmRegistration, at: number, reason: StatusReason): AlarmRegistration {
    return { ...cur, lastEvent: at, status: { active: false, dateChanged: Date.now(), reason } };
  }

  /** Why the registration is over after claiming tick `at`, if it is. */
  private endReason(reg: AlarmRegistration, at: number): StatusReason | undefined {
    const c = reg.config;
    if (c.type === 'once') {
      return { kind: 'AUTO', message: c.deleteAfterFire === 'false' ? 'Automatically disabled after firing once' : 'Fired once; deleting the trigger' };
    }
    if (reg.counters.remaining === 0) return { kind: 'AUTO', message: `Automatically disabled after reaching maxTriggers (${c.maxTriggers})` };
    if (c.stopDate !== undefined) {
      const [next] = nextTicks(c, this.pattern(reg), at, 1);
      if (next === undefined || next > c.stopDate) return { kind: 'AUTO', message: 'Automatically disabled after firing the last scheduled tick before the stopDate' };
    }
    return undefined;
  }

  /**
   * Ticks up to `upto` that were due while no replica ran (or are delivered very late): the newest
   * of them within `catchUpWindow` are fired late (`alarm.late: true`), at most `catchUp` per
   * outage (until the next tick fired on time); the rest are counted as missed and skipped. A
   * missed one-shot alarm with catch-up off is disabled with a reason that says so.
   */
  private async settleMissed(reg: AlarmRegistration, now: number, upto: number): Promise<void> {
    const c = reg.config;
    const pattern = this.pattern(reg);
    const after = settledUntil(reg);
    const missed = ticksBetween(c, pattern, after, upto, MISSED_SCAN_CAP);
    if (!missed.length) return;
    const windowStart = now - c.catchUpWindow * 1000;
    const budget = Math.max(0, c.catchUp - (reg.catchUpRun ?? 0));
    const fresh = budget > 0 ? missed.filter((t) => t >= windowStart).slice(-budget) : [];
    const skipUpTo = fresh.length ? fresh[0] - 1 : missed[missed.length - 1];
    const skipped = missed.filter((t) => t <= skipUpTo);
    if (skipped.length) {
      const last = skipped[skipped.length - 1];
      let ended = false;
      const done = await this.registrations.update<AlarmConfig>(reg.id, (cur) => {
        ended = false;
        if (cur.generation !== reg.generation || !cur.status.active) return undefined;
        if (cur.lastEvent !== undefined && cur.lastEvent >= last) return undefined;
        const n = ticksBetween(cur.config, pattern, settledUntil(cur), last, MISSED_SCAN_CAP).length;
        const next = { ...cur, lastEvent: last, counters: { ...cur.counters, missed: cur.counters.missed + n } };
        if (cur.config.type === 'once' && !fresh.length) {
          ended = true;
          return {
            ...next,
            status: { active: false, dateChanged: Date.now(), reason: { kind: 'AUTO' as const, message: `Missed: no provider was running at ${iso(cur.config.date)} and catch-up is off` } },
          };
        }
        return next;
      });
      if (done) {
        this.events!.count(this.name, 'missed', skipped.length);
        this.logger.warn({ registration: reg.id, missed: skipped.length, through: iso(last) }, 'alarm ticks missed');
        if (ended) await this.scheduler.remove(reg.id);
      }
    }
    if (fresh.length) {
      const cur = await this.registrations.get<AlarmConfig>(reg.id);
      if (cur) await this.claimAndFire(cur.doc, fresh, true, false, false, cur);
    }
  }

  /** A one-shot alarm with deleteAfterFire: the trigger (and, with `rules`, its rules) go, then the registration. */
  async afterFire(reg: AlarmRegistration, _job: FeedFireJob, _outcome: FireOutcome): Promise<void> {
    const c = reg.config;
    if (c.type !== 'once' || c.deleteAfterFire === 'false' || !this.events) return;
    const controller = this.events.controller;
    if (c.deleteAfterFire === 'rules') {
      const t = await controller.getTrigger(reg.namespace, reg.trigger, reg.authKey);
      for (const ruleId of Object.keys(t.body?.rules ?? {})) {
        const [ns, name] = ruleId.split('/');
        if (name) await controller.deleteRule(ns, name, reg.authKey);
      }
    }
    const status = await controller.deleteTrigger(reg.namespace, reg.trigger, reg.authKey);
    await this.events.remove(reg.id);
    this.logger.info({ registration: reg.id, triggerDelete: status, rules: c.deleteAfterFire === 'rules' }, 'once alarm deleted after firing');
  }
}
