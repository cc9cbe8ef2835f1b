import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { SubscribeOptions, Subscription } from '../bus.js';
import { createBatchHandler } from './batch-handler.js';
import type { KafkaBusLogger } from '../../kafkajs/kafkajs-logger.js';
import type { ConsumerTiming } from './kafka-options.js';
import { planStartPositions, waitUntilCommitted } from './start-positions.js';

export interface KafkaSubscriptionContext {
  kafka: Kafka;
  admin: Admin;
  timing: ConsumerTiming;
  logger: KafkaBusLogger;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  subscribeTimeoutMs: number;
}

/**
 * One kafkajs consumer (one group member) per subscription. Resolves once the member has joined
 * its group and the group's starting position is committed: every message published after that
 * reaches the group.
 */
export async function startKafkaSubscription(ctx: KafkaSubscriptionContext, options: SubscribeOptions): Promise<Subscription> {
  const { topic, group, fromBeginning = false } = options;
  const deadline = Date.now() + ctx.subscribeTimeoutMs;
  const starts = await planStartPositions(ctx.admin, group, topic, fromBeginning, deadline);
  const { timing } = ctx;
  const consumer = ctx.kafka.consumer({
    groupId: group,
    sessionTimeout: timing.sessionTimeoutMs,
    rebalanceTimeout: timing.rebalanceTimeoutMs,
    heartbeatInterval: timing.heartbeatIntervalMs,
    maxWaitTimeInMs: timing.maxWaitTimeMs,
  });
  const timers = new Set<NodeJS.Timeout>();
  const stop = async () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    // stop() lets the batch in hand finish (its offsets are committed), then leaves the group.
    await consumer.disconnect();
  };

  try {
    const joined = firstJoin(consumer, topic, starts);
    joined.catch(() => undefined); // awaited below; a crash while connecting must not go unhandled
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning });
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      ...(options.commitIntervalMs ? { autoCommitInterval: options.commitIntervalMs } : { autoCommitThreshold: 1 }),
      eachBatch: createBatchHandler({ group, handler: options.handler, logger: ctx.logger, heartbeatIntervalMs: timing.heartbeatIntervalMs, retryDelayMs: ctx.retryDelayMs, maxRetryDelayMs: ctx.maxRetryDelayMs, timers }),
    });
    const seeked = await withDeadline(joined, deadline, `consumer for group ${group} did not join in time`);
    await waitUntilCommitted(ctx.admin, group, topic, seeked, deadline);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return { stop: () => (stopping ??= stop()) };
}

/**
 * Resolves with the partitions it sought to on the member's first join. The seeks are registered
 * synchronously in the join event, before kafkajs's first fetch, which applies and commits them.
 * Rejects if the consumer crashes before joining.
 */
function firstJoin(consumer: Consumer, topic: string, starts: Map<number, string>): Promise<number[]> {
  return new Promise<number[]>((resolve, reject) => {
    let done = false;
    const offJoin = consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (done) return;
      done = true;
      offJoin();
      offCrash();
      const assigned = event.payload.memberAssignment[topic] ?? [];
      const seeked = assigned.filter((p) => starts.has(p));
      for (const partition of seeked) consumer.seek({ topic, partition, offset: starts.get(partition)! });
      resolve(seeked);
    });
    const offCrash = consumer.on(consumer.events.CRASH, (event) => {
      if (done) return;
      done = true;
      offJoin();
      offCrash();
      reject(event.payload.error);
    });
  });
}

async function withDeadline<T>(promise: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
