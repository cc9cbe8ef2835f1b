import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../support/controller-harness.js';
import { stopRole, type RoleProcess } from '../support/cluster-processes.js';
import { removeProviderData, startProvider } from '../support/provider-processes.js';
import { freePort, startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';
import { feedClient, sleep, until } from './alarms-support.js';
import { connectKafka, kafkaBrokers, partitionEnds, tallyOffsets, type FiredMessage, type TestKafka } from '../support/test-kafka.js';

/**
 * Issue 7's crash case: the Kafka provider as two `whiskhub provider kafka` replicas (registrations
 * in CouchDB, as in the cluster), firing into a running whiskhub; the feed is created through the
 * catalog's feed action as `wsk` does it (the package's providerUrl points at replica A).
 * 100,000 messages; replica A is SIGKILLed in the middle of the run: replica B takes over its
 * partitions and every offset is fired; A comes back and takes its share again. Every offset is
 * fired at least once, and an offset fired twice lies in a window that was in flight at the kill
 * or at A's return (at most the fires a partition may have in flight, per partition and event).
 */
const MAX_BATCH = 500;
const IN_FLIGHT = 2;
const PARTITIONS = 4;
const run = `kr${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
let wh: StandaloneProcess;
let k: TestKafka;
let topic: string;
const ports: number[] = [];
const replicas: RoleProcess[] = [];
const f = feedClient(() => wh, () => wh.guestAuth, 'messaging');

function startReplica(i: number): RoleProcess {
  replicas[i] = startProvider('kafka', {
    run,
    port: ports[i],
    controllerUrl: wh.apiHost,
    label: `kafka-provider${i}`,
    env: { WHISKHUB_LOG_LEVEL: 'info', WHISKHUB_KAFKA_FEED_SESSION_TIMEOUT_MS: '6000', WHISKHUB_KAFKA_FEED_RECONCILE_MS: '1000', WHISKHUB_KAFKA_FEED_FIRES_IN_FLIGHT: String(IN_FLIGHT) },
  });
  return replicas[i];
}

const health = async (i: number) => (await http(`http://127.0.0.1:${ports[i]}`, 'GET', '/feeds/v1/health').catch(() => undefined))?.body;
const consumersOn = async (i: number) => (await health(i))?.providers?.kafka?.consumers as number | undefined;

/** The group's committed offsets equal the partitions' ends: everything produced has been fired. */
async function drained(group: string, timeoutMs = 120_000): Promise<void> {
  await until(`group ${group} to read everything`, async () => {
    const ends = await partitionEnds(k.admin, topic);
    const [committed] = await k.admin.fetchOffsets({ groupId: group, topics: [topic] });
    return committed.partitions.every((p) => Number(p.offset) === ends.get(p.partition)) ? true : undefined;
  }, timeoutMs);
}

async function fired(trigger: string): Promise<FiredMessage[]> {
  const out: FiredMessage[] = [];
  for (let skip = 0; ; skip += 100) {
    const page = await f.api('GET', `/activations?name=${trigger}&docs=true&limit=100&skip=${skip}`);
    for (const a of page.body as { response: { result: { messages?: FiredMessage[] } } }[]) out.push(...(a.response.result.messages ?? []));
    if (page.body.length < 100) return out;
  }
}

/** Offsets seen more than once, as contiguous ranges per partition. */
function duplicateRanges(dups: { partition: number; offset: number }[]): Map<number, [number, number][]> {
  const out = new Map<number, [number, number][]>();
  for (const d of [...dups].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const ranges = out.get(d.partition) ?? [];
    const last = ranges[ranges.length - 1];
    if (last && last[1] === d.offset - 1) last[1] = d.offset;
    else ranges.push([d.offset, d.offset]);
    out.set(d.partition, ranges);
  }
  return out;
}

beforeAll(async () => {
  k = await connectKafka();
  topic = await k.topic('kafka-replicas', PARTITIONS);
  ports.push(await freePort(), await freePort());
  wh = await startStandaloneProcess({
    env: {
      WHISKHUB_CONTAINER_FACTORY: 'process',
      WHISKHUB_FEEDS_PROVIDER_URL: `http://127.0.0.1:${ports[0]}`,
      WHISKHUB_LOG_LEVEL: 'warn',
    },
  });
  startReplica(0);
  startReplica(1);
  await until('both replicas to answer', async () => ((await health(0))?.status === 'ok' && (await health(1))?.status === 'ok' ? true : undefined), 60_000);
  expect((await f.api('PUT', '/actions/count', { exec: { kind: 'nodejs:default', code: 'function main(p) { return { n: (p.messages || []).length }; }' } })).status).toBe(200);
}, 180_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => stopRole(r)));
  await wh?.stop();
  await k?.close();
  await removeProviderData(run);
}, 120_000);

