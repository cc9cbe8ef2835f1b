import type { Logger } from '../../src/logging/logger.js';
import { nextCronTick } from './schedule.js';
import { nextGridSlot, type AlarmPlan, type AlarmScheduler, type TickHandler } from './scheduler.js';

/** setTimeout holds at most ~24.8 days; a longer wait wakes early and re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Plan {
  id: string;
  generation: number;
  /** The next tick, epoch ms; undefined when the plan has no more. */
  due?: number;
  /** The tick handed out before `due`. */
  last?: number;
  /** Removed or replaced: skipped when it comes up. */
  dead?: boolean;
  /** In the heap now (not while its tick is out and its next one not yet worked out). */
  inHeap?: boolean;
  /** The tick after `after`, or undefined when there is none. */
  next(after: number): number | undefined;
}

/**
 * Standalone's AlarmScheduler: every plan's next tick in one min-heap, and one timer for the
 * soonest. Cron ticks come from cron-parser (the parser of BullMQ's job schedulers, so both
 * modes agree on every tick); one-shot plans have one tick, interval plans their startDate +
 * k·minutes grid. In memory: the provider rebuilds the plans from the stored registrations at
 * start.
 *
 * Why not node-cron (what DESIGN.md first named): it keeps a timer and an execution context per
 * task and, measured here, woke 10,000 once-a-minute tasks up to 975 ms late at the 99th
 * percentile; one heap and one timer wake each tick within a millisecond or two.
 *
 * With a lead (`prepareMs`), each tick is handed out that long before its time: the provider
 * claims it and makes its fire durable ahead (two store commits, tens of milliseconds when a
 * second holds thousands of ticks), and the fire job waits for the tick's exact time
 * (`notBefore`). The tick's `scheduledAt` is its real time either way.
 */
export class TimerScheduler implements AlarmScheduler {
  readonly name = 'timers';
  private readonly plansById = new Map<string, Plan>();
  private heap: Plan[] = [];
  private deadInHeap = 0;
  private timer?: NodeJS.Timeout;
  private armedFor?: number;
  private onTick?: TickHandler;

  constructor(
    private readonly logger: Logger,
    private readonly prepareMs = 0,
  ) {}

  async start(onTick: TickHandler): Promise<void> {
    this.onTick = onTick;
    this.arm();
  }

  async upsert(id: string, generation: number, plan: AlarmPlan): Promise<void> {
    await this.remove(id);
    const p: Plan = { id, generation, next: nextOf(plan) };
    p.due = p.next(Date.now() - 1);
    this.plansById.set(id, p);
    if (p.due !== undefined) this.push(p);
    this.arm();
  }

  async remove(id: string): Promise<void> {
    const p = this.plansById.get(id);
    if (!p) return;
    this.plansById.delete(id);
    // Left in the heap (skipped when it comes up) until the dead outnumber the living.
    p.dead = true;
    if (p.inHeap && ++this.deadInHeap > this.heap.length / 2 + 100) {
      const live = this.heap.filter((x) => !x.dead);
      this.heap = [];
      this.deadInHeap = 0;
      for (const x of live) this.push(x);
    }
  }

  async plans(): Promise<Map<string, number>> {
    return new Map([...this.plansById].map(([id, p]) => [id, p.generation]));
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.onTick = undefined;
    this.plansById.clear();
    this.heap = [];
    this.deadInHeap = 0;
  }

  private dropTop(): void {
    this.pop();
    this.deadInHeap--;
  }

  /** Sets the one timer for the soonest tick (if it is not set for that already). */
  private arm(): void {
    if (!this.onTick) return;
    while (this.heap.length && this.heap[0].dead) this.dropTop();
    const soonest = this.heap[0]?.due;
    if (soonest === this.armedFor && this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = soonest;
    if (soonest === undefined) return;
    this.timer = setTimeout(() => this.wake(), Math.min(MAX_TIMER_MS, Math.max(0, soonest - this.prepareMs - Date.now())));
  }

  /**
   * Hands out every tick that is due, then (on the next turn of the event loop, so the ticks'
   * handlers go first) works out each one's next tick and re-arms. cron-parser takes about half a
   * millisecond per next tick; done before the handlers, a second's ticks would wait for one
   * another.
   */
  private wake(): void {
    this.timer = undefined;
    this.armedFor = undefined;
    const now = Date.now();
    const horizon = now + this.prepareMs;
    const fired: { p: Plan; at: number }[] = [];
    while (this.heap.length && (this.heap[0].dead || this.heap[0].due! <= horizon)) {
      if (this.heap[0].dead) {
        this.dropTop();
        continue;
      }
      const p = this.pop();
      fired.push({ p, at: p.due! });
      void this.tick(p, p.due!, p.last, p.due! > now);
      p.last = p.due;
    }
    if (!fired.length) return this.arm();
    setImmediate(() => {
      for (const { p, at } of fired) {
        if (p.dead || this.plansById.get(p.id) !== p) continue;
        p.due = p.next(at);
        if (p.due !== undefined) this.push(p);
      }
      this.arm();
    });
  }

  private async tick(p: Plan, scheduledAt: number, previousAt: number | undefined, prepared: boolean): Promise<void> {
    if (!this.onTick || this.plansById.get(p.id) !== p) return;
    try {
      const more = await this.onTick({ id: p.id, generation: p.generation, scheduledAt, previousAt, ...(prepared ? { prepared } : {}) });
      if (!more && this.plansById.get(p.id) === p) await this.remove(p.id);
    } catch (err) {
      this.logger.error({ err, registration: p.id }, 'alarm tick failed');
    }
  }

  // ---- the min-heap, by due time --------------------------------------------------------------

  private push(p: Plan): void {
    const h = this.heap;
    p.inHeap = true;
    h.push(p);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (key(h[parent]) <= key(h[i])) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  private pop(): Plan {
    const h = this.heap;
    const top = h[0];
    top.inHeap = false;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && key(h[l]) < key(h[m])) m = l;
        if (r < h.length && key(h[r]) < key(h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

/** Only plans with a next tick are in the heap. */
const key = (p: Plan) => p.due!;

function nextOf(plan: AlarmPlan): (after: number) => number | undefined {
  if (plan.kind === 'once') return (after) => (plan.at > after ? plan.at : undefined);
  if (plan.kind === 'interval') {
    return (after) => {
      const slot = nextGridSlot(plan.startDate, plan.everyMs, after + 1);
      return plan.endDate !== undefined && slot > plan.endDate ? undefined : slot;
    };
  }
  return (after) => {
    const t = nextCronTick(plan.pattern, plan.timezone, Math.max(after, (plan.startDate ?? -Infinity) - 1));
    return t === undefined || (plan.endDate !== undefined && t > plan.endDate) ? undefined : t;
  };
}
