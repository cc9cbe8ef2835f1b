import type { Logger } from '../../../src/logging/logger.js';
import { StoreConflictError, type ArtifactStore } from '../../../src/store/artifact-store.js';
import type { FeedFireJob, FeedFireQueue, FeedFireStep } from '../fire-queue.js';

const COLLECTION = 'feed-fires';

/**
 * Standalone's FeedFireQueue: each job is a document of the durable embedded store (synced to
 * disk before `enqueue` resolves), worked off in-process with timers for the retries and for jobs
 * not due yet (`notBefore`), and picked up again after a restart. The document goes when the fire is done.
 */
export class EmbeddedFeedFireQueue implements FeedFireQueue {
  private process?: (job: FeedFireJob) => Promise<FeedFireStep>;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();
  /** Jobs made ready while they were running (a retry due at once): run again when that run ends. */
  private readonly again = new Set<string>();
  private readonly waiting: string[] = [];
  private active = 0;
  private stopped = false;
  private idle?: () => void;

  constructor(
    private readonly store: ArtifactStore,
    private readonly logger: Logger,
    // In-process, a fire in flight costs only memory; a second's worth of alarm ticks (thousands)
    // all start at their time rather than queueing behind one another's store writes.
    private readonly concurrency = 1024,
  ) {}

  async enqueue(job: FeedFireJob): Promise<void> {
    try {
      await this.store.putDoc(COLLECTION, job.id, job);
    } catch (err) {
      if (err instanceof StoreConflictError) return;
      throw err;
    }
    this.schedule(job.id, untilDue(job));
  }

  async start(process: (job: FeedFireJob) => Promise<FeedFireStep>): Promise<void> {
    this.process = process;
    let resumed = 0;
    for (let skip = 0; ; skip += 500) {
      const page = await this.store.listDocs<FeedFireJob>(COLLECTION, { limit: 500, skip });
      for (const row of page) this.schedule(row.id, untilDue(row.doc));
      resumed += page.length;
      if (page.length < 500) break;
    }
    if (resumed) this.logger.info({ jobs: resumed }, 'resuming feed fires accepted before the restart');
  }

  async pending(): Promise<number> {
    let n = 0;
    for (let skip = 0; ; skip += 1000) {
      const page = await this.store.listDocs(COLLECTION, { limit: 1000, skip });
      n += page.length;
      if (page.length < 1000) return n;
    }
  }

  private schedule(id: string, delayMs: number): void {
    if (!this.process || this.stopped || this.timers.has(id)) return;
    if (delayMs <= 0) return this.ready(id);
    const t = setTimeout(() => {
      this.timers.delete(id);
      this.ready(id);
    }, delayMs);
    this.timers.set(id, t);
  }

  private ready(id: string): void {
    if (this.running.has(id)) {
      this.again.add(id);
      return;
    }
    if (this.active >= this.concurrency) {
      this.waiting.push(id);
      return;
    }
    this.active++;
    this.running.add(id);
    void this.run(id).finally(() => {
      this.active--;
      this.running.delete(id);
      if (this.again.delete(id)) this.schedule(id, 0);
      const next = this.waiting.shift();
      if (next) this.ready(next);
      else if (this.active === 0) this.idle?.();
    });
  }

  private async run(id: string): Promise<void> {
    const got = await this.store.getDoc<FeedFireJob>(COLLECTION, id);
    if (!got || this.stopped) return;
    // A timer may wake a millisecond early by the wall clock; a prepared fire never goes out before its time.
    const wait = untilDue(got.doc);
    if (wait > 0) return this.schedule(id, wait);
    try {
      const step = await this.process!(got.doc);
      if (step.done) {
        await this.store.deleteDoc(COLLECTION, id, got.rev);
      } else {
        await this.store.putDoc(COLLECTION, id, step.job, got.rev);
        this.schedule(id, step.retryInMs);
      }
    } catch (err) {
      if (!(err instanceof StoreConflictError)) this.logger.error({ err, fireJob: id }, 'feed fire failed; retrying');
      this.schedule(id, 1_000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    this.again.clear();
    if (this.active > 0) await new Promise<void>((r) => (this.idle = r));
  }
}

/** How long until a job may be fired (0 or less: now). */
function untilDue(job: FeedFireJob): number {
  return job.notBefore === undefined ? 0 : job.notBefore - Date.now();
}
