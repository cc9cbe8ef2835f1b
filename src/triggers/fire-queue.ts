import type { FireJob, FireStep } from './fire-job.js';

/**
 * FireQueue: the durable queue between a fire's 202 and its fan-out. BullMQ on Redis in the
 * cluster, the embedded store in standalone. `enqueue` resolves only once the job is durable, so
 * an accepted fire survives the controller dying right after answering; the processor is called
 * again (after `retryInMs`, or after a restart) until it reports the job done; then it drops
 * the job and, only after that, calls the step's `afterDone`.
 */
export interface FireQueue {
  enqueue(job: FireJob): Promise<void>;
  /** Starts working off jobs (also those left by an earlier process). */
  start(process: (job: FireJob) => Promise<FireStep>): Promise<void>;
  /** Jobs not done yet (for health and tests). */
  pending(): Promise<number>;
  stop(): Promise<void>;
}
