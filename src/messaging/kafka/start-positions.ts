import type { Admin } from 'kafkajs';
import { whileRetriable } from '../../kafkajs/while-retriable.js';

/**
 * Where a group starts in the partitions it has no committed offset for: the end of the topic
 * as it is now, or its beginning with fromBeginning. Left to kafkajs, "the end" would be read at
 * the member's first fetch, some time after subscribe() resolved (messages published in between
 * would be skipped) and again after any rebalance before the first commit. So the subscription
 * fixes the position here, seeks to it on joining and waits until it is committed.
 */
export async function planStartPositions(admin: Admin, groupId: string, topic: string, fromBeginning: boolean, deadline = Date.now() + 30_000): Promise<Map<number, string>> {
  const [committed] = await whileRetriable(() => admin.fetchOffsets({ groupId, topics: [topic] }), deadline);
  const missing = (committed?.partitions ?? []).filter((p) => Number(p.offset) < 0).map((p) => p.partition);
  if (missing.length === 0) return new Map();
  const watermarks = new Map((await whileRetriable(() => admin.fetchTopicOffsets(topic), deadline)).map((w) => [w.partition, fromBeginning ? w.low : w.high]));
  return new Map(missing.map((p) => [p, watermarks.get(p) ?? '0']));
}

/** Polls until the group has a committed offset for each partition, or the deadline passes. */
export async function waitUntilCommitted(admin: Admin, groupId: string, topic: string, partitions: number[], deadline: number): Promise<void> {
  if (partitions.length === 0) return;
  for (;;) {
    const [committed] = await whileRetriable(() => admin.fetchOffsets({ groupId, topics: [topic] }), deadline);
    const offsets = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    if (partitions.every((p) => (offsets.get(p) ?? -1) >= 0)) return;
    if (Date.now() > deadline) throw new Error(`group ${groupId} did not commit its starting offsets on ${topic} in time`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

