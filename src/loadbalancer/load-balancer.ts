import type { ActivationDoc } from '../entities/documents.js';
import { onlyConflicts } from '../store/activation-writer.js';
import type { AckMessage, ActivationMessage, CompletionMessage, HealthPing } from '../invoker/messages.js';
import { systemError } from '../invoker/outcome.js';
import { entityPaths } from '../invoker/run-activation.js';
import type { Logger } from '../logging/logger.js';
import { Topics, valueOf, type MessageBus, type Subscription } from '../messaging/bus.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { chooseInvoker, type InvokerView } from './choose-invoker.js';

export interface LoadBalancerOptions {
  controllerIndex: number;
  bus: MessageBus;
  store: ArtifactStore;
  logger: Logger;
  /** An invoker silent for this long is down: no new work, its activations end as errors. */
  invokerTimeoutMs: number;
  /**
   * An activation with no completion after this long is given up on (recorded as failed if it
   * has no record) and its memory freed: OpenWhisk's forced release. Default 11 minutes: twice
   * the longest action time limit, plus a minute.
   */
  forceReleaseMs?: number;
}

interface Pending {
  msg: ActivationMessage;
  invoker: number;
  memoryMB: number;
  resolve: (c: CompletionMessage) => void;
  /** Set once the caller has its answer (a result ack): the record follows with the completion. */
  answered?: CompletionMessage;
  /** Set once its memory no longer counts on the invoker (answered, or given up). */
  released?: boolean;
}

interface InvokerState {
  index: number;
  lastPing: number;
  capacityMB: number;
  down: boolean;
}

/**
 * Acks and pings are committed every half second, not after every batch: a restarted controller
 * that sees some again ignores them (the activation is over, the ping old).
 */
const ACK_COMMIT_INTERVAL_MS = 500;

export class NoInvokersError extends Error {
  constructor() {
    super('No invokers available.');
  }
}

/**
 * The controller's half of the pipeline: picks an invoker, publishes the activation on its
 * topic, answers the caller at the invoker's result ack and forgets the activation at its
 * completion ack (the record is stored then). It follows invoker health from the pings: a
 * silent invoker gets no new work, and every activation it still held (running, or queued on
 * its topic where nobody will read it) ends with a record: the one the invoker stored if it got
 * that far, the result it sent, or else a `whisk internal error` written here.
 */
export class LoadBalancer {
  private readonly invokers = new Map<number, InvokerState>();
  private readonly pending = new Map<string, Pending>();
  /**
   * Memory held on each invoker by activations still running there, kept as they come and go:
   * summing `pending` on every publish cost O(activations in flight), which a fan-out of
   * thousands of non-blocking activations made quadratic.
   */
  private readonly reserved = new Map<number, number>();
  private readonly subs: Subscription[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: LoadBalancerOptions) {}

  async start(): Promise<void> {
    const completed = Topics.completed(this.o.controllerIndex);
    await this.o.bus.ensureTopics([completed, Topics.health]);
    this.subs.push(
      await this.o.bus.subscribe({
        topic: Topics.health,
        group: `controller${this.o.controllerIndex}-health`,
        commitIntervalMs: ACK_COMMIT_INTERVAL_MS,
        handler: async (batch) => {
          for (const m of batch) this.onPing(valueOf<HealthPing>(m));
        },
      }),
      await this.o.bus.subscribe({
        topic: completed,
        group: `controller${this.o.controllerIndex}`,
        commitIntervalMs: ACK_COMMIT_INTERVAL_MS,
        handler: async (batch) => {
          for (const m of batch) this.onAck(valueOf<AckMessage>(m));
        },
      }),
    );
    this.timer = setInterval(() => void this.checkHealth(), Math.min(1_000, this.o.invokerTimeoutMs / 2));
    this.timer.unref();
  }

