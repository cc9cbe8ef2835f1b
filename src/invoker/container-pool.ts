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
  /** Undefined while the factory is still creating it (it counts against the budget already). */
  container?: Container;
  kind: string;
  memoryMB: number;
  /** Undefined while a stem cell; set once an action claimed it. */
  actionKey?: string;
  initialized: boolean;
  /** Leases out, plus acquires waiting for it to wake up. */
  active: number;
  concurrency: number;
  paused: boolean;
  /** A pause under way (Docker takes tens of ms): an acquire meanwhile waits for it, then resumes. */
  pausing?: Promise<void>;
  /** A resume under way, shared by every acquire that wants this container. */
  waking?: Promise<void>;
  lastUsed: number;
  idleTimer?: NodeJS.Timeout;
  destroyed: boolean;
  /** Settles true once /init succeeded, false if the container goes first: acquires that joined it wait here. */
  ready: Ready;
}

interface Ready {
  promise: Promise<boolean>;
  settle(ok: boolean): void;
}

function newReady(): Ready {
  let settle!: (ok: boolean) => void;
  const promise = new Promise<boolean>((resolve) => (settle = resolve));
  return { promise, settle };
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
  /** Containers the factory is still making (awaited by close()). */
  private readonly creating = new Set<Promise<unknown>>();
  /** Containers being destroyed (awaited by close()). */
  private readonly removals = new Set<Promise<void>>();
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

  /** The memory budget (MB): what the load balancer may plan with. */
  get capacityMB(): number {
    return this.settings.memoryBudgetMB;
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
    const s = { warm: 0, paused: 0, prewarm: 0, busy: 0, creating: 0 };
    for (const e of this.entries) {
      if (!e.container) s.creating++;
      else if (!e.actionKey) s.prewarm++;
      else if (e.active > 0) s.busy++;
      else if (e.paused) s.paused++;
      else s.warm++;
    }
    return s;
  }

  acquire(need: ContainerNeed): Promise<Lease> {
    if (this.closed) return Promise.reject(new Error('container pool is closed'));
    if (need.memoryMB > this.settings.memoryBudgetMB) {
      return Promise.reject(new Error(`the action needs ${need.memoryMB} MB, more than this invoker's ${this.settings.memoryBudgetMB} MB for containers`));
    }
    // Earlier waiters go first: a newcomer only jumps the queue for a warm container.
    const lease = this.waiters.length === 0 ? this.tryAcquire(need) : this.tryWarm(need);
    if (lease) return lease;
    return new Promise((resolve, reject) => this.waiters.push({ need, resolve, reject }));
  }

  /**
   * A container of the action with a free slot, if there is one: warm, else paused, else (for
   * `concurrency` > 1) one still being created or initialized, which a burst then shares rather
   * than starting a container per activation.
   */
  private tryWarm(need: ContainerNeed): Promise<Lease> | undefined {
    let sleeping: Entry | undefined;
    let starting: Entry | undefined;
    for (const e of this.entries) {
      if (e.destroyed || e.actionKey !== need.actionKey || e.active >= e.concurrency) continue;
      if (!e.initialized) starting ??= e;
      else if (!e.paused && !e.pausing && !e.waking) return Promise.resolve(this.lend(e, false, 'warm'));
      else sleeping ??= e;
    }
    if (sleeping) return this.wakeUp(sleeping, need);
    return starting && this.join(starting, need);
  }

  /** Waits for a starting container's /init, then shares it; starts over if it fails. */
  private join(e: Entry, need: ContainerNeed): Promise<Lease> {
    e.active++; // holds the slot
    return e.ready.promise.then((ok) => {
      e.active--;
      if (!ok || e.destroyed) return this.acquire(need);
      return this.lend(e, false, 'warm');
    });
  }

  /** Serves `need` now if anything allows it, else undefined (the caller queues). */
  private tryAcquire(need: ContainerNeed): Promise<Lease> | undefined {
    const warm = this.tryWarm(need);
    if (warm) return warm;
    if (!need.image) {
      for (const e of this.entries) {
        // A stem cell still being created (no container yet) is not ready to claim.
        if (!e.destroyed && !e.actionKey && e.container && e.active === 0 && e.kind === need.kind && e.memoryMB === need.memoryMB) {
          e.actionKey = need.actionKey;
          e.concurrency = need.concurrency;
          e.lastUsed = Date.now();
          void this.fillStemCells();
          return Promise.resolve(this.lend(e, true, 'prewarm'));
        }
      }
    }
    if (!this.makeRoom(need.memoryMB)) return undefined;
    const entry: Entry = {
      kind: need.kind,
      memoryMB: need.memoryMB,
      actionKey: need.actionKey,
      initialized: false,
      active: 1,
      concurrency: need.concurrency,
      paused: false,
      lastUsed: Date.now(),
      destroyed: false,
      ready: newReady(),
    };
    this.entries.add(entry); // counts against the budget while it is being created
    return this.track(this.factory.create(this.spec(need.kind, need.memoryMB, need.image))).then(
      (container) => {
        entry.container = container;
        entry.active--; // acquires that joined it meanwhile keep theirs
        if (this.closed) {
          void this.remove(entry);
          throw new Error('container pool is closed');
        }
        return this.lend(entry, true, 'cold');
      },
      (err) => {
        this.entries.delete(entry);
        entry.destroyed = true;
        entry.ready.settle(false);
        this.wake();
        throw err;
      },
    );
  }

  /**
   * Lends a paused (or pausing) container once it runs again. Every acquire that wants it waits
   * on the same resume; if the container goes away meanwhile, the acquire starts over.
   */
  private wakeUp(e: Entry, need: ContainerNeed): Promise<Lease> {
    e.active++; // holds the slot (and keeps eviction and the idle timer off) while waking
    this.clearIdle(e);
    const wasPaused = e.paused || e.pausing !== undefined;
    if (!e.waking) {
      const waking = (async () => {
        if (e.pausing) await e.pausing;
        if (e.paused && !e.destroyed) {
          await e.container!.resume();
          e.paused = false;
        }
      })();
      e.waking = waking;
      const done = () => {
        if (e.waking === waking) e.waking = undefined;
      };
      waking.then(done, done);
    }
    return e.waking.then(
      () => {
        e.active--;
        if (e.destroyed) return this.acquire(need);
        return this.lend(e, false, wasPaused ? 'paused' : 'warm');
      },
      async (err: unknown) => {
        e.active--;
        this.logger.warn({ err, container: e.container?.id }, 'resuming a container failed; destroying it');
        await this.remove(e);
        return this.acquire(need);
      },
    );
  }

  private lend(e: Entry, needsInit: boolean, source: Lease['source']): Lease {
    e.active++;
    e.lastUsed = Date.now();
    this.clearIdle(e);
    let returned = false;
    return {
      container: e.container!,
      needsInit,
      source,
      initialized: () => {
        e.initialized = true;
        e.ready.settle(true);
      },
      release: async (broken = false) => {
        if (returned) return;
        returned = true;
        e.active--;
        e.lastUsed = Date.now();
        if (this.closed || broken || (needsInit && !e.initialized)) await this.remove(e);
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

  /**
   * An idle container is paused `pauseAfterMs` after its last use and destroyed `idleTimeoutMs`
   * after it (not paused at all when that comes first).
   */
  private scheduleIdle(e: Entry): void {
    this.clearIdle(e);
    const { pauseAfterMs, idleTimeoutMs } = this.settings;
    const pauseNext = !e.paused && !e.pausing && pauseAfterMs < idleTimeoutMs;
    const delay = pauseNext ? Math.max(0, e.lastUsed + pauseAfterMs - Date.now()) : Math.max(0, e.lastUsed + idleTimeoutMs - Date.now());
    e.idleTimer = setTimeout(() => {
      e.idleTimer = undefined;
      if (e.active > 0 || e.destroyed) return;
      if (pauseNext) this.pauseIdle(e);
      else void this.remove(e);
    }, delay);
    e.idleTimer.unref();
  }

  private pauseIdle(e: Entry): void {
    if (e.paused || e.pausing) return;
    e.pausing = e.container!.pause().then(
      () => {
        e.pausing = undefined;
        e.paused = true;
        // Claimed while pausing: the acquire waiting on `pausing` resumes it.
        if (e.active === 0 && !e.destroyed) this.scheduleIdle(e);
      },
      async (err: unknown) => {
        e.pausing = undefined;
        this.logger.warn({ err, container: e.container?.id }, 'pause failed; destroying the container');
        await this.remove(e);
      },
    );
  }

  private clearIdle(e: Entry): void {
    if (e.idleTimer) clearTimeout(e.idleTimer);
    e.idleTimer = undefined;
  }

  private remove(e: Entry): Promise<void> {
    if (e.destroyed) return Promise.resolve();
    e.destroyed = true;
    e.ready.settle(false);
    this.clearIdle(e);
    this.entries.delete(e);
    const removal = (async () => {
      try {
        await e.container?.destroy();
      } catch (err) {
        this.logger.warn({ err, container: e.container?.id }, 'destroying a container failed');
      }
    })();
    this.removals.add(removal);
    return removal.finally(() => {
      this.removals.delete(removal);
      this.wake();
    });
  }

  /** Serves queued acquires that now fit, in arrival order. */
  private wake(): void {
    if (this.closed) return;
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
          kind: p.kind,
          memoryMB: p.memoryMB,
          initialized: false,
          active: 0,
          concurrency: 1,
          paused: false,
          lastUsed: Date.now(),
          destroyed: false,
          ready: newReady(),
        };
        this.entries.add(entry);
        creations.push(
          this.track(this.factory.create(this.spec(p.kind, p.memoryMB))).then(
            (c) => {
              entry.container = c;
              if (this.closed) void this.remove(entry);
              else this.wake();
            },
            (err) => {
              this.entries.delete(entry);
              this.logger.warn({ err, kind: p.kind }, 'could not create a prewarmed container');
              this.wake();
            },
          ),
        );
      }
    }
    await Promise.all(creations);
  }

  private track<T>(creation: Promise<T>): Promise<T> {
    this.creating.add(creation);
    const untrack = () => this.creating.delete(creation);
    creation.then(untrack, untrack);
    return creation;
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

  /** Destroys every container, those still being created included; leases out are refused back. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('container pool is closed'));
    await Promise.allSettled([...this.creating]);
    await Promise.all([...this.entries].filter((e) => e.container).map((e) => this.remove(e)));
    await Promise.all([...this.removals]);
  }
}
