import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from '../../src/logging/logger.js';
import type { FeedFireJob } from '../kit/fire-queue.js';
import { retryDelay, type RetryPolicy } from '../kit/firer.js';
import type { FeedEvents } from '../kit/provider.js';
import type { Registration } from '../kit/registration.js';
import type { Registrations } from '../kit/registrations.js';
import { groupIdOf, type KafkaFeedConfig } from './kafka-config.js';
import { kafkaClient } from './kafka-client.js';
import { ChunkCutter, decodeMessage, fireBody, fireBodyJson, LazyChunks, type Chunk, type SizedMessage } from './messages.js';

export type KafkaRegistration = Registration<KafkaFeedConfig>;

export interface TriggerConsumerOptions {
  events: FeedEvents;
  registrations: Registrations;
  logger: Logger;
  /** Failures other than 429 (408, 409, 5xx, no answer): attempts before the batch is dead-lettered. */
  retry: RetryPolicy;
  /** Longest wait between two attempts of a throttled (429) fire: short, so lag drains soon after the limit rises. */
  throttleMaxDelayMs: number;
  /** A consumer that has not fetched for this long (and is not backing off on purpose) is restarted. */
  watchdogMs: number;
  /** Consecutive failures to connect or consume, without ever joining the group, before the registration is disabled. */
  maxFailures: number;
  /** Members silent this long leave the group and their partitions go to the other replicas. */
  sessionTimeoutMs: number;
  /** Fires of one partition in flight at once; their offsets are still committed in order. */
  firesInFlight: number;
  /** Reports how far behind the end a partition is after each fire. */
  onLag(partition: number, lag: number): void;
}

/**
 * A partition's fires that are being retried: where each started and ended, so the retry cuts the
 * same fires (with the same idempotency keys) when more messages have arrived since.
 */
interface PendingChunks {
  first: string;
  ends: string[];
  /** Failures of the first fire that count towards the dead letter (not 429s). */
  attempts: number;
  /** 429s in a row. */
  throttled: number;
}

type ChunkOutcome = { next: 'done' } | { next: 'stop' } | { next: 'retry'; delayMs: number; attempts: number; throttled: number };

const startOf = (c: Chunk) => (c.kind === 'fire' ? c.messages[0].offset : c.message.offset);
const endOf = (c: Chunk) => (c.kind === 'fire' ? c.messages[c.messages.length - 1].offset : c.message.offset);
const DONE: ChunkOutcome = { next: 'done' };
const STOP: ChunkOutcome = { next: 'stop' };

/**
 * The consumer of one registration in this replica: a kafkajs consumer in the registration's
 * group (every replica runs one, so Kafka shares the partitions among them and moves a dead
 * replica's partitions to the others). Each batch of a partition is cut into fires; a fire's
 * offsets are committed only after the controller accepted it. A throttled fire (429) pauses the
 * partition and is tried again, for as long as it takes; other failures are retried with backoff,
 * then the batch is dead-lettered with its offsets and consumption goes on. A message larger than
 * a fire may be is dead-lettered, never dropped. A refusal (401, 403, 404, …) disables the
 * registration and stops without committing.
 */
