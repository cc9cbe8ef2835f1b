import type { ContainerFactory } from '../containers/container-factory.js';
import type { Logger } from '../logging/logger.js';
import { Topics, type MessageBus, type ReceivedMessage, type Subscription } from '../messaging/bus.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { ActionCache } from './action-cache.js';
import { ActivationWriter } from './activation-writer.js';
import { ContainerPool, type PoolSettings } from './container-pool.js';
import type { ActivationMessage, CompletionMessage, HealthPing } from './messages.js';
import { systemError } from './outcome.js';
import { entityPaths, runActivation } from './run-activation.js';

export interface InvokerOptions {
  index: number;
  bus: MessageBus;
  store: ArtifactStore;
  factory: ContainerFactory;
  pool: Omit<PoolSettings, 'labels'>;
  logger: Logger;
  /** Activations taken off the topic at once; more wait in Kafka. */
  maxInFlight: number;
  healthIntervalMs?: number;
}

/**
 * An invoker: consumes `invoker<N>`, runs each activation in a pooled container, answers the
 * controller on its completion topic at once (logs included) and writes the record in a batch.
 * It pings `health` every second so the load balancer knows it is alive and how much room it has.
 */
export class Invoker {
  private readonly pool: ContainerPool;
  private readonly writer: ActivationWriter;
  private readonly actions: ActionCache;
  private subscription?: Subscription;
  private healthTimer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private slotWaiters: (() => void)[] = [];
  private readonly labels: Record<string, string>;

  constructor(private readonly o: InvokerOptions) {
    this.labels = { whiskhub: 'action', 'whiskhub.invoker': String(o.index) };
    this.pool = new ContainerPool(o.factory, { ...o.pool, labels: this.labels }, o.logger, `wh_invoker${o.index}`);
    this.writer = new ActivationWriter(o.store, o.logger);
    this.actions = new ActionCache(o.store);
  }

  async start(): Promise<void> {
    const removed = await this.o.factory.cleanup(this.labels);
    if (removed) this.o.logger.info({ removed }, 'removed containers left by an earlier run');
    await this.o.bus.ensureTopics([Topics.invoker(this.o.index), Topics.health]);
    await this.pool.start();
    this.subscription = await this.o.bus.subscribe({
      topic: Topics.invoker(this.o.index),
      group: `invoker${this.o.index}`,
      handler: (batch) => this.take(batch),
    });
    const ping = () => {
      const msg: HealthPing = { invoker: this.o.index, freeMemoryMB: this.pool.freeMemoryMB, at: Date.now() };
      this.o.bus.publish(Topics.health, [{ value: JSON.stringify(msg) }]).catch((err) => this.o.logger.warn({ err }, 'health ping failed'));
    };
    ping();
    this.healthTimer = setInterval(ping, this.o.healthIntervalMs ?? 1_000);
    this.healthTimer.unref();
    this.o.logger.info({ invoker: this.o.index, factory: this.o.factory.name }, 'invoker started');
  }

  /**
   * Takes a batch off the topic: each activation starts at once, up to `maxInFlight`; the batch
   * counts as consumed when all of it has started. An invoker that dies with activations in
   * flight leaves them to the load balancer, which records them as whisk internal errors.
   */
  private async take(batch: ReceivedMessage[]): Promise<void> {
    for (const m of batch) {
      while (this.inFlight.size >= this.o.maxInFlight) await new Promise<void>((r) => this.slotWaiters.push(r));
      let msg: ActivationMessage;
      try {
        msg = JSON.parse(m.value) as ActivationMessage;
      } catch (err) {
        this.o.logger.error({ err, offset: m.offset }, 'unreadable activation message skipped');
        continue;
      }
      const p = this.handle(msg).finally(() => {
        this.inFlight.delete(p);
        this.slotWaiters.shift()?.();
      });
      this.inFlight.add(p);
    }
  }

  private async handle(msg: ActivationMessage): Promise<void> {
    const id = `${msg.action.path}/${msg.action.name}`;
    let completion: CompletionMessage;
    try {
      const action = await this.actions.get(id, msg.action.rev);
      if (!action) throw new Error(`action ${id} (revision ${msg.action.rev}) no longer exists`);
      const { record, isSystemError } = await runActivation(this.pool, msg, action);
      completion = { activationId: msg.activationId, transactionId: msg.transactionId, invoker: this.o.index, isSystemError, activation: record };
    } catch (err) {
      this.o.logger.error({ err, activationId: msg.activationId }, 'activation failed in the invoker');
      const now = Date.now();
      completion = {
        activationId: msg.activationId,
        transactionId: msg.transactionId,
        invoker: this.o.index,
        isSystemError: true,
        activation: {
          namespace: msg.user.namespace,
          name: msg.action.name,
          version: msg.action.version,
          subject: msg.user.subject,
          publish: false,
          activationId: msg.activationId,
          start: now,
          end: now,
          duration: 0,
          response: systemError((err as Error).message),
          logs: [],
          annotations: [{ key: 'path', value: id }],
          entityPaths: entityPaths(msg),
        },
      };
    }
    // The answer goes first (a blocking caller is waiting), then the record joins a batch.
    await this.o.bus
      .publish(Topics.completed(msg.rootControllerIndex), [{ key: msg.activationId, value: JSON.stringify(completion) }])
      .catch((err) => this.o.logger.error({ err, activationId: msg.activationId }, 'publishing a completion failed'));
    this.writer.write(completion.activation);
  }

  async stop(): Promise<void> {
    if (this.healthTimer) clearInterval(this.healthTimer);
    await this.subscription?.stop();
    await Promise.all(this.inFlight);
    await this.writer.flush();
    await this.pool.close();
  }
}
