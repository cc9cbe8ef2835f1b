import { TimedJobRunner } from '../../../src/jobs/timed-job-runner.js';
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
  private runner?: TimedJobRunner;

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
    this.runner?.schedule(job.id, untilDue(job));
  }

  async start(process: (job: FeedFireJob) => Promise<FeedFireStep>): Promise<void> {
    this.process = process;
    const runner = (this.runner = new TimedJobRunner((id) => this.run(id), () => this.concurrency));
    let resumed = 0;
    for (let skip = 0; ; skip += 500) {
      const page = await this.store.listDocs<FeedFireJob>(COLLECTION, { limit: 500, skip });
      for (const row of page) runner.schedule(row.id, untilDue(row.doc));
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

  private async run(id: string): Promise<void> {
    const runner = this.runner!;
    const got = await this.store.getDoc<FeedFireJob>(COLLECTION, id);
    if (!got || runner.stopped) return;
    // A timer may wake a millisecond early by the wall clock; a prepared fire never goes out before its time.
    const wait = untilDue(got.doc);
    if (wait > 0) return runner.schedule(id, wait);
    try {
      const step = await this.process!(got.doc);
      if (step.done) {
        await this.store.deleteDoc(COLLECTION, id, got.rev);
      } else {
        await this.store.putDoc(COLLECTION, id, step.job, got.rev);
        runner.schedule(id, step.retryInMs);
      }
    } catch (err) {
      if (!(err instanceof StoreConflictError)) this.logger.error({ err, fireJob: id }, 'feed fire failed; retrying');
      runner.schedule(id, 1_000);
    }
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
  }
}

/** How long until a job may be fired (0 or less: now). */
function untilDue(job: FeedFireJob): number {
  return job.notBefore === undefined ? 0 : job.notBefore - Date.now();
}
