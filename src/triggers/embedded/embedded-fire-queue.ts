import { TimedJobRunner } from '../../jobs/timed-job-runner.js';
import type { Logger } from '../../logging/logger.js';
import { StoredJobs } from '../../jobs/stored-jobs.js';
import { StoreConflictError, type ArtifactStore } from '../../store/artifact-store.js';
import type { FireJob, FireStep } from '../fire-job.js';
import type { FireQueue } from '../fire-queue.js';

const COLLECTION = 'fires';

/**
 * Fires coming in faster than this (per second, over the last tenth of a second) are a burst: more
 * than the fan-out can run on a small machine (about 1,300 to 2,500 noop actions a second on 2
 * cores), so they queue either way, and accepting them quickly is what is left to win.
 */
const BURST_PER_SECOND = 2_000;
const WINDOW_MS = 100;

/**
 * Standalone's FireQueue: each job is a document in the durable embedded store (written, and
 * synced to disk, before the controller answers 202), worked off in-process with timers for the
 * retries, and picked up again after a restart. Deleted when its fan-out is done.
 *
 * Accepting comes first: while a burst of fires is being accepted (over BURST_PER_SECOND), the
 * fan-out runs at most `burstConcurrency` jobs, so the CPU goes to answering fires (measured on 2
 * cores: about 13,000 accepted per second instead of 3,700 with the fan-out at full width
 * alongside); the backlog, durable, drains at full width as soon as the burst is over. At a steady
 * rate the fan-out always runs at full width.
 */
export class EmbeddedFireQueue implements FireQueue {
  private process?: (job: FireJob) => Promise<FireStep>;
  private runner?: TimedJobRunner;
  /** Fires accepted in the current window, and when it began: how hard fires are coming in. */
  private windowCount = 0;
  private windowStart = 0;
  private burstUntil = 0;
  private readonly jobs: StoredJobs<FireJob>;

  constructor(
    store: ArtifactStore,
    private readonly logger: Logger,
    private readonly concurrency = 128,
    private readonly burstConcurrency = 8,
  ) {
    this.jobs = new StoredJobs(store, COLLECTION);
  }

  /** Takes the job over: the caller must not change it afterwards. */
  async enqueue(job: FireJob): Promise<void> {
    this.countArrival();
    try {
      await this.jobs.add(job.fireId, job);
    } catch (err) {
      if (err instanceof StoreConflictError) return; // already queued: enqueue is idempotent per fire id
      throw err;
    }
    this.runner?.schedule(job.fireId, 0);
  }

  private countArrival(): void {
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (++this.windowCount > (BURST_PER_SECOND * WINDOW_MS) / 1000) this.burstUntil = now + WINDOW_MS;
  }

  /** How many fan-outs may run now: fewer while a burst of fires is being accepted. */
  private width(): number {
    return Date.now() < this.burstUntil ? this.burstConcurrency : this.concurrency;
  }

  async start(process: (job: FireJob) => Promise<FireStep>): Promise<void> {
    this.process = process;
    const runner = (this.runner = new TimedJobRunner((id) => this.run(id), () => this.width()));
    for await (const { id } of this.jobs.stored()) runner.schedule(id, 0);
    if (runner.queued) this.logger.info({ jobs: runner.queued }, 'resuming fires accepted before the restart');
  }

  async pending(): Promise<number> {
    return this.jobs.count();
  }

  private async run(id: string): Promise<void> {
    const runner = this.runner!;
    const got = await this.jobs.get(id);
    if (!got || runner.stopped) return;
    try {
      const step = await this.process!(got.job);
      if (step.done) {
        await this.jobs.remove(id, got.rev);
        await step.afterDone?.();
      } else {
        await this.jobs.replace(id, step.job, got.rev);
        runner.schedule(id, step.retryInMs ?? 1_000);
      }
    } catch (err) {
      this.jobs.forget(id);
      if (!(err instanceof StoreConflictError)) this.logger.error({ err, fireId: id }, 'fire fan-out failed; retrying');
      runner.schedule(id, 1_000);
    }
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    this.jobs.clear();
  }
}
