import type { Container, ContainerFactory, ContainerSpec } from '../containers/container-factory.js';
import type { Logger } from '../logging/logger.js';

/** What an activation needs from the pool. */
export interface ContainerNeed {
  /** Identifies the code: action doc id and revision (a new revision never reuses old containers). */
  actionKey: string;
  kind: string;
  image?: string;
  memoryMB: number;
  /** Activations one container may run at once (the action's `limits.concurrency`). */
  concurrency: number;
}

export interface PoolSettings {
  /** Total memory (MB) the pool's containers may hold; the least recently used idle ones go first. */
  memoryBudgetMB: number;
  /** Stem cells kept ready per kind: created before any action needs them, initialized on first use. */
  prewarm: { kind: string; memoryMB: number; count: number }[];
  /** An idle container is paused after this long (it costs no CPU, and resumes in ~20 ms). */
  pauseAfterMs: number;
  /** An idle container is destroyed after this long. */
  idleTimeoutMs: number;
  /** Extra environment and labels for every container. */
  env: Record<string, string>;
  labels: Record<string, string>;
}

interface Entry {
  container: Container;
  kind: string;
  memoryMB: number;
  /** Undefined while a stem cell; set once an action claimed it. */
  actionKey?: string;
  initialized: boolean;
  active: number;
  concurrency: number;
  paused: boolean;
  lastUsed: number;
  idleTimer?: NodeJS.Timeout;
  destroyed: boolean;
}

/** A container lent to one activation. */
export interface Lease {
  container: Container;
  /** True when /init must run first (a new container or a stem cell). */
  needsInit: boolean;
  /** How the container was found, for logs and benchmarks. */
  source: 'warm' | 'paused' | 'prewarm' | 'cold';
  /** Call after a successful /init. */
  initialized(): void;
  /** Give it back; `broken` destroys it instead (timeout, crash, failed init). */
  release(broken?: boolean): Promise<void>;
}

/**
 * The invoker's containers: warm ones reused per action revision, stem cells per kind, idle ones
 * paused and later destroyed, and the least recently used idle ones evicted when the memory
 * budget is full. Acquires that cannot be served wait, in order, for a release.
 */
export class ContainerPool {
  private readonly entries = new Set<Entry>();
  private readonly waiters: { need: ContainerNeed; resolve: (l: Lease) => void; reject: (e: unknown) => void }[] = [];
  private seq = 0;
  private closed = false;

  constructor(
    private readonly factory: ContainerFactory,
    private readonly settings: PoolSettings,
    private readonly logger: Logger,
    private readonly namePrefix: string,
  ) {}

  async start(): Promise<void> {
    await this.fillStemCells();
  }

  get usedMemoryMB(): number {
    let used = 0;
    for (const e of this.entries) used += e.memoryMB;
    return used;
  }

  get freeMemoryMB(): number {
    return this.settings.memoryBudgetMB - this.usedMemoryMB;
  }

  stats() {
    const s = { warm: 0, paused: 0, prewarm: 0, busy: 0 };
    for (const e of this.entries) {
      if (!e.actionKey) s.prewarm++;
      else if (e.active > 0) s.busy++;
      else if (e.paused) s.paused++;
      else s.warm++;
    }
    return s;
  }

  acquire(need: ContainerNeed): Promise<Lease> {
    if (this.closed) return Promise.reject(new Error('container pool is closed'));
    const lease = this.tryAcquire(need);
    if (lease) return lease;
    return new Promise((resolve, reject) => this.waiters.push({ need, resolve, reject }));
  }

  /** Serves `need` now if anything allows it, else undefined (the caller queues). */
  private tryAcquire(need: ContainerNeed): Promise<Lease> | undefined {
    let paused: Entry | undefined;
    for (const e of this.entries) {
      if (e.destroyed || e.actionKey !== need.actionKey || !e.initialized || e.active >= e.concurrency) continue;
      if (!e.paused) return Promise.resolve(this.lend(e, false, 'warm'));
      paused ??= e;
    }
    if (paused) {
      const e = paused;
      e.active++;
      this.clearIdle(e);
      return e.container.resume().then(
        () => {
          e.paused = false;
          e.active--;
          return this.lend(e, false, 'paused');
        },
        async (err) => {
          e.active--;
          await this.remove(e);
          throw err;
        },
      );
    }
    if (!need.image) {
      for (const e of this.entries) {
        // A stem cell still being created (no container yet, active 1) is not ready to claim.
        if (!e.destroyed && !e.actionKey && e.container && e.active === 0 && e.kind === need.kind && e.memoryMB === need.memoryMB) {
          e.actionKey = need.actionKey;
          e.concurrency = need.concurrency;
          void this.fillStemCells();
          return Promise.resolve(this.lend(e, true, 'prewarm'));
        }
      }
    }
    if (!this.makeRoom(need.memoryMB)) return undefined;
    const entry: Entry = {
      container: undefined as unknown as Container,
      kind: need.kind,
      memoryMB: need.memoryMB,
      actionKey: need.actionKey,
      initialized: false,
      active: 1,
      concurrency: need.concurrency,
      paused: false,
      lastUsed: Date.now(),
      destroyed: false,
    };
    this.entries.add(entry); // counts against the budget while it is being created
    return this.factory.create(this.spec(need.kind, need.memoryMB, need.image)).then(
      (container) => {
        entry.container = container;
        entry.active = 0;
        return this.lend(entry, true, 'cold');
      },
      (err) => {
        this.entries.delete(entry);
        this.wake();
        throw err;
      },
    );
  }

