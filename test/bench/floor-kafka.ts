import * as http from 'node:http';
import type { EachBatchPayload } from 'kafkajs';
import { ChunkCutter, decodeMessage, fireBodyJson, LazyChunks } from '../../feeds/kafka/messages.js';

/**
 * The provider's part of the Kafka floor (`bench kafka`): for each batch of a partition, what any
 * provider that keeps the promise has to do, and nothing else: decode the messages as
 * the feed says (here JSON, as the bench's feed asks), cut them into fire bodies under the
 * default limits, post each to the sink and wait for its 202, then commit the offsets. No
 * registrations, retries, dead letters, lag reports or second fire in flight. Used as a kafkajs
 * `eachBatch` with eachBatchAutoResolve off.
 */
export function floorFirer(sinkUrl: string, limits = { maxBatchBytes: 900_000, maxBatchMessages: 10_000 }) {
  const url = new URL(sinkUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  const eachBatch = async ({ batch, resolveOffset, commitOffsetsIfNecessary }: EachBatchPayload) => {
    const chunks = new LazyChunks(batch.messages, (m) => decodeMessage(batch.topic, batch.partition, m, { isJSONData: true, isBinaryKey: false, isBinaryValue: false }), new ChunkCutter(limits));
    for (let i = 0; chunks.has(i); i++) {
      const chunk = chunks.cut[i];
      if (chunk.kind !== 'fire') throw new Error('bench kafka floor: a message over the fire limit');
      const status = await post(fireBodyJson(chunk));
      if (status !== 202) throw new Error(`bench kafka floor: the sink answered ${status}`);
      resolveOffset(chunk.messages[chunk.messages.length - 1].offset);
      await commitOffsetsIfNecessary();
    }
  };
  return { eachBatch, close: () => agent.destroy() };
}
