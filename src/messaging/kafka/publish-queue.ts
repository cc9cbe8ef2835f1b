/** A message as Kafka takes it: JSON text. */
export interface TextMessage {
  key?: string;
  value: string;
}

export interface TopicBatch {
  topic: string;
  messages: TextMessage[];
}

interface Pending extends TopicBatch {
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Largest coalesced request we build (Kafka's default message.max.bytes is about 1 MB). */
const MAX_REQUEST_BYTES = 512 * 1024;

const sizeOf = (messages: TextMessage[]) => messages.reduce((n, m) => n + m.value.length + (m.key?.length ?? 0) + 64, 0);

/**
 * Coalesces concurrent publishes into one produce request: those made in the same turn of the
 * event loop, and those arriving while a request is out (the idempotent producer sends one
 * request per broker at a time anyway), which ride together in the next one instead of queueing
 * one round trip each. Order of calls is kept per topic. A failed request fails every publish it
 * carried.
 */
export class PublishQueue {
  private pending: Pending[] = [];
  private sending = false;

  constructor(private readonly send: (batches: TopicBatch[]) => Promise<void>) {}

  publish(topic: string, messages: TextMessage[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ topic, messages, bytes: sizeOf(messages), resolve, reject });
      if (!this.sending) {
        // The first request waits one turn of the event loop: the publishes of every request
        // and message handled in this turn then ride in it, not only those that arrive while
        // it is out. A produce request costs about a millisecond of CPU here whatever it
        // carries, and as much again on the broker.
        this.sending = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const carried = this.takeRequest();
        try {
          await this.send(merge(carried));
          for (const p of carried) p.resolve();
        } catch (err) {
          for (const p of carried) p.reject(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** The oldest publishes that fit in one request (at least one, however big). */
  private takeRequest(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && (n === 0 || bytes + this.pending[n].bytes <= MAX_REQUEST_BYTES)) {
      bytes += this.pending[n].bytes;
      n++;
    }
    return this.pending.splice(0, n);
  }
}

function merge(carried: Pending[]): TopicBatch[] {
  const byTopic = new Map<string, TextMessage[]>();
  for (const p of carried) {
    const list = byTopic.get(p.topic);
    if (list) list.push(...p.messages);
    else byTopic.set(p.topic, [...p.messages]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
