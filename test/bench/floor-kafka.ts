import type { EachBatchPayload } from 'kafkajs';
import { ChunkCutter, decodeMessage, fireBodyJson, LazyChunks } from '../../feeds/kafka/messages.js';
import { loadConfig } from '../../src/config/config.js';
import { jsonPoster } from './http-loop.js';

/**
 * The provider's part of the Kafka floor (`bench kafka`): for each batch of a partition, what any
 * provider that keeps the promise has to do, and nothing else: decode the messages as
 * the feed says (here JSON, as the bench's feed asks), cut them into fire bodies under the
 * default limits, post each to the sink and wait for its 202, then commit the offsets. No
 * registrations, retries, dead letters, lag reports or second fire in flight. Used as a kafkajs
 * `eachBatch` with eachBatchAutoResolve off.
 */
export function floorFirer(sinkUrl: string) {
  const { maxBatchBytes, defaultBatchMessages } = loadConfig({}, 'standalone').feeds.kafka;
  const limits = { maxBatchBytes, maxBatchMessages: defaultBatchMessages };
  const sink = jsonPoster(sinkUrl, {}, 16);
  const path = new URL(sinkUrl).pathname;
  const eachBatch = async ({ batch, resolveOffset, commitOffsetsIfNecessary }: EachBatchPayload) => {
    const chunks = new LazyChunks(batch.messages, (m) => decodeMessage(batch.topic, batch.partition, m, { isJSONData: true, isBinaryKey: false, isBinaryValue: false }), new ChunkCutter(limits));
    for (let i = 0; chunks.has(i); i++) {
      const chunk = chunks.cut[i];
      if (chunk.kind !== 'fire') throw new Error('bench kafka floor: a message over the fire limit');
      const { status } = await sink.postText(path, fireBodyJson(chunk));
      if (status !== 202) throw new Error(`bench kafka floor: the sink answered ${status}`);
      resolveOffset(chunk.messages[chunk.messages.length - 1].offset);
      await commitOffsetsIfNecessary();
    }
  };
  return { eachBatch, close: sink.close };
}
