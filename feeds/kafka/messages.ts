import type { KafkaMessage } from 'kafkajs';
import type { KafkaFeedConfig } from './kafka-config.js';

/** One message as a fire carries it (OpenWhisk's messaging feed shape). */
export interface FeedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: unknown;
}

/** A decoded message, its JSON text in a fire body, and the bytes that adds. */
export interface SizedMessage {
  message: FeedMessage;
  /** `message` as JSON (made once: it sizes the fire and is spliced into its body). */
  json: string;
  /** Kafka's offset as kafkajs gives it (a string: offsets are 64-bit). */
  offset: string;
  bytes: number;
  /** When it was produced (epoch ms). */
  timestamp: number;
}

type Decoding = Pick<KafkaFeedConfig, 'isJSONData' | 'isBinaryKey' | 'isBinaryValue'>;

/**
 * Values are UTF-8 text by default (bytes that are not UTF-8 become U+FFFD); with isBinaryValue
 * base64; with isJSONData parsed JSON, or the text itself when it does not parse (the reference
 * wrapped such text in literal quotes; we keep it as it is). Keys likewise, base64 with
 * isBinaryKey. A null key or value (a tombstone) stays null.
 */
export function decodeMessage(topic: string, partition: number, m: KafkaMessage, c: Decoding): SizedMessage {
  const key = m.key == null ? null : c.isBinaryKey ? m.key.toString('base64') : m.key.toString('utf8');
  let value: unknown = null;
  let valueJson: string | undefined;
  if (m.value != null) {
    if (c.isBinaryValue) value = m.value.toString('base64');
    else {
      const text = m.value.toString('utf8');
      value = text;
      if (c.isJSONData) {
        try {
          value = JSON.parse(text);
          // The text parsed, so it is JSON: it goes into the body as it came, not stringified again.
          valueJson = text;
        } catch {
          value = text;
        }
      }
    }
  }
  const message: FeedMessage = { topic, partition, offset: Number(m.offset), key, value };
  const json = `{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":${message.offset},"key":${key === null ? 'null' : JSON.stringify(key)},"value":${valueJson ?? JSON.stringify(value)}}`;
  return { message, json, offset: m.offset, bytes: Buffer.byteLength(json), timestamp: Number(m.timestamp) || Date.now() };
}

/** `{"messages":[]}`: what a fire body weighs before its messages. */
export const EMPTY_BODY_BYTES = Buffer.byteLength('{"messages":[]}');

export type Chunk =
  /** Messages for one fire, in offset order. */
  | { kind: 'fire'; messages: SizedMessage[]; bytes: number }
  /** A message that alone is over the limit: it cannot be fired, it is dead-lettered. */
  | { kind: 'oversize'; message: SizedMessage; bytes: number };

export interface ChunkLimits {
  maxBatchBytes: number;
  maxBatchMessages: number;
}

/**
 * Cuts a partition's messages into fires as they come, one message at a time: as many as fit
 * under both limits, in order; a message over the byte limit on its own becomes an `oversize`
 * chunk. `endsAt` lists where the first fires ended when they were cut before (fires being
 * retried): they end there again, so each keeps its exact extent (and its idempotency key) when
 * more messages have arrived since. Incremental so that a large batch's first fire can leave
 * while the rest of the batch is still being decoded.
 */
export class ChunkCutter {
  private current: SizedMessage[] = [];
  private bytes = EMPTY_BODY_BYTES;

  constructor(
    private readonly limits: ChunkLimits,
    private readonly endsAt: readonly string[] = [],
  ) {}

  /** Adds the next message; answers the chunks it closed (none, one, or two). */
  add(m: SizedMessage): Chunk[] {
    const closed: Chunk[] = [];
    if (EMPTY_BODY_BYTES + m.bytes > this.limits.maxBatchBytes) {
      this.close(closed);
      closed.push({ kind: 'oversize', message: m, bytes: EMPTY_BODY_BYTES + m.bytes });
      return closed;
    }
    const added = m.bytes + (this.current.length ? 1 : 0);
    if (this.current.length && (this.bytes + added > this.limits.maxBatchBytes || this.current.length >= this.limits.maxBatchMessages)) this.close(closed);
    this.bytes += m.bytes + (this.current.length ? 1 : 0);
    this.current.push(m);
    if (this.endsAt.includes(m.offset)) this.close(closed);
    return closed;
  }

  /** The last chunk, when messages are left over. */
  finish(): Chunk[] {
    const closed: Chunk[] = [];
    this.close(closed);
    return closed;
  }

  private close(into: Chunk[]): void {
    if (this.current.length) into.push({ kind: 'fire', messages: this.current, bytes: this.bytes });
    this.current = [];
    this.bytes = EMPTY_BODY_BYTES;
  }
}

/** The fire body of a chunk. */
export const fireBody = (chunk: { messages: SizedMessage[] }) => ({ messages: chunk.messages.map((m) => m.message) });

/** The same body as JSON text, spliced from the messages' own (nothing stringified again). */
export const fireBodyJson = (chunk: { messages: SizedMessage[] }) => `{"messages":[${chunk.messages.map((m) => m.json).join(',')}]}`;

/**
 * A batch's chunks, cut only as far as asked: its messages are decoded up to the chunk wanted and
 * no further, so the first fire of a batch of tens of thousands of messages leaves after one
 * fire's worth of decoding, and the rest is decoded while the controller works on it.
 */
export class LazyChunks<M> {
  /** The chunks cut so far, in order. */
  readonly cut: Chunk[] = [];
  private next = 0;
  private finished = false;

  constructor(
    private readonly messages: readonly M[],
    private readonly decode: (m: M) => SizedMessage,
    private readonly cutter: ChunkCutter,
  ) {}

  /** True when chunk `i` exists (decoding and cutting on to it). */
  has(i: number): boolean {
    while (this.cut.length <= i && this.next < this.messages.length) this.cut.push(...this.cutter.add(this.decode(this.messages[this.next++])));
    if (this.cut.length <= i && !this.finished) {
      this.finished = true;
      this.cut.push(...this.cutter.finish());
    }
    return this.cut.length > i;
  }
}
