/**
 * The feeds' durable fire queue: an event a provider accepted (an alarm tick, a webhook delivery,
 * a Kafka batch) waits here until the controller has answered its fire, across retries and
 * restarts. In-process on the embedded store in standalone, BullMQ on Redis in the cluster.
 *
 * A job carries no secret: the firer reads the owner's key from the registration when it fires.
 */
export interface FeedFireJob {
  /** Unique per event (provider, trigger, generation, event time): enqueueing it again is a no-op. */
  id: string;
  registrationId: string;
  generation: number;
  namespace: string;
  trigger: string;
  payload: Record<string, unknown>;
  /**
   * The payload's JSON text, when the provider made it already (a Kafka batch, cut to size by
   * its bytes): sent as is. Only on jobs fired at once, never stored (dead letters drop it).
   */
  payloadJson?: string;
  /** Sent as X-Idempotency-Key, so a repeated fire of this event fires nothing new. */
  idempotencyKey: string;
  /** When the event happened (for alarms: the scheduled tick), epoch ms. */
  eventTime: number;
  enqueuedAt: number;
  /** Not fired before this moment, epoch ms: an alarm tick prepared ahead of its time. */
  notBefore?: number;
  /** Failed attempts so far. */
  attempts: number;
  lastError?: string;
  lastStatus?: number;
}

export type FeedFireStep = { done: true } | { done: false; job: FeedFireJob; retryInMs: number };

export interface FeedFireQueue {
  /** Resolves once the job is durable. Idempotent per job id. */
  enqueue(job: FeedFireJob): Promise<void>;
  /** Starts working off jobs, also those left by an earlier process. */
  start(process: (job: FeedFireJob) => Promise<FeedFireStep>): Promise<void>;
  /** Jobs not done yet. */
  pending(): Promise<number>;
  stop(): Promise<void>;
}
