/**
 * Runs jobs by id, in-process: each id at most once at a time, now or after a delay, and at most
 * `width()` at once (the others wait their turn in order). A job made ready again while it runs
 * (a retry due at once, a timer that woke a millisecond early) runs again when that run ends,
 * never dropped. The embedded store's durable queues (trigger fires, feed fires) run on it: their
 * `run` reads the job from the store and decides what becomes of it.
 */
export class TimedJobRunner {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private readonly waiting: string[] = [];
  private active = 0;
  private idle?: () => void;
  stopped = false;

  constructor(
    private readonly run: (id: string) => Promise<void>,
    private readonly width: () => number,
  ) {}

  /** Runs `id` after `delayMs` (as soon as a slot is free when 0 or less); an id already on a timer keeps that timer. */
  schedule(id: string, delayMs: number): void {
    if (this.stopped || this.timers.has(id)) return;
    if (delayMs <= 0) return this.ready(id);
    const t = setTimeout(() => {
      this.timers.delete(id);
      this.ready(id);
    }, delayMs);
    this.timers.set(id, t);
  }

  /** Jobs waiting on a timer or for a slot. */
  get queued(): number {
    return this.timers.size + this.waiting.length;
  }

  /** Starts waiting jobs up to the current width. */
  private pump(): void {
    while (this.waiting.length && this.active < this.width()) this.ready(this.waiting.shift()!);
  }

  private ready(id: string): void {
    if (this.running.has(id)) {
      this.again.add(id);
      return;
    }
    if (this.active >= this.width()) {
      this.waiting.push(id);
      return;
    }
    this.active++;
    this.running.add(id);
    void this.run(id).finally(() => {
      this.active--;
      this.running.delete(id);
      if (this.again.delete(id)) this.schedule(id, 0);
      this.pump();
      if (this.active === 0) this.idle?.();
    });
  }

  /** Starts nothing more, and resolves once the runs in flight are over. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    this.again.clear();
    if (this.active > 0) await new Promise<void>((r) => (this.idle = r));
  }
}
