import { Queue, Worker, type Job } from 'bullmq';
import type { Logger } from '../../src/logging/logger.js';
import { redisConnection } from '../kit/queues/redis-connection.js';
import { nextGridSlot, type AlarmPlan, type AlarmScheduler, type TickHandler } from './scheduler.js';

interface TickData {
  id: string;
  generation: number;
  /** once and interval: the slot this job is for. */
  at?: number;
  everyMs?: number;
  endDate?: number;
}

/** The plan index kept beside the queue: registration id → generation and kind. */
interface PlanEntry {
  generation: number;
  kind: AlarmPlan['kind'];
  jobId?: string;
}

const jobIdPart = (s: string) => s.replace(/[^\w.@&-]/g, '_');

/**
 * The cluster's AlarmScheduler: BullMQ on Redis, shared by every replica of the alarms provider.
 * Cron plans are BullMQ job schedulers (id = registration id): one delayed job per tick, whatever
 * the number of replicas, taken by one live worker. One-shot plans are a delayed job; interval
 * plans a chain of delayed jobs on the startDate + k·minutes grid, each with an id derived from
 * its slot, so a chain extended twice (a stalled job re-run) is still one job per slot. A job
 * whose worker dies is re-run by another (stalled-job recovery); the provider's compare-and-set
 * claim of each tick in the store makes that re-run fire nothing twice.
 */
export class BullAlarmScheduler implements AlarmScheduler {
  readonly name = 'bullmq';
  private readonly queue: Queue<TickData>;
  private worker?: Worker<TickData>;
  private readonly plansKey: string;

  constructor(
    private readonly o: { redisUrl: string; name: string; logger: Logger; concurrency?: number },
  ) {
    this.queue = new Queue<TickData>(o.name, { connection: redisConnection(o.redisUrl) });
    this.plansKey = `whiskhub:alarm-plans:${o.name}`;
  }

  async start(onTick: TickHandler): Promise<void> {
    this.worker = new Worker<TickData>(this.o.name, (job) => this.process(job, onTick), {
      connection: redisConnection(this.o.redisUrl),
      // Ticks wait mostly on the store and Redis: many at once keep a lone replica up with
      // hundreds of alarms a second.
      concurrency: this.o.concurrency ?? 256,
      // A worker that dies holds its tick this long before another replica takes it over
      // (renewed every half of it while the tick is handled).
      lockDuration: 5_000,
      stalledInterval: 2_000,
      maxStalledCount: 3,
    });
    this.worker.on('error', (err) => this.o.logger.warn({ err }, 'alarm worker error'));
    this.worker.on('failed', (job, err) => this.o.logger.error({ err, registration: job?.data.id }, 'alarm tick failed'));
    await this.worker.waitUntilReady();
  }

  private async process(job: Job<TickData>, onTick: TickHandler): Promise<void> {
    const d = job.data;
    const scheduledAt = d.at ?? job.opts.prevMillis ?? job.timestamp + (job.opts.delay ?? 0);
    const redelivered = job.attemptsStarted > 1 || job.stalledCounter > 0;
    const more = await onTick({ id: d.id, generation: d.generation, scheduledAt, redelivered });
    if (!more) {
      this.o.logger.info({ registration: d.id, generation: d.generation, scheduledAt: new Date(scheduledAt).toISOString() }, 'alarm plan ends: its registration is gone, changed or inactive');
      await this.removeIfGeneration(d.id, d.generation);
      return;
    }
    if (job.name === 'interval' && d.everyMs) {
      // The next slot of the grid that is not past yet (after an outage, skip to the present: catch-up covers the gap).
      const next = scheduledAt + d.everyMs * Math.max(1, Math.ceil((Date.now() - scheduledAt) / d.everyMs));
      if (d.endDate === undefined || next <= d.endDate) await this.addSlot({ ...d, at: next });
    }
  }

  private async addSlot(d: TickData): Promise<string> {
    const jobId = `iv_${jobIdPart(d.id)}_${d.generation}_${d.at}`;
    await this.queue.add('interval', d, { jobId, delay: Math.max(0, d.at! - Date.now()), removeOnComplete: true, removeOnFail: 100 });
    return jobId;
  }

  private async redis() {
    return this.queue.client;
  }

  async upsert(id: string, generation: number, plan: AlarmPlan): Promise<void> {
    const current = await this.plannedGeneration(id);
    if (current === generation) return; // already planned (another replica's reconcile, a repeated activate)
    if (current !== undefined) await this.remove(id);
    const entry: PlanEntry = { generation, kind: plan.kind };
    if (plan.kind === 'cron') {
      // No endDate for BullMQ: a worker running behind makes it skip ticks, and the last ticks
      // before the stopDate would be skipped for good. The tick after the stopDate comes, fires
      // the ones skipped before it (they are within the tolerance) and ends the registration.
      await this.queue.upsertJobScheduler(
        id,
        { pattern: plan.pattern, tz: plan.timezone, startDate: plan.startDate },
        { name: 'cron', data: { id, generation }, opts: { removeOnComplete: true, removeOnFail: 100 } },
      );
    } else if (plan.kind === 'once') {
      entry.jobId = `once_${jobIdPart(id)}_${generation}`;
      await this.queue.add('once', { id, generation, at: plan.at }, { jobId: entry.jobId, delay: Math.max(0, plan.at - Date.now()), removeOnComplete: true, removeOnFail: 100 });
    } else {
      const at = nextGridSlot(plan.startDate, plan.everyMs, Date.now());
      if (plan.endDate !== undefined && at > plan.endDate) return;
      entry.jobId = await this.addSlot({ id, generation, at, everyMs: plan.everyMs, endDate: plan.endDate });
    }
    await (await this.redis()).hset(this.plansKey, { [id]: JSON.stringify(entry) });
  }

  /** The generation this registration is planned at, if it is (one field of the index, not all of it). */
  private async plannedGeneration(id: string): Promise<number | undefined> {
    const raw = await (await this.redis()).hget(this.plansKey, id);
    return raw ? (JSON.parse(raw) as PlanEntry).generation : undefined;
  }

  private async removeIfGeneration(id: string, generation: number): Promise<void> {
    const current = await this.plannedGeneration(id);
    if (current === generation) await this.remove(id);
  }

  async remove(id: string): Promise<void> {
    const redis = await this.redis();
    const raw = await redis.hget(this.plansKey, id);
    const entry = raw ? (JSON.parse(raw) as PlanEntry) : undefined;
    // A plan of unknown kind may still have a job scheduler (a crash between the two writes).
    if (!entry || entry.kind === 'cron') await this.queue.removeJobScheduler(id).catch(() => false);
    if (entry?.jobId) await this.queue.remove(entry.jobId).catch(() => 0);
    await redis.hdel(this.plansKey, id);
  }

  async plans(): Promise<Map<string, number>> {
    const all = await (await this.redis()).hgetall(this.plansKey);
    return new Map(Object.entries(all).map(([id, raw]) => [id, (JSON.parse(raw) as PlanEntry).generation]));
  }

  /** Ticks waiting in Redis (health). */
  async pending(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
