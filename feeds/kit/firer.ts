import type { Logger } from '../../src/logging/logger.js';
import type { ControllerClient, FireAnswer } from './controller-client.js';
import type { FeedDeadLetters } from './dead-letters.js';
import type { FeedFireJob, FeedFireStep } from './fire-queue.js';
import type { FeedMetrics } from './metrics.js';
import type { FeedEvents, FeedProvider, FireAttempt } from './provider.js';
import { iso, type LastFire, type Registration } from './registration.js';

export type { FireAttempt } from './provider.js';
import type { Registrations } from './registrations.js';

/** What the firer works with (the FeedKit). */
export interface FirerContext extends Pick<FeedEvents, 'disable' | 'count'> {
  readonly registrations: Registrations;
  readonly providers: Map<string, FeedProvider>;
  readonly deadLetters: FeedDeadLetters;
  readonly metrics: FeedMetrics;
  readonly logger: Logger;
}

export interface RetryPolicy {
  /** Attempts of a fire that meets 408/409/429/5xx or no answer, before it is dead-lettered. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * How old a copy of the registration the firer may use (one this process read or wrote, e.g. when
 * the tick was claimed just before): a PAUSE or DELETE made on another replica within this
 * moment may still let one fire out, as it could if it came a moment later.
 */
const RECENT_MS = 250;

/** The answers that mean the fire can never succeed as it is: the registration is disabled (OpenWhisk's providers do the same). */
export const isFatal = (status: number) => status >= 400 && status < 500 && ![408, 409, 429].includes(status);

/** Exponential backoff with jitter, never sooner than the controller's Retry-After. */
export function retryDelay(policy: RetryPolicy, attempts: number, retryAfterMs = 0, random = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.round(Math.max(jittered, Math.min(retryAfterMs, policy.maxDelayMs * 5)));
}

/**
 * Fires feed events: posts each to the controller with the owner's key (read from the
 * registration, so a job holds no secret) and the event's idempotency key. 2xx: counted.
 * 400/401/403/404/413 and other refusals: the registration is disabled with the status and the
 * controller's message. 408/409/429/5xx/no answer: retried with backoff, then dead-lettered.
 * A job of an older generation (the registration was paused, updated, re-created or deleted
 * since) is dropped: a stop wins over any fire still in flight.
 *
 * `process` works off the durable fire queue (alarms, GitHub, Slack); `attempt` is one try, for a
 * provider that keeps its own place in its source and retries itself (Kafka: offsets are
 * committed only after a fire is accepted).
 */
export class FeedFirer {
  constructor(
    private readonly kit: FirerContext,
    private readonly controller: ControllerClient,
    private readonly retry: RetryPolicy,
    /** How long a count written in the background waits for more of the same registration's to join it. */
    private readonly countDelayMs = 0,
  ) {}

  /**
   * One try. `countFirst`: resolve only once the fire is counted on its registration (the Kafka
   * feed commits offsets after this, and a READ that shows them committed shows the fires too);
   * otherwise the count is written in the background.
   */
  async attempt(job: FeedFireJob, countFirst = true): Promise<FireAttempt> {
    const got = await this.kit.registrations.recent<any>(job.registrationId, RECENT_MS);
    const reg = got?.doc;
    const provider = reg ? this.kit.providers.get(reg.provider) : undefined;
    if (!reg || !provider || reg.generation !== job.generation) {
      this.kit.count(job.registrationId.split('/')[0], 'dropped');
      return { outcome: 'stale' };
    }
    const answer = await this.controller.fire(reg.namespace, reg.trigger, reg.authKey, job.payload, job.idempotencyKey, job.payloadJson);
    if (answer.status >= 200 && answer.status < 300) {
      this.kit.metrics.observeLatency(reg.provider, Date.now() - job.eventTime);
      this.kit.count(reg.provider, 'fired');
      if (countFirst) await this.record(job, answer, true);
      else {
        // Counted on the registration in the background: the fire itself is done (and
        // acknowledged), so the queue's next fire need not wait for the store. A crash in between
        // loses the count of the last fires, never a fire.
        const counted = this.record(job, answer, true, this.countDelayMs).catch((err) => this.kit.logger.warn({ registration: reg.id, error: (err as Error).message }, 'could not count a fire on its registration'));
        this.counting.add(counted);
        void counted.finally(() => this.counting.delete(counted));
      }
      await provider.afterFire?.(reg, job, 'fired');
      return { outcome: 'fired', answer, reg };
    }
    if (isFatal(answer.status)) {
      this.kit.count(reg.provider, 'refused');
      await this.record(job, answer, false);
      await this.kit.disable(reg.id, {
        kind: 'AUTO',
        statusCode: answer.status,
        message: `Automatically disabled after receiving a ${answer.status} status code when firing the trigger: ${answer.error ?? 'no message'}`,
      });
      await provider.afterFire?.(reg, job, 'disabled');
      return { outcome: 'refused', answer, reg };
    }
    return { outcome: 'failed', answer, reg };
  }

