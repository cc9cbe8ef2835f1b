import type { ContainerFactory } from '../containers/container-factory.js';
import type { Logger } from '../logging/logger.js';
import { Topics, valueOf, type BusMessage, type MessageBus, type ReceivedMessage, type Subscription } from '../messaging/bus.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { ActionCache } from './action-cache.js';
import { ActivationWriter } from '../store/activation-writer.js';
import { ContainerPool, type PoolSettings } from './container-pool.js';
import type { ActivationDoc } from '../entities/documents.js';
import { MAX_ACK_BYTES, type AckMessage, type ActivationMessage, type HealthPing } from './messages.js';
import { systemError } from './outcome.js';
import { entityPaths, runActivation, type RunResult } from './run-activation.js';

export interface InvokerOptions {
  index: number;
  bus: MessageBus;
  store: ArtifactStore;
  factory: ContainerFactory;
  pool: Omit<PoolSettings, 'labels'>;
  logger: Logger;
  /**
   * Names this invoker's containers (label `whiskhub.instance`), so that start-up cleanup only
   * removes what an earlier run of this same invoker left, never another cluster's or a
   * standalone's on the same engine.
   */
  instance?: string;
  /**
   * Activations running at once (taken off the topic, not yet done running); more wait in
   * Kafka. Those done running but whose record is still being stored count apart, up to
   * FINISHING_FACTOR times this: a slow store must not hold back runs (it bounded the invoker
   * at maxInFlight / store latency), but neither may records pile up without bound.
   */
  maxInFlight: number;
  healthIntervalMs?: number;
}

/** How many times maxInFlight may be taken in all, counting those whose record is being stored. */
const FINISHING_FACTOR = 8;

/**
 * An invoker: consumes `invoker<N>`, runs each activation in a pooled container, answers a
 * blocking caller's controller at once (a `result` ack), writes the record in a batch, and then
 * acknowledges the activation as complete. It pings `health` every second so the load balancer
 * knows it is alive and how much room it has.
 */
export class Invoker {
  private readonly pool: ContainerPool;
  private readonly writer: ActivationWriter;
  private readonly actions: ActionCache;
  private subscription?: Subscription;
  private healthTimer?: NodeJS.Timeout;
  /** Every activation taken and not finished (its record stored and its completion sent). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Those of them still running. */
  private running = 0;
  private slotWaiters: (() => void)[] = [];
  private readonly labels: Record<string, string>;
  /** When this process started: older messages were meant for an earlier run (see take()). */
  private startedAt = Date.now();

  constructor(private readonly o: InvokerOptions) {
    this.labels = { whiskhub: 'action', 'whiskhub.invoker': String(o.index), ...(o.instance ? { 'whiskhub.instance': o.instance } : {}) };
    this.pool = new ContainerPool(o.factory, { ...o.pool, labels: this.labels }, o.logger, `wh_invoker${o.index}`);
    this.writer = new ActivationWriter(o.store, o.logger);
    this.actions = new ActionCache(o.store);
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
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
      const msg: HealthPing = { invoker: this.o.index, capacityMB: this.pool.capacityMB, freeMemoryMB: this.pool.freeMemoryMB, at: Date.now() };
      this.o.bus.publish(Topics.health, [{ object: msg }]).catch((err) => this.o.logger.warn({ err }, 'health ping failed'));
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
      while (this.running >= this.o.maxInFlight || this.inFlight.size >= this.o.maxInFlight * FINISHING_FACTOR) {
        await new Promise<void>((r) => this.slotWaiters.push(r));
      }
      let msg: ActivationMessage;
      try {
        msg = valueOf<ActivationMessage>(m);
      } catch (err) {
        this.o.logger.error({ err, offset: m.offset }, 'unreadable activation message skipped');
        continue;
      }
      this.running++;
      let ran = false;
      const doneRunning = () => {
        if (ran) return;
        ran = true;
        this.running--;
        this.slotWaiters.shift()?.();
      };
      const p = this.handle(msg, doneRunning).finally(() => {
        doneRunning();
        this.inFlight.delete(p);
        this.slotWaiters.shift()?.();
      });
      this.inFlight.add(p);
    }
  }

  /**
   * A message published before this process started was meant for an earlier run of this
   * invoker. If that run died, the load balancer has recorded the activation as failed by now:
   * running it again would run it twice. So such backlog runs only when it has no record yet.
   */
  private async alreadyRecorded(msg: ActivationMessage): Promise<boolean> {
    if (msg.receivedAt >= this.startedAt) return false;
    const existing = await this.o.store.getActivation(msg.user.namespace, msg.activationId).catch(() => undefined);
    if (existing) this.o.logger.info({ activationId: msg.activationId }, 'activation from before this start is recorded already; not run again');
    return existing !== undefined;
  }

  private async handle(msg: ActivationMessage, doneRunning: () => void): Promise<void> {
    if (await this.alreadyRecorded(msg)) return;
    const id = `${msg.action.path}/${msg.action.name}`;
    const base = { activationId: msg.activationId, transactionId: msg.transactionId, invoker: this.o.index };
    // A blocking caller is waiting: answer as soon as the run is over, then store the record
    // (logs and all), then say it is stored.
    let answered: Promise<void> | undefined;
    const answer = (r: RunResult) => {
      if (msg.blocking) answered ??= this.ack(msg, { kind: 'result', ...base, isSystemError: r.isSystemError }, r.record);
    };
    let outcome: RunResult;
    try {
      const action = await this.actions.get(id, msg.action.rev);
      if (!action) throw new Error(`action ${id} (revision ${msg.action.rev}) no longer exists`);
      outcome = await runActivation(this.pool, msg, action, answer);
    } catch (err) {
      this.o.logger.error({ err, activationId: msg.activationId }, 'activation failed in the invoker');
      const now = Date.now();
      outcome = {
        isSystemError: true,
        record: {
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
    answer(outcome); // when the run never got as far (a failed /init, an error)
    doneRunning();
    await this.writer.write(outcome.record);
    await answered;
    await this.ack(msg, { kind: 'completion', ...base, isSystemError: outcome.isSystemError }, msg.blocking ? undefined : outcome.record);
  }

  /** Publishes an ack, with the record (logs left out) when it fits in a message. */
  private async ack(msg: ActivationMessage, ack: AckMessage, record?: ActivationDoc): Promise<void> {
    const full = record ? { ...ack, activation: { ...record, logs: [] } } : ack;
    let message: BusMessage;
    if (this.o.bus.inProcess) {
      message = { key: msg.activationId, object: full };
    } else {
      const value = JSON.stringify(full);
      message = { key: msg.activationId, value: Buffer.byteLength(value) > MAX_ACK_BYTES ? JSON.stringify(ack) : value };
    }
    await this.o.bus
      .publish(Topics.completed(msg.rootControllerIndex), [message])
      .catch((err) => this.o.logger.error({ err, activationId: msg.activationId, kind: ack.kind }, 'publishing an ack failed'));
  }

  async stop(): Promise<void> {
    if (this.healthTimer) clearInterval(this.healthTimer);
    await this.subscription?.stop();
    await Promise.all(this.inFlight);
    await this.writer.flush();
    await this.pool.close();
  }
}