  /** Waits (bounded) until at least `count` invokers are up; standalone's start uses it. */
  async waitForInvoker(timeoutMs: number, count = 1): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.healthyInvokers().length < count) {
      if (Date.now() > deadline) throw new NoInvokersError();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The indexes of the invokers that are up. */
  healthyInvokers(): number[] {
    return [...this.invokers.values()].filter((i) => !i.down).map((i) => i.index);
  }

  /**
   * Publishes the activation and resolves once it is durably queued; `completion` then settles
   * with its completion (or its failure record). (Wrapped in an object: an async function would
   * flatten a returned promise and wait for the completion.)
   */
  async publish(msg: ActivationMessage, memoryMB: number): Promise<{ invoker: number; completion: Promise<CompletionMessage> }> {
    const views: InvokerView[] = [...this.invokers.values()]
      .sort((a, b) => a.index - b.index)
      .map((i) => ({ index: i.index, healthy: !i.down, freeMB: i.capacityMB - this.reservedOn(i.index) }));
    const invoker = chooseInvoker(views, `${msg.user.namespace}/${msg.action.path}/${msg.action.name}`, memoryMB);
    if (invoker === undefined) throw new NoInvokersError();
    let entry!: Pending;
    const done = new Promise<CompletionMessage>((resolve) => {
      entry = { msg, invoker, memoryMB, resolve };
      this.pending.set(msg.activationId, entry);
    });
    this.reserved.set(invoker, this.reservedOn(invoker) + memoryMB);
    try {
      await this.o.bus.publish(Topics.invoker(invoker), [{ key: msg.activationId, object: msg }]);
    } catch (err) {
      this.pending.delete(msg.activationId);
      this.release(entry);
      throw err;
    }
    return { invoker, completion: done };
  }

  /** Memory held on an invoker by activations still running there (answered ones are done running). */
  private reservedOn(index: number): number {
    return this.reserved.get(index) ?? 0;
  }

  private release(p: Pending): void {
    if (p.released) return;
    p.released = true;
    this.reserved.set(p.invoker, this.reservedOn(p.invoker) - p.memoryMB);
  }

  private onPing(ping: HealthPing): void {
    // A restarted controller's group may replay old pings; only recent ones say an invoker lives.
    if (Date.now() - ping.at > this.o.invokerTimeoutMs) return;
    const state = this.invokers.get(ping.invoker);
    if (!state) this.o.logger.info({ invoker: ping.invoker, capacityMB: ping.capacityMB }, 'invoker joined');
    else if (state.down) this.o.logger.info({ invoker: ping.invoker }, 'invoker is back');
    // Older invokers sent only their free memory.
    const capacityMB = ping.capacityMB ?? ping.freeMemoryMB;
    this.invokers.set(ping.invoker, { index: ping.invoker, lastPing: Date.now(), capacityMB, down: false });
  }

  private onAck(ack: AckMessage): void {
    const p = this.pending.get(ack.activationId);
    if (!p) return; // over already (e.g. failed over when its invoker went silent)
    if (ack.kind === 'result') {
      // Without the record (too large for a message), the caller waits for the completion.
      if (ack.activation && !p.answered) this.answer(p, { ...ack, activation: ack.activation });
      return;
    }
    this.pending.delete(ack.activationId);
    this.release(p);
    if (p.answered) return;
    if (ack.activation) return this.answer(p, { ...ack, activation: ack.activation });
    // The record is stored (that is what the completion says): read it from there.
    void this.o.store.getActivation(p.msg.user.namespace, p.msg.activationId).then(
      (record) => this.answer(p, { ...ack, activation: record ?? failureRecord(p.msg, Date.now(), 'The activation record could not be found.') }),
      (err: unknown) => {
        this.o.logger.error({ err, activationId: ack.activationId }, 'could not read a completed activation');
        this.answer(p, { ...ack, isSystemError: true, activation: failureRecord(p.msg, Date.now(), 'The activation record could not be read.') });
      },
    );
  }

  private answer(p: Pending, c: CompletionMessage): void {
    if (p.answered) return;
    this.release(p);
    p.answered = c;
    p.resolve(c);
  }

  private async checkHealth(): Promise<void> {
    const now = Date.now();
    for (const inv of this.invokers.values()) {
      if (inv.down || now - inv.lastPing < this.o.invokerTimeoutMs) continue;
      inv.down = true;
      const lost = [...this.pending.values()].filter((p) => p.invoker === inv.index);
      this.o.logger.warn({ invoker: inv.index, activations: lost.length }, 'invoker stopped answering; marked down');
      if (lost.length) await this.failAll(lost, `The invoker running this activation (invoker${inv.index}) stopped answering.`);
    }
    const forceReleaseMs = this.o.forceReleaseMs ?? 11 * 60_000;
    const overdue = [...this.pending.values()].filter((p) => now - p.msg.receivedAt > forceReleaseMs);
    if (overdue.length) {
      this.o.logger.warn({ activations: overdue.length }, 'activations without a completion for too long; released');
      await this.failAll(overdue, `No completion arrived for this activation within ${forceReleaseMs} milliseconds.`);
    }
  }

  /**
   * Ends activations that can no longer complete, each with a record (never silently): the one
   * in the store if the invoker wrote it before it went, else the result it had sent, else a
   * whisk internal error written here. Callers still waiting get that record.
   */
  private async failAll(lost: Pending[], reason: string): Promise<void> {
    for (const p of lost) {
      this.pending.delete(p.msg.activationId);
      this.release(p);
    }
    const now = Date.now();
    const stored = await Promise.all(lost.map((p) => this.o.store.getActivation(p.msg.user.namespace, p.msg.activationId).catch(() => undefined)));
    const records = lost.map((p, i) => stored[i] ?? p.answered?.activation ?? failureRecord(p.msg, now, reason));
    const missing = records.filter((_, i) => !stored[i]);
    if (missing.length) {
      try {
        await this.o.store.putActivations(missing);
      } catch (err) {
        // A conflict: the invoker got its record in meanwhile, which is as good.
        if (!onlyConflicts(err)) this.o.logger.error({ err, count: missing.length }, 'could not store the records of lost activations');
      }
      this.o.logger.warn({ count: missing.length, reason }, 'recorded activations an invoker could not finish');
    }
    for (const [i, p] of lost.entries()) {
      const record = records[i];
      this.answer(p, {
        activationId: p.msg.activationId,
        transactionId: p.msg.transactionId,
        invoker: p.invoker,
        isSystemError: record.response.statusCode === 3,
        activation: record,
      });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subs) await s.stop();
  }
}

/** The record of an activation the platform lost: a whisk internal error saying why. */
function failureRecord(msg: ActivationMessage, now: number, reason: string): ActivationDoc {
  return {
    namespace: msg.user.namespace,
    name: msg.action.name,
    version: msg.action.version,
    subject: msg.user.subject,
    publish: false,
    activationId: msg.activationId,
    start: msg.receivedAt,
    end: now,
    duration: now - msg.receivedAt,
    response: systemError(reason),
    logs: [],
    annotations: [{ key: 'path', value: `${msg.action.path}/${msg.action.name}` }],
    entityPaths: entityPaths(msg),
  };
}
