import type { ControllerClient } from './controller-client.js';
import type { FeedFireJob } from './fire-queue.js';
import type { Registration, RegistrationCounters } from './registration.js';

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
}

/** What the kit offers providers. */
export interface FeedEvents {
  /** The controller, for a provider's own calls with the owner's key (deleting a one-shot alarm's trigger). */
  readonly controller: ControllerClient;
  /** Queues a fire (durable when this resolves). */
  enqueue(job: Omit<FeedFireJob, 'attempts' | 'enqueuedAt'>): Promise<void>;
  /** Marks a registration inactive with a reason (logged), and stops its events. */
  disable(id: string, reason: { kind: 'AUTO' | 'ADMIN'; statusCode?: number; message: string }, generation?: number): Promise<void>;
  /** Deletes a registration (a one-shot alarm with deleteAfterFire). */
  remove(id: string): Promise<void>;
  count(provider: string, what: string, by?: number): void;
}
