import type { ReceivedMessage } from '../bus.js';
import type { TopicLog } from './topic-log.js';

export interface InProcessLogger {
  warn(obj: object, msg: string): void;
}

export interface DeliveryOptions {
  /** Most messages handed to one handler call. */
  maxBatch: number;
  /** First redelivery delay after a handler throws; doubles per failure up to maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

type Handler = (batch: ReceivedMessage[]) => Promise<void>;

/** One subscriber of a group. */
export interface Member {
  readonly handler: Handler;
  /** Settles once the batch this member is handling (if any) has been accounted for. */
  inFlight?: Promise<void>;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Batches delivered back to back before the drain loop lets timers and I/O run. */
const BATCHES_PER_TURN = 64;

/**
 * A group's position in one topic and its subscribers. One batch at a time is in flight, so
 * the topic's order holds across the whole group; batches go to the members in turn. A batch
 * counts as consumed when its handler resolves; a throw leaves the position where it was and the
 * same batch goes out again (to the next member in turn) after a backoff.
 */
export class GroupCursor {
  private readonly members: Member[] = [];
  private turn = 0;
  private draining = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly group: string,
    private readonly log: TopicLog,
    /** Next offset to deliver: everything before it is consumed. */
    public position: number,
    private readonly options: DeliveryOptions,
    private readonly logger: InProcessLogger,
    private readonly onConsumed: () => void,
  ) {}

  add(member: Member): void {
    this.members.push(member);
    this.kick();
  }

  /** Removes a member; resolves when its in-flight batch (if any) has finished. */
  async remove(member: Member): Promise<void> {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    await member.inFlight;
    if (this.members.length === 0) this.cancelRetry();
  }

  /** Called when messages were appended or a retry is due. Cheap when there is nothing to do. */
  kick(): void {
    if (this.draining || this.retryTimer !== undefined || this.members.length === 0 || this.position >= this.log.end) return;
    this.draining = true;
    queueMicrotask(() => void this.drain());
  }

  cancelRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async drain(): Promise<void> {
    let batches = 0;
    try {
      while (this.members.length > 0 && this.position < this.log.end) {
        if (this.position < this.log.start) {
          this.logger.warn({ topic: this.log.topic, group: this.group, from: this.position, to: this.log.start }, 'in-process bus: group fell behind the retained log; skipping ahead');
          this.position = this.log.start;
        }
        const member = this.members[this.turn++ % this.members.length];
        const batch = this.log.read(this.position, this.options.maxBatch);
        const ok = await this.deliver(member, batch);
        if (!ok) return;
        if (++batches % BATCHES_PER_TURN === 0) await yieldToEventLoop();
      }
    } finally {
      this.draining = false;
    }
  }

  /** Hands one batch to one member; true when it was consumed. */
  private deliver(member: Member, batch: ReceivedMessage[]): Promise<boolean> {
    let settled: Promise<boolean>;
    try {
      settled = member.handler(batch).then(
        () => this.consumed(batch),
        (err: unknown) => this.failed(batch, err),
      );
    } catch (err) {
      settled = Promise.resolve(this.failed(batch, err));
    }
    member.inFlight = settled.then(() => undefined);
    return settled;
  }

  private consumed(batch: ReceivedMessage[]): boolean {
    this.position += batch.length;
    this.failures = 0;
    this.onConsumed();
    return true;
  }

  private failed(batch: ReceivedMessage[], err: unknown): boolean {
    const delay = Math.min(this.options.retryDelayMs * 2 ** this.failures, this.options.maxRetryDelayMs);
    this.failures++;
    this.logger.warn(
      { topic: this.log.topic, group: this.group, firstOffset: batch[0].offset, count: batch.length, retryInMs: delay, err },
      'message handler failed; the batch will be delivered again',
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
    return false;
  }
}
