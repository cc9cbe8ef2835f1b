import { DelayedError, Queue, Worker } from 'bullmq';
import type { Logger } from '../../../src/logging/logger.js';
import type { FeedFireJob, FeedFireQueue, FeedFireStep } from '../fire-queue.js';
import { redisConnection } from './redis-connection.js';

/**
 * The cluster's FeedFireQueue: BullMQ on Redis, shared by every replica of a provider. The job id
 * is the event's id, so a tick or delivery enqueued twice (two replicas, a redelivery) is one job;
 * a retry is a delay, not a failure; a replica that dies mid-fire leaves the job to another
 * (BullMQ's stalled-job recovery), and the fire's idempotency key keeps that from firing twice.
 */
export class BullFeedFireQueue implements FeedFireQueue {
  private readonly queue: Queue<FeedFireJob>;
  private worker?: Worker<FeedFireJob>;

  constructor(
    private readonly o: { redisUrl: string; name: string; logger: Logger; concurrency?: number },
  ) {
    this.queue = new Queue<FeedFireJob>(o.name, { connection: redisConnection(o.redisUrl) });
  }

  async enqueue(job: FeedFireJob): Promise<void> {
    // BullMQ refuses ':' in custom job ids (it is its own separator).
    await this.queue.add('fire', job, { jobId: job.id.replace(/:/g, '_'), delay: Math.max(0, (job.notBefore ?? 0) - Date.now()), attempts: 20, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: 1000, removeOnFail: 1000 });
  }

  async start(process: (job: FeedFireJob) => Promise<FeedFireStep>): Promise<void> {
    this.worker = new Worker<FeedFireJob>(
      this.o.name,
      async (job, token) => {
        const step = await process(job.data);
        if (step.done) return;
        await job.updateData(step.job);
        await job.moveToDelayed(Date.now() + step.retryInMs, token);
        throw new DelayedError();
      },
      // A replica that dies mid-fire leaves its fires to the others within seconds, not BullMQ's default 30 s.
      { connection: redisConnection(this.o.redisUrl), concurrency: this.o.concurrency ?? 64, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 5 },
    );
    this.worker.on('failed', (job, err) => this.o.logger.error({ err, fireJob: job?.id }, 'feed fire job failed'));
    this.worker.on('error', (err) => this.o.logger.warn({ err }, 'feed fire worker error'));
    await this.worker.waitUntilReady();
  }

  async pending(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
