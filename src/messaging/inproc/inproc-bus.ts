import type { BusMessage, MessageBus, SubscribeOptions, Subscription } from '../bus.js';
import { GroupCursor, type DeliveryOptions, type InProcessLogger, type Member } from './group-cursor.js';
import { TopicLog } from './topic-log.js';

export interface InProcessBusOptions extends Partial<DeliveryOptions> {
  /**
   * Messages every group has consumed that a topic keeps anyway, for groups that subscribe later
   * with fromBeginning (Kafka keeps them for its retention time). Default 1000.
   */
  retainConsumed?: number;
  logger?: InProcessLogger;
}

const DEFAULTS = { maxBatch: 100, retryDelayMs: 50, maxRetryDelayMs: 2_000, retainConsumed: 1_000 };

interface TopicState {
  log: TopicLog;
  groups: Map<string, GroupCursor>;
}

/**
 * The standalone MessageBus: each topic is an in-memory log with one partition (0); each group
 * keeps its own position. Nothing survives the process, which is what standalone wants: the
 * controller and the invoker live and die together.
 *
 * Retention: a message stays until every group has consumed it and `retainConsumed` newer
 * messages exist; messages a group has not consumed are never dropped.
 */
export class InProcessMessageBus implements MessageBus {
  readonly durable = false;
  readonly inProcess = true;
  private readonly topics = new Map<string, TopicState>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly delivery: DeliveryOptions;
  private readonly retainConsumed: number;
  private readonly logger: InProcessLogger;
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.delivery = {
      maxBatch: options.maxBatch ?? DEFAULTS.maxBatch,
      retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
      maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
    };
    this.retainConsumed = options.retainConsumed ?? DEFAULTS.retainConsumed;
    this.logger = options.logger ?? { warn: () => {} };
  }

  async ensureTopics(topics: string[]): Promise<void> {
    this.assertOpen();
    for (const t of topics) this.topic(t);
  }

  publish(topic: string, messages: BusMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (messages.length === 0) return Promise.resolve();
    const state = this.topic(topic);
    state.log.append(messages);
    for (const cursor of state.groups.values()) cursor.kick();
    if (state.log.end - state.log.start > this.retainConsumed) this.trim(state);
    return Promise.resolve();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    const state = this.topic(options.topic);
    let cursor = state.groups.get(options.group);
    if (!cursor) {
      // A new group starts at the end, or at the oldest retained message; an existing group
      // resumes where it stopped whatever fromBeginning says (as in Kafka).
      const position = options.fromBeginning ? state.log.start : state.log.end;
      cursor = new GroupCursor(options.group, state.log, position, this.delivery, this.logger, () => this.trim(state));
      state.groups.set(options.group, cursor);
    }
    const member: Member = { handler: options.handler };
    const group = cursor;
    let stopping: Promise<void> | undefined;
    const subscription: Subscription = {
      stop: () => {
        stopping ??= group.remove(member).finally(() => this.subscriptions.delete(subscription));
        return stopping;
      },
    };
    this.subscriptions.add(subscription);
    group.add(member);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    for (const state of this.topics.values()) for (const cursor of state.groups.values()) cursor.cancelRetry();
  }

  private topic(name: string): TopicState {
    let state = this.topics.get(name);
    if (!state) {
      state = { log: new TopicLog(name), groups: new Map() };
      this.topics.set(name, state);
    }
    return state;
  }

  /** Drops what every group has consumed, except the newest `retainConsumed` messages. */
  private trim(state: TopicState): void {
    let keepFrom = state.log.end - this.retainConsumed;
    if (keepFrom <= state.log.start) return;
    for (const cursor of state.groups.values()) if (cursor.position < keepFrom) keepFrom = cursor.position;
    state.log.trimBefore(keepFrom);
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

const closedError = () => new Error('message bus is closed');

export function createInProcessBus(options: InProcessBusOptions = {}): InProcessMessageBus {
  return new InProcessMessageBus(options);
}
