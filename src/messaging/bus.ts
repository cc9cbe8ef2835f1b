/**
 * MessageBus: how the controller, the invokers and the providers talk. Kafka (kafkajs) in the
 * cluster, in-process in standalone; both pass test/contract/message-bus.contract.ts.
 *
 * Delivery is at least once: a handler's batch counts as consumed only when its promise resolves
 * (Kafka: offsets are committed then). A handler that throws gets the same messages again. Within
 * one partition (Kafka) or one topic (in-process), order is kept.
 */
export type BusMessage = {
  /** Messages with the same key keep their relative order. */
  key?: string;
} & (
  | {
      /** JSON text. */
      value: string;
      object?: undefined;
    }
  | {
      /**
       * The value as an object, for the bus to serialize when it must. A bus whose handlers live
       * in this process hands them this very object (as ReceivedMessage.object): an activation's
       * arguments, a 900 KB Kafka batch, are then not stringified and parsed again on the way
       * from the load balancer to the invoker. So the publisher must not change it afterwards,
       * and handlers must only read it.
       */
      object: object;
      value?: undefined;
    }
);

export interface ReceivedMessage {
  key?: string;
  /** JSON text (computed on demand when the message was published as an object in-process). */
  readonly value: string;
  /** The publisher's object, when it was published as one on an in-process bus. Read only. */
  readonly object?: object;
  topic: string;
  partition: number;
  /** Position in the partition, as a decimal string (Kafka's form). */
  offset: string;
}

/** A message published as an object on an in-process bus: its JSON text is made only if asked for. */
export class ObjectMessage implements ReceivedMessage {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly object: object,
    readonly key?: string,
  ) {}

  get value(): string {
    return JSON.stringify(this.object);
  }
}

/** The same received message under another topic name (without making an object message's text). */
export function renamed(m: ReceivedMessage, topic: string): ReceivedMessage {
  return m.object === undefined ? { ...m, topic } : new ObjectMessage(topic, m.partition, m.offset, m.object, m.key);
}

/** A published message's JSON text. */
export const textOf = (m: BusMessage): string => (m.object === undefined ? m.value : JSON.stringify(m.object));

/** A received message's value: the publisher's own object in-process, otherwise parsed from its JSON text. */
export function valueOf<T>(m: ReceivedMessage): T {
  return (m.object ?? JSON.parse(m.value)) as T;
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
  /**
   * Whether handlers run in the publisher's process and get messages published as objects
   * without a copy (in-process: yes). Then no message size limit applies either.
   */
  readonly inProcess: boolean;
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
