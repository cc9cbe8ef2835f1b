/**
 * MessageBus: how the controller, the invokers and the providers talk. Kafka (kafkajs) in the
 * cluster, in-process in standalone; both pass test/contract/message-bus.contract.ts.
 *
 * Delivery is at least once: a handler's batch counts as consumed only when its promise resolves
 * (Kafka: offsets are committed then). A handler that throws gets the same messages again. Within
 * one partition (Kafka) or one topic (in-process), order is kept.
 */
export interface BusMessage {
  /** Messages with the same key keep their relative order. */
  key?: string;
  /** JSON text. */
  value: string;
}

export interface ReceivedMessage extends BusMessage {
  topic: string;
  partition: number;
  /** Position in the partition, as a decimal string (Kafka's form). */
  offset: string;
}

export interface SubscribeOptions {
  topic: string;
  /** Consumers in the same group share the topic's messages; each group sees every message. */
  group: string;
  /** A new group starts at the oldest message rather than the newest. */
  fromBeginning?: boolean;
  /** Called with batches in order; resolve to consume them, throw to have them delivered again. */
  handler: (batch: ReceivedMessage[]) => Promise<void>;
  /**
   * Commit consumed positions at most this often instead of after every batch (Kafka). Each
   * commit is a round trip before the next fetch, so this takes it off the path of a busy,
   * latency-bound topic; a crash then redelivers up to this long of messages. Only for topics
   * whose handlers take a message twice calmly (acks, pings). Default: after every batch.
   */
  commitIntervalMs?: number;
}

export interface Subscription {
  /** Stops consuming; in-flight batches finish first. */
  stop(): Promise<void>;
}

export interface MessageBus {
  /** Whether a published message survives this process crashing (Kafka: yes; in-process: no). */
  readonly durable: boolean;
  /** Creates the topics if missing (idempotent). */
  ensureTopics(topics: string[], partitions?: number): Promise<void>;
  /** Resolves once the messages are durably accepted (Kafka: acknowledged by the broker). */
  publish(topic: string, messages: BusMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}

/** The topics of the invocation pipeline, named as OpenWhisk names them. */
export const Topics = {
  invoker: (index: number) => `invoker${index}`,
  completed: (controller: number) => `completed${controller}`,
  health: 'health',
} as const;