  private lend(e: Entry, needsInit: boolean, source: Lease['source']): Lease {
    e.active++;
    e.lastUsed = Date.now();
    this.clearIdle(e);
    let returned = false;
    return {
      container: e.container,
      needsInit,
      source,
      initialized: () => {
        e.initialized = true;
      },
      release: async (broken = false) => {
        if (returned) return;
        returned = true;
        e.active--;
        e.lastUsed = Date.now();
        if (broken || (needsInit && !e.initialized)) await this.remove(e);
        else if (e.active === 0) this.scheduleIdle(e);
        this.wake();
      },
    };
  }

  /** Evicts idle containers, least recently used first, until `memoryMB` fits. */
  private makeRoom(memoryMB: number): boolean {
    if (this.usedMemoryMB + memoryMB <= this.settings.memoryBudgetMB) return true;
    const idle = [...this.entries].filter((e) => e.active === 0 && !e.destroyed && e.container).sort((a, b) => a.lastUsed - b.lastUsed);
    let free = this.freeMemoryMB;
    const victims: Entry[] = [];
    for (const e of idle) {
      if (free >= memoryMB) break;
      victims.push(e);
      free += e.memoryMB;
    }
    if (free < memoryMB) return false;
    for (const v of victims) void this.remove(v);
    return true;
  }

  private scheduleIdle(e: Entry): void {
    this.clearIdle(e);
    e.idleTimer = setTimeout(() => {
      if (e.active > 0 || e.destroyed) return;
      if (!e.paused) {
        e.container.pause().then(
          () => {
            e.paused = true;
            this.scheduleIdle(e);
          },
          (err) => {
            this.logger.warn({ err, container: e.container.id }, 'pause failed; destroying the container');
            void this.remove(e);
          },
        );
      } else {
        void this.remove(e);
      }
    }, e.paused ? this.settings.idleTimeoutMs : this.settings.pauseAfterMs);
    e.idleTimer.unref();
  }

  private clearIdle(e: Entry): void {
    if (e.idleTimer) clearTimeout(e.idleTimer);
    e.idleTimer = undefined;
  }

  private async remove(e: Entry): Promise<void> {
    if (e.destroyed) return;
    e.destroyed = true;
    this.clearIdle(e);
    this.entries.delete(e);
    try {
      await e.container.destroy();
    } catch (err) {
      this.logger.warn({ err, container: e.container.id }, 'destroying a container failed');
    }
    this.wake();
  }

  /** Serves queued acquires that now fit, in arrival order. */
  private wake(): void {
    while (this.waiters.length) {
      const w = this.waiters[0];
      const lease = this.tryAcquire(w.need);
      if (!lease) return;
      this.waiters.shift();
      lease.then(w.resolve, w.reject);
    }
  }

  private async fillStemCells(): Promise<void> {
    if (this.closed) return;
    const creations: Promise<void>[] = [];
    for (const p of this.settings.prewarm) {
      let have = 0;
      for (const e of this.entries) if (!e.actionKey && e.kind === p.kind && e.memoryMB === p.memoryMB) have++;
      for (let i = have; i < p.count && this.usedMemoryMB + p.memoryMB <= this.settings.memoryBudgetMB; i++) {
        const entry: Entry = {
          container: undefined as unknown as Container,
          kind: p.kind,
          memoryMB: p.memoryMB,
          initialized: false,
          active: 1, // not lendable until created
          concurrency: 1,
          paused: false,
          lastUsed: Date.now(),
          destroyed: false,
        };
        this.entries.add(entry);
        creations.push(
          this.factory.create(this.spec(p.kind, p.memoryMB)).then(
            (c) => {
              entry.container = c;
              entry.active = 0;
              this.wake();
            },
            (err) => {
              this.entries.delete(entry);
              this.logger.warn({ err, kind: p.kind }, 'could not create a prewarmed container');
            },
          ),
        );
      }
    }
    await Promise.all(creations);
  }

  private spec(kind: string, memoryMB: number, image?: string): ContainerSpec {
    return {
      name: `${this.namePrefix}_${++this.seq}_${Date.now().toString(36)}`,
      kind,
      image,
      memoryMB,
      env: this.settings.env,
      labels: this.settings.labels,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('container pool is closed'));
    await Promise.all([...this.entries].filter((e) => e.container).map((e) => this.remove(e)));
  }
}