export class TriggerConsumer {
  readonly id: string;
  readonly generation: number;
  private consumer?: Consumer;
  private stopped = false;
  private stopping?: Promise<void>;
  private failures = 0;
  private lastFetch = Date.now();
  private inBatch = 0;
  private readonly pending = new Map<number, PendingChunks>();
  private readonly resumes = new Set<NodeJS.Timeout>();
  private restartTimer?: NodeJS.Timeout;
  private readonly watchdog: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    private readonly reg: KafkaRegistration,
    private readonly o: TriggerConsumerOptions,
  ) {
    this.id = reg.id;
    this.generation = reg.generation;
    this.log = o.logger.child({ registration: reg.id, topic: reg.config.topic });
    this.watchdog = setInterval(() => this.checkAlive(), Math.max(1000, Math.floor(o.watchdogMs / 4)));
    this.watchdog.unref();
  }

  get groupId(): string {
    return groupIdOf(this.reg);
  }

  start(): void {
    void this.run();
  }

  /** Leaves the group (a batch in hand ends at its next fire, uncommitted). */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      this.stopped = true;
      clearInterval(this.watchdog);
      clearTimeout(this.restartTimer);
      for (const t of this.resumes) clearTimeout(t);
      this.resumes.clear();
      await this.consumer?.disconnect().catch(() => undefined);
    })());
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const c = this.reg.config;
    const consumer = kafkaClient(c, `whiskhub-kafka-feed`, this.log).consumer({
      groupId: this.groupId,
      sessionTimeout: this.o.sessionTimeoutMs,
      rebalanceTimeout: this.o.sessionTimeoutMs * 2,
      heartbeatInterval: Math.max(100, Math.floor(this.o.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.FETCH, () => {
      this.lastFetch = Date.now();
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.failures = 0;
      this.lastFetch = Date.now();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      // kafkajs restarts by itself after a retriable crash; otherwise it is ours to do.
      if (this.consumer === consumer) this.failed(e.payload.error, !e.payload.restart);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: c.topic, fromBeginning: c.fromBeginning });
      await consumer.run({
        autoCommit: true,
        autoCommitThreshold: 1,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 8,
        eachBatch: (payload) => this.onBatch(payload),
      });
      this.lastFetch = Date.now();
    } catch (err) {
      if (this.consumer === consumer) this.failed(err as Error, true);
    }
  }

  /** A failure to connect or consume; after `maxFailures` of them in a row the registration is disabled with the reason. */
  private failed(err: Error, restart: boolean): void {
    if (this.stopped) return;
    this.failures++;
    this.log.warn({ error: err.message, failures: this.failures }, 'kafka feed consumer failed');
    if (this.failures >= this.o.maxFailures) {
      const message = `Automatically disabled after ${this.failures} failed attempts to consume topic ${this.reg.config.topic} from ${this.reg.config.brokers.join(',')}: ${err.message}`;
      void this.o.events.disable(this.reg.id, { kind: 'AUTO', message }, this.generation).catch((e) => this.log.error({ err: e }, 'kafka feed: disable failed'));
      return;
    }
    if (restart) this.restart(Math.min(30_000, 500 * 2 ** this.failures));
  }

  private restart(delayMs: number): void {
    clearTimeout(this.restartTimer);
    const old = this.consumer;
    this.consumer = undefined;
    this.restartTimer = setTimeout(() => {
      void (async () => {
        await old?.disconnect().catch(() => undefined);
        await this.run();
      })();
    }, delayMs);
  }

  /** The watchdog: a consumer that stopped fetching while it has nothing to wait for is started again. */
  private checkAlive(): void {
    if (this.stopped || !this.consumer || this.inBatch > 0 || this.resumes.size > 0) return;
    if (Date.now() - this.lastFetch < this.o.watchdogMs) return;
    this.log.warn({ silentMs: Date.now() - this.lastFetch }, 'kafka feed consumer stopped fetching; restarting it');
    this.o.events.count('kafka', 'restarted');
    this.lastFetch = Date.now();
    this.restart(0);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (!batch.messages.length || this.stopped || !payload.isRunning() || payload.isStale()) return;
    this.inBatch++;
    const keepAlive = setInterval(() => payload.heartbeat().catch(() => undefined), 1000);
    try {
      const c = this.reg.config;
      const pending = this.pending.get(batch.partition);
      const sameStart = pending?.first === batch.messages[0].offset;
      if (pending && !sameStart) this.pending.delete(batch.partition);
      const chunks = new LazyChunks(batch.messages, (m) => decodeMessage(batch.topic, batch.partition, m, c), new ChunkCutter(c, sameStart ? pending!.ends : []));
      // Up to `firesInFlight` fires at once; outcomes are taken, and offsets committed, in order.
      const inFlight: Promise<ChunkOutcome>[] = [];
      const launch = (i: number) => {
        const chunk = chunks.cut[i];
        const attempts = i === 0 && sameStart ? pending! : undefined;
        inFlight[i] = chunk.kind === 'fire' ? this.fire(batch.topic, batch.partition, chunk.messages, attempts) : this.oversize(batch.topic, batch.partition, chunk);
      };
      const width = this.o.firesInFlight;
      for (let i = 0; chunks.has(i); i++) {
        // Fires are launched in order: the ones below inFlight.length are out already.
        for (let j = inFlight.length; j < i + width && chunks.has(j); j++) {
          launch(j);
          // Let the fire go out (and the other partitions' batches start theirs) before decoding on.
          await yieldToIo();
        }
        // The next fire is decoded while these are out.
        chunks.has(i + width);
        const outcome = await inFlight[i];
        if (outcome.next !== 'done' || this.stopped || !payload.isRunning() || payload.isStale()) {
          // The fires after it may have been accepted: they are fired again with the same keys.
          await Promise.allSettled(inFlight.slice(i + 1));
          if (outcome.next === 'retry') {
            const ends = chunks.cut.slice(i, inFlight.length).map(endOf);
            this.pending.set(batch.partition, { first: startOf(chunks.cut[i]), ends, attempts: outcome.attempts, throttled: outcome.throttled });
            this.backOff(payload, batch.partition, outcome.delayMs);
          }
          return;
        }
        this.pending.delete(batch.partition);
        const last = endOf(chunks.cut[i]);
        payload.resolveOffset(last);
        await payload.commitOffsetsIfNecessary();
        this.o.onLag(batch.partition, Math.max(0, Number(batch.highWatermark) - Number(last) - 1));
      }
    } finally {
      clearInterval(keepAlive);
      this.inBatch--;
    }
  }

  private job(topic: string, partition: number, first: string, last: string, payload: Record<string, unknown>, eventTime: number, attempts: number): FeedFireJob {
    const span = `${topic}/${partition}/${first}-${last}`;
    return {
      id: `${this.reg.id}/${this.generation}/${span}`,
      registrationId: this.reg.id,
      generation: this.generation,
      namespace: this.reg.namespace,
      trigger: this.reg.trigger,
      payload,
      // Per group (new on a re-CREATE, kept through UPDATE) and offsets: a fire redelivered after
      // its answer was lost fires nothing new.
      idempotencyKey: `kafka:${this.groupId}:${span}`,
      eventTime,
      enqueuedAt: Date.now(),
      attempts,
    };
  }

  /** One fire; `earlier` is the state of this same fire's earlier attempts. */
  private async fire(topic: string, partition: number, messages: SizedMessage[], earlier?: Pick<PendingChunks, 'attempts' | 'throttled'>): Promise<ChunkOutcome> {
    const first = messages[0].offset;
    const last = messages[messages.length - 1].offset;
    const attempts0 = earlier?.attempts ?? 0;
    const throttled0 = earlier?.throttled ?? 0;
    const job = this.job(topic, partition, first, last, fireBody({ messages }), messages[0].timestamp, attempts0);
    const tried = await this.o.events.fireNow({ ...job, payloadJson: fireBodyJson({ messages }) });
    if (tried.outcome === 'stale' || tried.outcome === 'refused') return STOP;
    if (tried.outcome === 'fired') {
      this.o.events.count('kafka', 'messages', messages.length);
      return DONE;
    }
    const { answer, reg } = tried;
    if (answer.status === 429) {
      // Throttled: never dead-lettered, never skipped; the partition waits and tries again.
      this.o.events.count('kafka', 'throttled');
      const throttled = throttled0 + 1;
      const delayMs = Math.min(this.o.throttleMaxDelayMs, Math.max(retryDelay(this.o.retry, throttled), answer.retryAfterMs ?? 0));
      return { next: 'retry', delayMs, attempts: attempts0, throttled };
    }
    const attempts = attempts0 + 1;
    if (attempts >= this.o.retry.maxAttempts) {
      await this.o.events.deadLetter(reg, { ...job, attempts }, answer, { topic, partition, fromOffset: Number(first), toOffset: Number(last), messages: messages.length });
      return DONE;
    }
    this.o.events.count('kafka', 'retried');
    return { next: 'retry', delayMs: retryDelay(this.o.retry, attempts, answer.retryAfterMs), attempts, throttled: 0 };
  }

  /** A message over the fire size limit: dead-lettered with where to find it (it stays in Kafka), and passed. */
  private async oversize(topic: string, partition: number, chunk: Extract<Chunk, { kind: 'oversize' }>): Promise<ChunkOutcome> {
    const got = await this.o.registrations.get<KafkaFeedConfig>(this.reg.id);
    if (!got || got.doc.generation !== this.generation || !got.doc.status.active) return STOP;
    const m = chunk.message;
    const error = `message of ${chunk.bytes} bytes is over the fire limit (maxBatchBytes ${this.reg.config.maxBatchBytes}); read it from the topic at this offset`;
    const job = this.job(topic, partition, m.offset, m.offset, { messages: [] }, Date.now(), 0);
    await this.o.events.deadLetter(got.doc, job, { status: 413, error }, { topic, partition, fromOffset: Number(m.offset), toOffset: Number(m.offset), messages: 1, bytes: chunk.bytes, key: m.message.key });
    return DONE;
  }

  /** Pauses the partition for the delay `fire` chose; kafkajs then fetches again from the first unfired offset. */
  private backOff(payload: EachBatchPayload, partition: number, delay: number): void {
    const resume = payload.pause();
    this.log.info({ partition, retryInMs: delay }, 'kafka feed: fire not accepted, partition paused');
    const timer = setTimeout(() => {
      this.resumes.delete(timer);
      resume();
    }, delay);
    this.resumes.add(timer);
  }
}
