import type { Logger } from '../../src/logging/logger.js';
import type { RetryPolicy } from '../kit/firer.js';
import type { FeedEvents, FeedProvider } from '../kit/provider.js';
import type { Registrations } from '../kit/registrations.js';
import { groupIdOf, KAFKA_FEEDS, type KafkaFeedConfig, type KafkaFeedRules } from './kafka-config.js';
import { deleteGroup, prepareSource, readLag } from './source.js';
import { TriggerConsumer, type KafkaRegistration } from './trigger-consumer.js';
import { validateKafkaCreate, validateKafkaUpdate } from './validate.js';

export interface KafkaProviderOptions extends KafkaFeedRules {
  /** How often a replica compares its consumers with the registrations (others' CREATE, PAUSE, DELETE). */
  reconcileMs: number;
  watchdogMs: number;
  throttleMaxDelayMs: number;
  maxFailures: number;
  sessionTimeoutMs: number;
  firesInFlight: number;
  retry: RetryPolicy;
}

/**
 * The Kafka provider: feeds `kafkaFeed` and `messageHubFeed` of /whisk.system/messaging. Every
 * replica runs a consumer for every active registration, all in the registration's consumer
 * group, so Kafka shares a topic's partitions among the replicas and hands a dead replica's
 * partitions to the others. A replica learns of registrations made, changed or removed through
 * another replica by comparing the store with its consumers every `reconcileMs`.
 */