  /** Writes the counts still waiting now, and resolves once every count so far is written (a provider stopping calls it last). */
  async drain(): Promise<void> {
    for (const { timer, write } of [...this.delayed.values()]) {
      clearTimeout(timer);
      write();
    }
    while (this.counting.size) await Promise.allSettled([...this.counting]);
  }

  async process(job: FeedFireJob): Promise<FeedFireStep> {
    const tried = await this.attempt(job, false);
    if (tried.outcome !== 'failed') return { done: true };
    const { answer, reg } = tried;
    const attempts = job.attempts + 1;
    if (attempts >= this.retry.maxAttempts) {
      await this.giveUp(reg, { ...job, attempts }, answer);
      return { done: true };
    }
    this.kit.count(reg.provider, 'retried');
    return {
      done: false,
      job: { ...job, attempts, lastStatus: answer.status, lastError: answer.error },
      retryInMs: retryDelay(this.retry, attempts, answer.retryAfterMs),
    };
  }

  /** A fire that used up its attempts: dead-lettered (READ shows it), counted as failed. */
  async giveUp(reg: Registration<any>, job: FeedFireJob, answer: FireAnswer, detail?: Record<string, unknown>): Promise<void> {
    this.kit.count(reg.provider, 'deadlettered');
    const error = answer.error ?? `status ${answer.status}`;
    await this.kit.deadLetters.add({
      registrationId: reg.id,
      job: { ...job, payloadJson: undefined, lastStatus: answer.status, lastError: error },
      status: answer.status,
      error,
      at: Date.now(),
      ...(detail ? { detail } : {}),
    });
    this.kit.logger.warn({ registration: reg.id, statusCode: answer.status, attempts: job.attempts, event: iso(job.eventTime), ...detail }, 'feed fire dead-lettered');
    await this.record(job, answer, false);
    await this.kit.providers.get(reg.provider)?.afterFire?.(reg, job, 'failed');
  }

  /**
   * Counts a fire on its registration (fired or failed, and the newest lastFire). Records of one
   * registration are written one at a time, each write carrying everything that arrived while
   * the one before was in flight: a provider firing many partitions at once makes a few writes,
   * not a storm of conflicting ones. Resolves once the write that holds this record is done.
   */
  private record(job: FeedFireJob, answer: FireAnswer, ok: boolean, delayMs = 0): Promise<void> {
    const lastFire: LastFire = {
      scheduledTime: iso(job.eventTime),
      at: iso(Date.now()),
      statusCode: answer.status,
      ...(answer.activationId ? { activationId: answer.activationId } : {}),
      ...(ok ? {} : { error: answer.error ?? `status ${answer.status}` }),
    };
    const key = `${job.registrationId}@${job.generation}`;
    let r = this.records.get(key);
    if (!r) this.records.set(key, (r = { fired: 0, failed: 0, waiters: [], writing: false }));
    if (ok) r.fired++;
    else r.failed++;
    if (!r.lastFire || job.eventTime >= Date.parse(r.lastFire.scheduledTime)) r.lastFire = lastFire;
    const done = new Promise<void>((resolve, reject) => r!.waiters.push({ resolve, reject }));
    if (!r.writing) {
      r.writing = true;
      const pending = r;
      const write = () => {
        this.delayed.delete(key);
        void this.writeRecords(key, job.registrationId, job.generation, pending);
      };
      if (delayMs > 0) this.delayed.set(key, { timer: setTimeout(write, delayMs), write });
      else write();
    }
    return done;
  }

  private readonly records = new Map<string, PendingRecords>();
  /** Counts waiting for more to join them, by registration and generation. */
  private readonly delayed = new Map<string, { timer: NodeJS.Timeout; write: () => void }>();
  /** Counts of fires being written in the background. */
  private readonly counting = new Set<Promise<void>>();

  private async writeRecords(key: string, id: string, generation: number, r: PendingRecords): Promise<void> {
    r.writing = true;
    while (r.waiters.length) {
      const { fired, failed, lastFire, waiters } = r;
      Object.assign(r, { fired: 0, failed: 0, lastFire: undefined, waiters: [] });
      try {
        const known = await this.kit.registrations.recent<any>(id, RECENT_MS);
        await this.kit.registrations.update(id, (cur) => {
          // Fires of an older generation (before a PAUSE, UPDATE or re-CREATE) no longer count as fired.
          const counts = cur.generation === generation ? fired : 0;
          if (!counts && !failed) return undefined;
          const counters = { ...cur.counters, fired: cur.counters.fired + counts, failed: cur.counters.failed + failed };
          const newer = !lastFire || (cur.lastFire && Date.parse(cur.lastFire.scheduledTime) > Date.parse(lastFire.scheduledTime));
          return { ...cur, counters, lastFire: newer ? cur.lastFire : lastFire };
        }, known);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    r.writing = false;
    this.records.delete(key);
  }
}

interface PendingRecords {
  fired: number;
  failed: number;
  lastFire?: LastFire;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
  writing: boolean;
}
