import { TimedJobRunner } from '../../../src/jobs/timed-job-runner.js';
import type { Logger } from '../../../src/logging/logger.js';
import { StoredJobs } from '../../../src/jobs/stored-jobs.js';
import { StoreConflictError, type DocStore } from '../../../src/store/artifact-store.js';
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
  private readonly jobs: StoredJobs<FeedFireJob>;

  constructor(
    store: DocStore,
    private readonly logger: Logger,
    // In-process, a fire in flight costs only memory; a second's worth of alarm ticks (thousands)
    // all start at their time rather than queueing behind one another's store writes.
    private readonly concurrency = 1024,
  ) {
    this.jobs = new StoredJobs(store, COLLECTION);
  }

  /** Takes the job over: the caller must not change it afterwards. */
  async enqueue(job: FeedFireJob): Promise<void> {
    try {
      await this.jobs.add(job.id, job);
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
    for await (const { id, job } of this.jobs.stored()) {
      runner.schedule(id, untilDue(job));
      resumed++;
    }
    if (resumed) this.logger.info({ jobs: resumed }, 'resuming feed fires accepted before the restart');
  }

  async pending(): Promise<number> {
    return this.jobs.count();
  }

  private async run(id: string): Promise<void> {
    const runner = this.runner!;
    const got = await this.jobs.get(id);
    if (!got || runner.stopped) return;
    // A timer may wake a millisecond early by the wall clock; a prepared fire never goes out before its time.
    const wait = untilDue(got.job);
    if (wait > 0) return runner.schedule(id, wait);
    try {
      const step = await this.process!(got.job);
      if (step.done) {
        await this.jobs.remove(id, got.rev);
      } else {
        await this.jobs.replace(id, step.job, got.rev);
        runner.schedule(id, step.retryInMs);
      }
    } catch (err) {
      this.jobs.forget(id);
      if (!(err instanceof StoreConflictError)) this.logger.error({ err, fireJob: id }, 'feed fire failed; retrying');
      runner.schedule(id, 1_000);
    }
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    this.jobs.clear();
  }
}

/** How long until a job may be fired (0 or less: now). */
function untilDue(job: FeedFireJob): number {
  return job.notBefore === undefined ? 0 : job.notBefore - Date.now();
}
