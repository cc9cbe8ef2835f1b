/**
 * AlarmScheduler: turns alarm plans into ticks. In-process timers in standalone; BullMQ on
 * Redis in the cluster, where the plans live in Redis and any live replica's worker gets each
 * tick once. Ticks carry the registration's generation; a tick of an older generation is ignored
 * by the provider, so replacing or removing a plan never races a tick into a stale fire.
 */
export type AlarmPlan =
  | { kind: 'cron'; pattern: string; timezone?: string; startDate?: number; endDate?: number }
  | { kind: 'once'; at: number }
  | { kind: 'interval'; everyMs: number; startDate: number; endDate?: number };

export interface AlarmTick {
  id: string;
  generation: number;
  /** The tick's scheduled time, epoch ms (the same on every replica); a scheduler with a lead hands it out up to that much before. */
  scheduledAt: number;
  /**
   * This tick was handed out before, to a worker that died with it (BullMQ's stalled-job
   * recovery): it is late because of that crash, not because nobody was running, so it is fired
   * however late, and a claim that worker made is completed rather than skipped.
   */
  redelivered?: boolean;
  /**
   * The plan's tick before this one, when this scheduler handed it out: a registration that
   * claimed it has nothing missed in between, and the provider can skip looking for gaps.
   */
  previousAt?: number;
  /**
   * Handed out ahead of its time (a scheduler with a lead): the provider claims it and makes its
   * fire durable now, and the fire waits for `scheduledAt`.
   */
  prepared?: boolean;
}

/** Handles a tick; resolves false when the plan should stop (registration gone, inactive or of another generation). */
export type TickHandler = (tick: AlarmTick) => Promise<boolean>;

export interface AlarmScheduler {
  readonly name: string;
  /** Starts delivering ticks (for a durable scheduler, also of plans made by other replicas or an earlier run). */
  start(onTick: TickHandler): Promise<void>;
  /** Creates or replaces the plan of registration `id`; idempotent. */
  upsert(id: string, generation: number, plan: AlarmPlan): Promise<void>;
  remove(id: string): Promise<void>;
  /** Registration ids that have a plan, with its generation. */
  plans(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

/** The next slot of an interval grid at or after `t`. */
export function nextGridSlot(startDate: number, everyMs: number, t: number): number {
  if (t <= startDate) return startDate;
  return startDate + Math.ceil((t - startDate) / everyMs) * everyMs;
}
