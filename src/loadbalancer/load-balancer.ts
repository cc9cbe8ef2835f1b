import type { ActivationDoc } from '../entities/documents.js';
import type { CompletionMessage, ActivationMessage, HealthPing } from '../invoker/messages.js';
import { systemError } from '../invoker/outcome.js';
import { entityPaths } from '../invoker/run-activation.js';
import type { Logger } from '../logging/logger.js';
import { Topics, type MessageBus, type Subscription } from '../messaging/bus.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { chooseInvoker, type InvokerView } from './choose-invoker.js';

export interface LoadBalancerOptions {
  controllerIndex: number;
  bus: MessageBus;
  store: ArtifactStore;
  logger: Logger;
  /** An invoker silent for this long is down: no new work, its activations end as errors. */
  invokerTimeoutMs: number;
}

interface Pending {
  msg: ActivationMessage;
  invoker: number;
  memoryMB: number;
  resolve: (c: CompletionMessage) => void;
}

interface InvokerState {
  index: number;
  lastPing: number;
  freeMB: number;
  down: boolean;
}

export class NoInvokersError extends Error {
  constructor() {
    super('No invokers available.');
  }
}

/**
 * The controller's half of the pipeline: picks an invoker, publishes the activation on its
 * topic, and resolves the activation's promise when the completion arrives. It follows invoker
 * health from the pings; when an invoker goes silent, every activation it held ends as a
 * `whisk internal error` record, written here, so none is lost without a trace.
 */
export class LoadBalancer {
  private readonly invokers = new Map<number, InvokerState>();
  private readonly pending = new Map<string, Pending>();
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
        handler: async (batch) => {
          for (const m of batch) this.onPing(JSON.parse(m.value) as HealthPing);
        },
      }),
      await this.o.bus.subscribe({
        topic: completed,
        group: `controller${this.o.controllerIndex}`,
        handler: async (batch) => {
          for (const m of batch) this.onCompletion(JSON.parse(m.value) as CompletionMessage);
        },
      }),
    );
    this.timer = setInterval(() => void this.checkHealth(), Math.min(1_000, this.o.invokerTimeoutMs / 2));
    this.timer.unref();
  }

  /** Waits (bounded) until at least one invoker has pinged; standalone's start uses it. */
  async waitForInvoker(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (![...this.invokers.values()].some((i) => !i.down)) {
      if (Date.now() > deadline) throw new NoInvokersError();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Publishes the activation and resolves once it is durably queued; `completion` then settles
   * with its completion (or its failure record). (Wrapped in an object: an async function would
   * flatten a returned promise and wait for the completion.)
   */
  async publish(msg: ActivationMessage, memoryMB: number): Promise<{ invoker: number; completion: Promise<CompletionMessage> }> {
    const views: InvokerView[] = [...this.invokers.values()]
      .sort((a, b) => a.index - b.index)
      .map((i) => ({ index: i.index, healthy: !i.down, freeMB: i.freeMB - this.reservedOn(i.index) }));
    const invoker = chooseInvoker(views, `${msg.user.namespace}/${msg.action.path}/${msg.action.name}`, memoryMB);
    if (invoker === undefined) throw new NoInvokersError();
    const done = new Promise<CompletionMessage>((resolve) => {
      this.pending.set(msg.activationId, { msg, invoker, memoryMB, resolve });
    });
    try {
      await this.o.bus.publish(Topics.invoker(invoker), [{ key: msg.activationId, value: JSON.stringify(msg) }]);
    } catch (err) {
      this.pending.delete(msg.activationId);
      throw err;
    }
    return { invoker, completion: done };
  }

  private reservedOn(index: number): number {
    let mb = 0;
    for (const p of this.pending.values()) if (p.invoker === index) mb += p.memoryMB;
    return mb;
  }

  private onPing(ping: HealthPing): void {
    // A restarted controller's group may replay old pings; only recent ones say an invoker lives.
    if (Date.now() - ping.at > this.o.invokerTimeoutMs) return;
    const state = this.invokers.get(ping.invoker);
    if (state?.down) this.o.logger.info({ invoker: ping.invoker }, 'invoker is back');
    this.invokers.set(ping.invoker, { index: ping.invoker, lastPing: Date.now(), freeMB: ping.freeMemoryMB, down: false });
  }

  private onCompletion(c: CompletionMessage): void {
    const p = this.pending.get(c.activationId);
    if (!p) return; // answered already (e.g. failed over when its invoker went silent)
    this.pending.delete(c.activationId);
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
  }

  /** Ends activations that can no longer complete, with a record each (never silently). */
  private async failAll(lost: Pending[], reason: string): Promise<void> {
    const now = Date.now();
    const records: ActivationDoc[] = lost.map(({ msg }) => ({
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
    }));
    try {
      await this.o.store.putActivations(records);
    } catch (err) {
      this.o.logger.error({ err, count: records.length }, 'could not store the records of lost activations');
    }
    for (const [i, p] of lost.entries()) {
      this.pending.delete(p.msg.activationId);
      p.resolve({ activationId: p.msg.activationId, transactionId: p.msg.transactionId, invoker: p.invoker, isSystemError: true, activation: records[i] });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subs) await s.stop();
  }
}
