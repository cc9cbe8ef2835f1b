import { DelayedError, Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../../logging/logger.js';
import type { FireJob, FireStep } from '../fire-job.js';
import type { FireQueue } from '../fire-queue.js';

export interface BullFireQueueOptions {
  redisUrl: string;
  /** Queue name; one per deployment. */
  name?: string;
  concurrency?: number;
  logger: Logger;
}

function connection(redisUrl: string): ConnectionOptions {
  const u = new URL(redisUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined,
    // Workers block on Redis; bullmq requires these for them.
    maxRetriesPerRequest: null,
  };
}

/**
 * The cluster's FireQueue: BullMQ on Redis. The job id is the fire id, so a repeated enqueue is a
 * no-op; a job not done is updated with its progress and delayed (not failed) until its retry
 * time; a controller that dies mid-job leaves it to another (BullMQ's stalled-job recovery).
 */
export class BullFireQueue implements FireQueue {
  private readonly queue: Queue<FireJob>;
  private worker?: Worker<FireJob>;
  private readonly afterDone = new Map<string, () => Promise<void>>();
  private readonly name: string;

  constructor(private readonly o: BullFireQueueOptions) {
    this.name = o.name ?? 'whiskhub-fires';
    this.queue = new Queue<FireJob>(this.name, { connection: connection(o.redisUrl) });
  }

  async enqueue(job: FireJob): Promise<void> {
    // Attempts cover processor failures (e.g. the store briefly down); retries of rules are delays, not attempts.
    await this.queue.add('fire', job, {
      jobId: job.fireId,
      attempts: 50,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
  }

  async start(process: (job: FireJob) => Promise<FireStep>): Promise<void> {
    this.worker = new Worker<FireJob>(
      this.name,
      async (job, token) => {
        const step = await process(job.data);
        if (step.done) {
          // Released once BullMQ has recorded the job complete (the 'completed' event), not before.
          if (step.afterDone) this.afterDone.set(job.id!, step.afterDone);
          return;
        }
        await job.updateData(step.job);
        await job.moveToDelayed(Date.now() + (step.retryInMs ?? 1_000), token);
        throw new DelayedError();
      },
      { connection: connection(this.o.redisUrl), concurrency: this.o.concurrency ?? 64 },
    );
    this.worker.on('failed', (job, err) => this.o.logger.error({ err, fireId: job?.id }, 'fire job failed'));
    this.worker.on('completed', (job) => {
      const release = this.afterDone.get(job.id!);
      this.afterDone.delete(job.id!);
      release?.().catch((err) => this.o.logger.warn({ err, fireId: job.id }, 'releasing idempotency keys failed'));
    });
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