describe('the Kafka provider across a replica crash', () => {
  it('fires every offset at least once, and twice only within a window in flight, when a replica is killed mid-run and restarted', async () => {
    const created = await f.create('kreplicas', 'kafkaFeed', { brokers: kafkaBrokers().join(','), topic, isJSONData: true, maxBatchMessages: MAX_BATCH });
    expect(f.result(created), JSON.stringify(created.body)).toMatchObject({ status: 'success' });
    expect((await f.api('PUT', '/rules/kreplicas-rule', { trigger: '/_/kreplicas', action: '/_/count' })).status).toBe(200);
    const group = (f.result(await f.get('kreplicas')) as { config: { groupId: string } }).config.groupId;
    await until('a consumer on each replica', async () => ((await consumersOn(0)) === 1 && (await consumersOn(1)) === 1 ? true : undefined), 30_000);

    // 90,000 messages at a steady pace; replica A dies a third of the way in.
    let produced = 0;
    for (let batch = 0; batch < 36; batch++) {
      await k.produce(topic, 2500, produced);
      produced += 2500;
      if (batch === 12) {
        replicas[0].child.kill('SIGKILL');
        await replicas[0].exited;
      }
      await sleep(100);
    }
    // B alone takes every partition over (after the group's session timeout) and reads all of it.
    await drained(group);
    expect(await consumersOn(0)).toBeUndefined();
    const firedByB = async () => Number(/whiskhub_feed_events_total\{provider="kafka",event="fired"\} (\d+)/.exec((await http(`http://127.0.0.1:${ports[1]}`, 'GET', '/feeds/v1/metrics')).text)?.[1] ?? 0);
    const beforeReturn = await firedByB();
    expect(beforeReturn).toBeGreaterThan(0);

    // A comes back, takes its share again, and the last 10,000 are shared.
    startReplica(0);
    await until('replica A to consume again', async () => ((await consumersOn(0)) === 1 ? true : undefined), 60_000);
    await k.produce(topic, 10_000, produced);
    produced += 10_000;
    await drained(group);
    expect(await firedByB()).toBeGreaterThanOrEqual(beforeReturn);

    const messages = await fired('kreplicas');
    const tally = tallyOffsets(messages, await partitionEnds(k.admin, topic));
    expect(tally.missing).toEqual([]);
    const ranges = duplicateRanges(tally.duplicated);
    for (const [partition, rs] of ranges) {
      // One window per partition at the kill and one at A's return, each at most the fires a
      // partition has in flight at once.
      expect(rs.length, `partition ${partition}: ${JSON.stringify(rs)}`).toBeLessThanOrEqual(2);
      for (const [from, to] of rs) expect(to - from + 1).toBeLessThanOrEqual(MAX_BATCH * IN_FLIGHT);
    }
    expect(tally.duplicated.every((d) => d.times === 2)).toBe(true);
    const values = new Set(messages.map((m) => (m.value as { i: number }).i));
    expect(values.size).toBe(100_000);
    console.log(
      `kafka replicas: 100,000 messages, ${messages.length} fired (${tally.duplicated.length} twice, in ${[...ranges.values()].flat().length} windows: ${JSON.stringify([...ranges])}), none missing`,
    );
  }, 300_000);
});
