import type { KafkaBusLogger } from '../../kafkajs/kafkajs-logger.js';

/**
 * Consumer group timing. kafkajs's defaults (30 s session, 60 s rebalance, 3 s heartbeat, 5 s
 * fetch wait) make a group join or a rebalance take seconds; ours bring it to about one second
 * while a stalled member is still noticed within ten.
 */
export interface ConsumerTiming {
  /** A member silent this long is dropped from its group (broker bounds: 6 s to 30 min by default). */
  sessionTimeoutMs: number;
  /** How long a rebalance waits for members to rejoin; a member rejoins between batches. */
  rebalanceTimeoutMs: number;
  /** How often a member tells the coordinator it lives; also how soon it learns of a rebalance. */
  heartbeatIntervalMs: number;
  /** Longest a fetch waits on the broker for new messages (messages end it at once). */
  maxWaitTimeMs: number;
}

export const DEFAULT_CONSUMER_TIMING: ConsumerTiming = {
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 20_000,
  heartbeatIntervalMs: 500,
  maxWaitTimeMs: 500,
};

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  logger?: KafkaBusLogger;
  consumer?: Partial<ConsumerTiming>;
  /** First redelivery delay after a handler throws; doubles per failure up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** How long subscribe() waits for the group join and the starting position. Default 30 s. */
  subscribeTimeoutMs?: number;
}
