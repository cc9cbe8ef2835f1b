import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { ReceivedMessage, SubscribeOptions } from '../bus.js';
import type { KafkaBusLogger } from '../../kafkajs/kafkajs-logger.js';

export interface BatchHandlerContext {
  group: string;
  handler: SubscribeOptions['handler'];
  logger: KafkaBusLogger;
  heartbeatIntervalMs: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Pending resumes of partitions paused after a failure; cleared on stop. */
  timers: Set<NodeJS.Timeout>;
}

export function toReceived(topic: string, partition: number, m: KafkaMessage): ReceivedMessage {
  const value = m.value?.toString() ?? '';
  return m.key == null ? { topic, partition, offset: m.offset, value } : { topic, partition, offset: m.offset, key: m.key.toString(), value };
}

/**
 * kafkajs eachBatch for one subscription. Offsets are resolved and committed only after the
 * handler resolves. When it throws, nothing is resolved and the partition is paused for a
 * backoff: kafkajs fetches from the last resolved offset, so on resume the same messages come
 * again, then the rest, none skipped. Other partitions keep flowing meanwhile.
 */
export function createBatchHandler(ctx: BatchHandlerContext): (payload: EachBatchPayload) => Promise<void> {
  const failures = new Map<number, number>();
  return async (payload) => {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const messages = batch.messages.map((m) => toReceived(batch.topic, batch.partition, m));
    // kafkajs heartbeats only between batches; keep the membership alive during a slow handler.
    const keepAlive = setInterval(() => payload.heartbeat().catch(() => undefined), ctx.heartbeatIntervalMs);
    try {
      await ctx.handler(messages);
    } catch (err) {
      const n = failures.get(batch.partition) ?? 0;
      failures.set(batch.partition, n + 1);
      const delay = Math.min(ctx.retryDelayMs * 2 ** n, ctx.maxRetryDelayMs);
      ctx.logger.warn(
        { topic: batch.topic, partition: batch.partition, group: ctx.group, firstOffset: messages[0].offset, count: messages.length, retryInMs: delay, err },
        'message handler failed; the batch will be delivered again',
      );
      const resume = payload.pause();
      const timer = setTimeout(() => {
        ctx.timers.delete(timer);
        resume();
      }, delay);
      ctx.timers.add(timer);
      return;
    } finally {
      clearInterval(keepAlive);
    }
    failures.delete(batch.partition);
    payload.resolveOffset(messages[messages.length - 1].offset);
    await payload.commitOffsetsIfNecessary();
  };
}
