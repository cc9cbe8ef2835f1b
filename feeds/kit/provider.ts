import type { ControllerClient, FireAnswer } from './controller-client.js';
import type { FeedFireJob } from './fire-queue.js';
import type { Registration, RegistrationCounters } from './registration.js';

/**
 * One attempt at a fire, as the firer ended it:
 * - `fired`: the controller accepted it (2xx); counted and recorded on the registration.
 * - `refused`: the controller refused it for good (400/401/403/404/413…); the registration is disabled.
 * - `failed`: worth another try (408/409/429/5xx, no answer); nothing is recorded yet.
 * - `stale`: the registration is gone, or changed generation since the event (paused, updated,
 *   re-created): the event is dropped, a stop wins over anything in flight.
 */
export type FireAttempt =
  | { outcome: 'stale' }
  | { outcome: 'fired' | 'refused' | 'failed'; answer: FireAnswer; reg: Registration<any> };

/** How a fire ended, for a provider's follow-up (a one-shot alarm deleting its trigger). */
export type FireOutcome = 'fired' | 'failed' | 'disabled';

/**
 * What the kit needs from each provider (alarms, github, slack, kafka): validate the feed
 * parameters of CREATE and UPDATE (HubError 400 with a message the user can act on), start and
 * stop the event source of a registration, and describe a registration for READ. Events reach the
 * kit through `FeedEvents`, given to the provider at start.
 */
export interface FeedProvider<C = any> {
  readonly name: string;
  /** The feed actions of the provider's package (`alarm`, `once`, `interval`). */
  readonly feeds: readonly string[];
  validateCreate(feed: string, params: Record<string, unknown>, now: number): C;
  validateUpdate(reg: Registration<C>, params: Record<string, unknown>, now: number): C;
  /** Counters a new registration starts with (e.g. `remaining` for maxTriggers). */
  initialCounters(config: C): Partial<RegistrationCounters>;
  /** Why a registration cannot be made active again (UNPAUSE), if it cannot. */
  whyNotActivatable(reg: Registration<C>, now: number): string | undefined;
  /** READ: the configuration as the user gave it (no secrets), plus anything worth showing. */
  describe(reg: Registration<C>): { config: Record<string, unknown> } & Record<string, unknown>;
  /** READ: what takes a look outside the hub to tell (Kafka: consumer lag, committed offsets). */
  inspect?(reg: Registration<C>): Promise<Record<string, unknown>>;
  /**
   * CREATE and UPDATE, before the registration is stored (so no replica acts on it yet): checks
   * what only the outside can tell (a Kafka topic exists, credentials work) and sets up what must
   * be in place before the first event (where a consumer group starts). Throws a HubError to refuse.
   */
  prepare?(reg: Registration<C>): Promise<void>;
  /** Starts the events of an active registration (idempotent: replaces an earlier start). */
  activate(reg: Registration<C>): Promise<void>;
  /** Stops them; a no-op for a registration not started. */
  deactivate(id: string): Promise<void>;
  /**
   * The registration is going for good (DELETE, or replaced by a new CREATE): undo what
   * `activate` set up outside the hub (a GitHub repository hook). Failures are logged, not thrown.
   */
  removed?(reg: Registration<C>): Promise<void>;
  /** Brings up the provider's event sources for every active registration (after a restart). */
  start(events: FeedEvents): Promise<void>;
  stop(): Promise<void>;
  /** After a fire's final outcome. */
  afterFire?(reg: Registration<C>, job: FeedFireJob, outcome: FireOutcome): Promise<void>;
  /** Extra health details. */
  health?(): Promise<Record<string, unknown>>;
  /** Extra Prometheus gauges, by full series name (`whiskhub_feed_kafka_lag{…}`). */
  gauges?(): Record<string, number>;
}

/** What the kit offers providers. */
export interface FeedEvents {
  /** The controller, for a provider's own calls with the owner's key (deleting a one-shot alarm's trigger). */
  readonly controller: ControllerClient;
  /** Queues a fire (durable when this resolves). */
  enqueue(job: Omit<FeedFireJob, 'attempts' | 'enqueuedAt'>): Promise<void>;
  /**
   * Fires now, once, without the queue: for a provider that keeps its place in its source and
   * retries itself (Kafka commits offsets only after an accepted fire). Accepted fires are
   * recorded, refusals disable the registration, as for queued fires.
   */
  fireNow(job: FeedFireJob): Promise<FireAttempt>;
  /** Dead-letters a fire the provider gives up on (or an event it cannot fire at all), with what finds it again. */
  deadLetter(reg: Registration<any>, job: FeedFireJob, answer: FireAnswer, detail?: Record<string, unknown>): Promise<void>;
  /** Marks a registration inactive with a reason (logged), and stops its events. */
  disable(id: string, reason: { kind: 'AUTO' | 'ADMIN'; statusCode?: number; message: string }, generation?: number): Promise<void>;
  /** Deletes a registration (a one-shot alarm with deleteAfterFire). */
  remove(id: string): Promise<void>;
  count(provider: string, what: string, by?: number): void;
}
