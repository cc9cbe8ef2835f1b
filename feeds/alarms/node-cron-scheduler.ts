import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../../src/logging/logger.js';
import { nextGridSlot, type AlarmPlan, type AlarmScheduler, type TickHandler } from './scheduler.js';

/** setTimeout holds at most ~24.8 days; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  generation: number;
  task?: ScheduledTask;
  timer?: NodeJS.Timeout;
}

/**
 * Standalone's AlarmScheduler: in-process, in memory (the plans are rebuilt from the stored
 * registrations at start). Cron plans run on node-cron (5 or 6 fields, timezones); one-shot and
 * interval plans on timers, the interval on its startDate + k·minutes grid.
 */
export class NodeCronScheduler implements AlarmScheduler {
  readonly name = 'node-cron';
  private readonly entries = new Map<string, Entry>();
  private onTick?: TickHandler;

  constructor(private readonly logger: Logger) {}

  async start(onTick: TickHandler): Promise<void> {
    this.onTick = onTick;
  }

  async upsert(id: string, generation: number, plan: AlarmPlan): Promise<void> {
    await this.remove(id);
    const entry: Entry = { generation };
    this.entries.set(id, entry);
    if (plan.kind === 'cron') {
      entry.task = cron.createTask(plan.pattern, (ctx) => this.tick(id, entry, ctx.date.getTime()), {
        name: id,
        timezone: plan.timezone,
        // A tick whose timer wakes later than this is reported missed by node-cron; the provider's catch-up owns that case.
        missedExecutionTolerance: 2_000,
        suppressMissedWarning: true,
      });
      await entry.task.start();
    } else if (plan.kind === 'once') {
      this.arm(id, entry, plan.at, () => undefined);
    } else {
      const next = (after: number) => {
        const slot = nextGridSlot(plan.startDate, plan.everyMs, after);
        if (plan.endDate !== undefined && slot > plan.endDate) return;
        this.arm(id, entry, slot, () => next(slot + 1));
      };
      next(Date.now());
    }
  }

  /** Fires `at` (re-arming past the timer limit), then calls `then`. */
  private arm(id: string, entry: Entry, at: number, then: () => void): void {
    const wait = at - Date.now();
    if (wait > MAX_TIMER_MS) {
      entry.timer = setTimeout(() => this.arm(id, entry, at, then), MAX_TIMER_MS);
      return;
    }
    entry.timer = setTimeout(() => {
      if (this.entries.get(id) !== entry) return;
      void this.tick(id, entry, at).then((more) => {
        if (more && this.entries.get(id) === entry) then();
      });
    }, Math.max(0, wait));
  }

  private async tick(id: string, entry: Entry, scheduledAt: number): Promise<boolean> {
    if (!this.onTick || this.entries.get(id) !== entry) return false;
    try {
      const more = await this.onTick({ id, generation: entry.generation, scheduledAt });
      if (!more && this.entries.get(id) === entry) await this.remove(id);
      return more;
    } catch (err) {
      this.logger.error({ err, registration: id }, 'alarm tick failed');
      return true;
    }
  }

  async remove(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    if (e.timer) clearTimeout(e.timer);
    if (e.task) await e.task.destroy();
  }

  async plans(): Promise<Map<string, number>> {
    return new Map([...this.entries].map(([id, e]) => [id, e.generation]));
  }

  async stop(): Promise<void> {
    for (const id of [...this.entries.keys()]) await this.remove(id);
    this.onTick = undefined;
  }
}
