import type { Admin } from 'kafkajs';
import { badRequest } from '../../src/entities/errors.js';
import type { KafkaBusLogger } from '../../src/kafkajs/kafkajs-logger.js';
import { whileRetriable } from '../../src/kafkajs/while-retriable.js';
import type { KafkaFeedConfig } from './kafka-config.js';
import { kafkaClient } from './kafka-client.js';

/** Group coordinator moments (a broker just started, a group just moved) pass within a few seconds. */
const retried = <T>(call: () => Promise<T>) => whileRetriable(call, Date.now() + 10_000);

type Source = Pick<KafkaFeedConfig, 'brokers' | 'sasl' | 'tls' | 'topic' | 'fromBeginning'>;

/** Runs `use` with a connected admin client of the registration's cluster, then disconnects it. */
async function withAdmin<T>(c: Source, logger: KafkaBusLogger, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(c, 'whiskhub-kafka-feed-admin', logger, 1).admin();
  try {
    try {
      await admin.connect();
    } catch (err) {
      throw badRequest(`cannot reach the Kafka brokers ${c.brokers.join(',')}: ${(err as Error).message}`);
    }
    return await use(admin);
  } catch (err) {
    if ((err as { name?: string }).name?.startsWith('KafkaJS')) throw badRequest(`Kafka refused the request: ${(err as Error).message}`);
    throw err;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Checks a CREATE's source (the brokers answer, the credentials work, the topic exists: 400
 * otherwise) and, without fromBeginning, fixes where the group starts in each partition it has
 * never read: the end of the partition now, so only what is produced after CREATE is fired and
 * all of it. Left to the consumer, "the end" would be read when it first joins, later.
 */
export async function prepareSource(c: Source, groupId: string, logger: KafkaBusLogger): Promise<void> {
  await withAdmin(c, logger, async (admin) => {
    const topics = await admin.listTopics();
    if (!topics.includes(c.topic)) throw badRequest(`the topic '${c.topic}' does not exist on the Kafka brokers ${c.brokers.join(',')}`);
    // From the beginning needs nothing fixed: a partition the group never read starts at its
    // oldest message whenever the consumer joins, which is what CREATE would have committed
    // (unless retention removed some meanwhile, and then the oldest left is all there is). So
    // this CREATE answers without a consumer joining and leaving the group first (about half a second).
    if (c.fromBeginning) return;
    const [committed] = await retried(() => admin.fetchOffsets({ groupId, topics: [c.topic] }));
    const unread = (committed?.partitions ?? []).filter((p) => Number(p.offset) < 0).map((p) => p.partition);
    if (!unread.length) return;
    const marks = new Map((await retried(() => admin.fetchTopicOffsets(c.topic))).map((w) => [w.partition, c.fromBeginning ? w.low : w.high]));
    const [group] = (await retried(() => admin.describeGroups([groupId]))).groups;
    if (group && !['Empty', 'Dead'].includes(group.state)) {
      // The group has members already (a user's own group in use): they keep their positions, and
      // partitions they never read start as the consumer's fromBeginning says.
      logger.info({ groupId, state: group.state }, 'kafka feed: starting offsets left to the running group');
      return;
    }
    await commitStartOffsets(c, groupId, unread.map((partition) => ({ partition, offset: marks.get(partition) ?? '0' })), logger);
  });
}

/**
 * Commits a group's first offsets, as kafkajs's admin.setOffsets does (a member joins the empty
 * group, seeks, and its first fetch commits the seeks), but with a 50 ms fetch wait instead of
 * setOffsets' fixed 5 s, so a CREATE answers at once.
 */
async function commitStartOffsets(c: Source, groupId: string, partitions: { partition: number; offset: string }[], logger: KafkaBusLogger): Promise<void> {
  const consumer = kafkaClient(c, 'whiskhub-kafka-feed-admin', logger, 1).consumer({ groupId, maxWaitTimeInMs: 50, heartbeatInterval: 500, sessionTimeout: 6_000 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: c.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`could not set where consumer group ${groupId} starts (no answer in 30 s)`)), 30_000);
      consumer.on(consumer.events.FETCH, () => {
        clearTimeout(timer);
        consumer.stop().then(resolve, reject);
      });
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined }).catch(reject);
      consumer.pause([{ topic: c.topic }]);
      for (const p of partitions) consumer.seek({ topic: c.topic, ...p });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

export interface PartitionLag {
  partition: number;
  /** The next offset the group will read (-1: none committed yet). */
  committed: number;
  /** The partition's end (high watermark). */
  end: number;
  lag: number;
}

/** The group's position in each partition and how far it is behind (READ). */
export async function readLag(c: Source, groupId: string, logger: KafkaBusLogger): Promise<{ lag: number; partitions: PartitionLag[] }> {
  return withAdmin(c, logger, async (admin) => {
    const [committed] = await retried(() => admin.fetchOffsets({ groupId, topics: [c.topic] }));
    const ends = await retried(() => admin.fetchTopicOffsets(c.topic));
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const partitions = ends
      .map((w) => {
        const end = Number(w.high);
        const pos = at.get(w.partition) ?? -1;
        return { partition: w.partition, committed: pos, end, lag: pos < 0 ? end - Number(w.low) : Math.max(0, end - pos) };
      })
      .sort((a, b) => a.partition - b.partition);
    return { lag: partitions.reduce((s, p) => s + p.lag, 0), partitions };
  });
}

/** Deletes a consumer group the provider made (the registration is gone); false while it still has members. */
export async function deleteGroup(c: Source, groupId: string, logger: KafkaBusLogger): Promise<boolean> {
  return withAdmin(c, logger, async (admin) => {
    try {
      await admin.deleteGroups([groupId]);
      return true;
    } catch {
      return false;
    }
  });
}