export class KafkaProvider implements FeedProvider<KafkaFeedConfig> {
  readonly name = 'kafka';
  readonly feeds = KAFKA_FEEDS;
  private events?: FeedEvents;
  private readonly consumers = new Map<string, TriggerConsumer>();
  /** Consumers being stopped, so a DELETE can wait for this replica to leave the group. */
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly lag = new Map<string, Map<number, number>>();
  private reconciler?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly registrations: Registrations,
    private readonly o: KafkaProviderOptions,
    private readonly logger: Logger,
  ) {}

  validateCreate(feed: string, params: Record<string, unknown>): KafkaFeedConfig {
    return validateKafkaCreate(feed, params, this.o);
  }

  validateUpdate(reg: KafkaRegistration, params: Record<string, unknown>): KafkaFeedConfig {
    return validateKafkaUpdate(reg.config, params, this.o);
  }

  initialCounters() {
    return {};
  }

  whyNotActivatable(): string | undefined {
    return undefined;
  }

  /** READ's configuration: what the user gave, without the SASL password. */
  describe(reg: KafkaRegistration) {
    const c = reg.config;
    return {
      config: {
        triggerName: `/${reg.namespace}/${reg.trigger}`,
        brokers: c.brokers,
        topic: c.topic,
        isJSONData: c.isJSONData,
        isBinaryKey: c.isBinaryKey,
        isBinaryValue: c.isBinaryValue,
        groupId: groupIdOf(reg),
        fromBeginning: c.fromBeginning,
        maxBatchBytes: c.maxBatchBytes,
        maxBatchMessages: c.maxBatchMessages,
        ...(c.sasl ? { sasl: { mechanism: c.sasl.mechanism, username: c.sasl.username } } : {}),
        ...(c.tls ? { tls: { rejectUnauthorized: c.tls.rejectUnauthorized, ca: c.tls.ca !== undefined } } : {}),
      },
    };
  }

  /** READ: the group's committed offsets and lag per partition, asked of the cluster. */
  async inspect(reg: KafkaRegistration): Promise<Record<string, unknown>> {
    try {
      return { consumer: await readLag(reg.config, groupIdOf(reg), this.logger) };
    } catch (err) {
      return { consumer: { error: (err as Error).message } };
    }
  }

  /**
   * CREATE and UPDATE, before the registration is stored: the brokers answer, the credentials
   * work and the topic exists (400 otherwise), and a new group's start in each partition is fixed.
   */
  async prepare(reg: KafkaRegistration): Promise<void> {
    await prepareSource(reg.config, groupIdOf(reg), this.logger);
  }

  /** CREATE, UPDATE, UNPAUSE on this replica: consumes at once (the others follow within `reconcileMs`). */
  async activate(reg: KafkaRegistration): Promise<void> {
    if (this.consumers.get(reg.id)?.generation !== reg.generation) this.run(reg);
  }

  async deactivate(id: string): Promise<void> {
    this.halt(id);
  }

  /** A registration gone for good: its own consumer group goes too (once no replica is in it any more). */
  async removed(reg: KafkaRegistration): Promise<void> {
    this.halt(reg.id);
    await this.stopping.get(reg.id);
    if (reg.config.groupId) return;
    const group = groupIdOf(reg);
    void (async () => {
      for (let attempt = 0; attempt < 5 && !this.stopped; attempt++) {
        if (await deleteGroup(reg.config, group, this.logger).catch(() => false)) return;
        await new Promise((r) => setTimeout(r, this.o.reconcileMs + this.o.sessionTimeoutMs / 2));
      }
      this.logger.info({ registration: reg.id, groupId: group }, 'kafka feed: consumer group left behind (still has members or cannot be reached)');
    })();
  }

  async start(events: FeedEvents): Promise<void> {
    this.events = events;
    await this.reconcile();
    this.reconciler = setInterval(() => void this.reconcile(), this.o.reconcileMs);
    this.logger.info({ consumers: this.consumers.size }, 'kafka provider started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reconciler);
    await this.reconciling;
    for (const id of [...this.consumers.keys()]) this.halt(id);
    await Promise.all([...this.stopping.values()]);
  }

  async health(): Promise<Record<string, unknown>> {
    return { consumers: this.consumers.size };
  }

  /** Lag per registration and partition, as this replica last saw it after a fire. */
  gauges(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, parts] of this.lag) {
      for (const [partition, lag] of parts) out[`whiskhub_feed_kafka_lag{registration="${id.replace(/["\\\n]/g, '_')}",partition="${partition}"}`] = lag;
    }
    return out;
  }

  private run(reg: KafkaRegistration): void {
    if (this.stopped || !this.events) return;
    this.halt(reg.id);
    const lag = new Map<number, number>();
    this.lag.set(reg.id, lag);
    const consumer = new TriggerConsumer(reg, {
      events: this.events,
      registrations: this.registrations,
      logger: this.logger,
      retry: this.o.retry,
      throttleMaxDelayMs: this.o.throttleMaxDelayMs,
      watchdogMs: this.o.watchdogMs,
      maxFailures: this.o.maxFailures,
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      firesInFlight: this.o.firesInFlight,
      onLag: (partition, n) => lag.set(partition, n),
    });
    this.consumers.set(reg.id, consumer);
    consumer.start();
  }

  /** Stops this replica's consumer of a registration without waiting: it may be the caller (a refusal met in its own batch). */
  private halt(id: string): void {
    const c = this.consumers.get(id);
    if (!c) return;
    this.consumers.delete(id);
    this.lag.delete(id);
    const stopped = c
      .stop()
      .catch((err) => this.logger.warn({ err, registration: id }, 'kafka feed: consumer stop failed'))
      .finally(() => {
        if (this.stopping.get(id) === stopped) this.stopping.delete(id);
      });
    this.stopping.set(id, stopped);
  }

  /** Starts what is active and not running here (or runs an older generation), stops what is no longer active. */
  private reconcile(): Promise<void> {
    if (this.reconciling || this.stopped) return this.reconciling ?? Promise.resolve();
    this.reconciling = (async () => {
      try {
        const regs = await this.registrations.list<KafkaFeedConfig>(this.name);
        const active = new Map(regs.filter((r) => r.status.active).map((r) => [r.id, r]));
        for (const reg of active.values()) {
          const running = this.consumers.get(reg.id);
          if (!running || running.generation < reg.generation) this.run(reg);
        }
        for (const [id, running] of this.consumers) {
          if (active.has(id)) continue;
          // Read it again: the list may predate a CREATE this replica has just served.
          const now = (await this.registrations.get<KafkaFeedConfig>(id))?.doc;
          if (now?.status.active && now.generation > running.generation) this.run(now);
          else if (!now || !now.status.active) this.halt(id);
        }
      } catch (err) {
        this.logger.warn({ error: (err as Error).message }, 'kafka feed: reconcile failed');
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }
}
