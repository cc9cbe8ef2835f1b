import type { Logger } from '../../src/logging/logger.js';
import type { DocStore } from '../../src/store/artifact-store.js';
import type { ControllerClient, FireAnswer } from './controller-client.js';
import { FeedDeadLetters } from './dead-letters.js';
import { withFieldTexts } from '../../src/entities/json-text.js';
import type { FeedFireJob, FeedFireQueue } from './fire-queue.js';
import { FeedFirer, type FireAttempt, type RetryPolicy } from './firer.js';
import { FeedMetrics } from './metrics.js';
import type { FeedEvents, FeedProvider } from './provider.js';
import { nextGeneration, type Registration } from './registration.js';
import { Registrations } from './registrations.js';

export interface FeedKitOptions {
  store: DocStore;
  queue: FeedFireQueue;
  controller: ControllerClient;
  providers: FeedProvider[];
  retry: RetryPolicy;
  logger: Logger;
  /** Names this process in health answers (host and pid in the cluster). */
  replica?: string;
  /** The providers' own, when they have one: one per process, so what one step wrote the next can use. */
  registrations?: Registrations;
  /**
   * How long the count of a queued fire on its registration waits for more to join it (0: written
   * at once). The cluster waits a second: an alarm firing every second then updates its
   * registration about once a second instead of twice, and on CouchDB every update adds a revision.
   */
  countDelayMs?: number;
}

/**
 * The feed kit every provider shares: registrations in the store, the durable fire queue and its
 * firer, automatic disables with a reason, health and metrics. The lifecycle API (lifecycle.ts,
 * provider-api.ts) and the providers work through it.
 */
export class FeedKit implements FeedEvents {
  readonly registrations: Registrations;
  readonly deadLetters: FeedDeadLetters;
  readonly metrics = new FeedMetrics();
  readonly providers = new Map<string, FeedProvider>();
  readonly logger: Logger;
  private readonly firer: FeedFirer;
  private started = false;

  constructor(readonly o: FeedKitOptions) {
    this.logger = o.logger;
    this.registrations = o.registrations ?? new Registrations(o.store);
    this.deadLetters = new FeedDeadLetters(o.store);
    for (const p of o.providers) this.providers.set(p.name, p);
    this.firer = new FeedFirer(this, o.controller, o.retry, o.countDelayMs);
  }

  get controller(): ControllerClient {
    return this.o.controller;
  }

  /** Starts the firer (jobs left by an earlier process too), then every provider's event sources. */
  async start(): Promise<void> {
    await this.o.queue.start((job) => this.firer.process(job));
    for (const p of this.providers.values()) await p.start(this);
    this.started = true;
  }

  async stop(): Promise<void> {
    for (const p of this.providers.values()) await p.stop().catch((err) => this.logger.warn({ err, provider: p.name }, 'provider stop failed'));
    await this.o.queue.stop();
    await this.firer.drain();
  }

  async enqueue(job: Omit<FeedFireJob, 'attempts' | 'enqueuedAt'>): Promise<void> {
    // A payload with its text noted (a large GitHub delivery) is written as that text.
    await this.o.queue.enqueue(withFieldTexts<FeedFireJob>({ ...job, attempts: 0, enqueuedAt: Date.now() }, 'payload'));
  }

  fireNow(job: FeedFireJob): Promise<FireAttempt> {
    return this.firer.attempt(job);
  }

  deadLetter(reg: Registration<any>, job: FeedFireJob, answer: FireAnswer, detail?: Record<string, unknown>): Promise<void> {
    return this.firer.giveUp(reg, job, answer, detail);
  }

  async disable(id: string, reason: { kind: 'AUTO' | 'ADMIN'; statusCode?: number; message: string }, generation?: number): Promise<void> {
    const done = await this.registrations.update(id, (cur) => {
      if (generation !== undefined && cur.generation !== generation) return undefined;
      if (!cur.status.active && cur.status.reason?.kind === reason.kind && cur.status.reason.message === reason.message) return undefined;
      return { ...cur, generation: nextGeneration(cur.generation), status: { active: false, dateChanged: Date.now(), reason } };
    });
    if (!done) return;
    this.logger.warn({ registration: id, statusCode: reason.statusCode, reason: reason.message, kind: reason.kind }, 'feed registration disabled');
    this.count(done.provider, 'disabled');
    await this.providers.get(done.provider)?.deactivate(id);
  }

  async remove(id: string): Promise<void> {
    const provider = this.providers.get(id.slice(0, id.indexOf('/')));
    await provider?.deactivate(id);
    const reg = provider?.removed ? await this.registrations.get(id) : undefined;
    if (reg) await provider!.removed!(reg.doc).catch((err) => this.logger.warn({ registration: id, error: (err as Error).message }, 'feed clean-up failed'));
    await this.registrations.delete(id);
    await this.deadLetters.clear(id);
  }

  count(provider: string, what: string, by = 1): void {
    this.metrics.inc('whiskhub_feed_events_total', { provider, event: what }, by);
  }

  async health(): Promise<Record<string, unknown>> {
    const providers: Record<string, unknown> = {};
    for (const p of this.providers.values()) {
      const regs = await this.registrations.list(p.name);
      providers[p.name] = {
        registrations: { total: regs.length, active: regs.filter((r) => r.status.active).length },
        ...((await p.health?.()) ?? {}),
      };
    }
    return { status: this.started ? 'ok' : 'starting', replica: this.o.replica, queue: { pending: await this.o.queue.pending() }, providers };
  }

  async metricsText(): Promise<string> {
    const gauges: Record<string, number> = { whiskhub_feed_queue_pending: await this.o.queue.pending() };
    for (const p of this.providers.values()) {
      Object.assign(gauges, p.gauges?.() ?? {});
      const regs = await this.registrations.list(p.name);
      gauges[`whiskhub_feed_registrations{provider="${p.name}",state="active"}`] = regs.filter((r) => r.status.active).length;
      gauges[`whiskhub_feed_registrations{provider="${p.name}",state="inactive"}`] = regs.filter((r) => !r.status.active).length;
    }
    return this.metrics.render(gauges);
  }
}
