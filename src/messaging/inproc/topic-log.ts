import { ObjectMessage, type BusMessage, type ReceivedMessage } from '../bus.js';

/**
 * One topic's append-only log. Offsets count from 0 and never repeat; old entries are dropped
 * from the front (trim) once every group is past them, so memory stays bounded while a history
 * tail remains for groups that start from the beginning.
 */
export class TopicLog {
  /** Retained entries; entries[i] has offset base + i. The first `head` are dead. */
  private entries: ReceivedMessage[] = [];
  private base = 0;
  private head = 0;

  constructor(readonly topic: string) {}

  /** Offset of the oldest retained message. */
  get start(): number {
    return this.base + this.head;
  }

  /** Offset the next appended message gets. */
  get end(): number {
    return this.base + this.entries.length;
  }

  append(messages: readonly BusMessage[]): void {
    let offset = this.end;
    for (const m of messages) {
      const received: ReceivedMessage =
        m.object !== undefined
          ? new ObjectMessage(this.topic, 0, String(offset), m.object, m.key)
          : m.key === undefined
            ? { topic: this.topic, partition: 0, offset: String(offset), value: m.value }
            : { topic: this.topic, partition: 0, offset: String(offset), key: m.key, value: m.value };
      // Every group gets the same message: frozen, so one handler cannot change another's message
      // (an object message's `object` is the publisher's, read only by contract; see BusMessage).
      this.entries.push(Object.freeze(received));
      offset++;
    }
  }

  /** Up to `max` messages from `offset` on (offset must be within [start, end]). */
  read(offset: number, max: number): ReceivedMessage[] {
    const from = offset - this.base;
    return this.entries.slice(from, Math.min(from + max, this.entries.length));
  }

  /** Drops every message before `offset`. */
  trimBefore(offset: number): void {
    const head = Math.min(offset - this.base, this.entries.length);
    if (head <= this.head) return;
    this.head = head;
    // Compact now and then rather than shifting on every trim: amortised O(1) per message.
    if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
