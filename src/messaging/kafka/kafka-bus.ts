import { Kafka, Partitioners, type Admin, type Producer } from 'kafkajs';
import { textOf, type BusMessage, type MessageBus, type SubscribeOptions, type Subscription } from '../bus.js';
import { TopicEnsurer } from './ensure-topics.js';
import { KAFKAJS_LOG_LEVEL, kafkaLogCreator, silentKafkaLogger, type KafkaBusLogger } from '../../kafkajs/kafkajs-logger.js';
import { DEFAULT_CONSUMER_TIMING, type ConsumerTiming, type KafkaBusOptions } from './kafka-options.js';
import { startKafkaSubscription } from './kafka-subscription.js';
import { PublishQueue, type TopicBatch } from './publish-queue.js';

/** Connects once, on first use; a failed attempt is forgotten so the next call tries again. */
function lazyConnect<T extends { connect(): Promise<void> }>(client: T): () => Promise<T> {
  let connecting: Promise<T> | undefined;
  return () =>
    (connecting ??= client.connect().then(
      () => client,
      (err: unknown) => {
        connecting = undefined;
        throw err;
      },
    ));
}

/**
 * The cluster MessageBus on Kafka (kafkajs). Publishes go through one idempotent producer with
 * acks from all in-sync replicas; each subscription is its own consumer (group member) that
 * commits a batch's offsets only after its handler resolves.
 */
export class KafkaMessageBus implements MessageBus {
  readonly durable = true;
  readonly inProcess = false;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly connectProducer: () => Promise<Producer>;
  private readonly connectAdmin: () => Promise<Admin>;
  private readonly topics: TopicEnsurer;
  private readonly queue: PublishQueue;
  private readonly subscriptions = new Set<Subscription>();
  private readonly timing: ConsumerTiming;
  private readonly logger: KafkaBusLogger;
  private closed = false;

  constructor(private readonly options: KafkaBusOptions) {
    this.logger = options.logger ?? silentKafkaLogger;
    this.timing = { ...DEFAULT_CONSUMER_TIMING, ...options.consumer };
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: KAFKAJS_LOG_LEVEL,
      logCreator: kafkaLogCreator(this.logger),
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      // Bounded, so a publish fails (about 10 s) rather than hangs while the cluster is away.
      retry: { retries: 5 },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.admin = this.kafka.admin();
    this.connectProducer = lazyConnect(this.producer);
    this.connectAdmin = lazyConnect(this.admin);
    this.topics = new TopicEnsurer(this.connectAdmin);
    this.queue = new PublishQueue((batches) => this.send(batches));
  }

  async ensureTopics(topics: string[], partitions = 1): Promise<void> {
    this.assertOpen();
    await this.topics.ensure(topics, partitions);
  }

  publish(topic: string, messages: BusMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (messages.length === 0) return Promise.resolve();
    return this.queue.publish(topic, messages.map((m) => (m.object === undefined ? m : { key: m.key, value: textOf(m) })));
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    await this.topics.ensure([options.topic], 1);
    const inner = await startKafkaSubscription(
      {
        kafka: this.kafka,
        admin: await this.connectAdmin(),
        timing: this.timing,
        logger: this.logger,
        retryDelayMs: this.options.retryDelayMs ?? 100,
        maxRetryDelayMs: this.options.maxRetryDelayMs ?? 5_000,
        subscribeTimeoutMs: this.options.subscribeTimeoutMs ?? 30_000,
      },
      options,
    );
    const subscription: Subscription = {
      stop: () => inner.stop().finally(() => this.subscriptions.delete(subscription)),
    };
    this.subscriptions.add(subscription);
    if (this.closed) {
      // close() ran while this member was joining.
      await subscription.stop();
      throw closedError();
    }
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  private async send(batches: TopicBatch[]): Promise<void> {
    const producer = await this.connectProducer();
    await producer.sendBatch({
      acks: -1,
      topicMessages: batches.map(({ topic, messages }) => ({
        topic,
        messages: messages.map((m) => ({ key: m.key ?? null, value: m.value })),
      })),
    });
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

const closedError = () => new Error('message bus is closed');

export function createKafkaBus(options: KafkaBusOptions): KafkaMessageBus {
  return new KafkaMessageBus(options);
}
