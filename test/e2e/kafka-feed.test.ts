import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../support/controller-harness.js';
import { runCli, startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';
import { ECHO, feedClient, sleep, until } from './alarms-support.js';
import { connectKafka, kafkaBrokers, partitionEnds, tallyOffsets, type FiredMessage, type TestKafka } from '../support/test-kafka.js';

/**
 * The Kafka feed (/whisk.system/messaging) through `whiskhub standalone` and the real Kafka of
 * deploy/dev/services-up.sh, driven as `wsk` drives feeds (trigger PUT with a feed annotation,
 * blocking invoke of the feed action) and with the npm client: every offset of 100,000 messages
 * fired exactly once, decoding, READ with lag and offsets, PAUSE/UNPAUSE/UPDATE without a lost or
 * doubled offset, oversize messages dead-lettered, a 429 storm that loses nothing, kafkaProduce,
 * validation, DELETE.
 */
const SYSTEM_AUTH = '0b1c5a3e-7f41-4d7e-9c55-8a2b3c4d5e6f:' + 'K'.repeat(64);
let wh: StandaloneProcess;
let k: TestKafka;
const f = feedClient(() => wh, () => wh.guestAuth, 'messaging');
const brokers = () => kafkaBrokers().join(',');

/** Every message fired to a trigger so far, from its trigger records (the fire payload is the record's result). */
async function fired(trigger: string): Promise<FiredMessage[]> {
  const out: FiredMessage[] = [];
  for (let skip = 0; ; skip += 50) {
    const page = await f.api('GET', `/activations?name=${trigger}&docs=true&limit=50&skip=${skip}`);
    expect(page.status).toBe(200);
    for (const a of page.body as { response: { result: { messages?: FiredMessage[] } } }[]) out.push(...(a.response.result.messages ?? []));
    if (page.body.length < 50) return out;
  }
}

/**
 * The messages fired to a trigger once its records hold at least `count` of them. A fire's offsets
 * are committed when the controller accepts it (202), its trigger record is written when its
 * fan-out is over: "no lag" comes first, the records a moment later.
 */
async function recorded(trigger: string, count: number, timeoutMs = 30_000): Promise<FiredMessage[]> {
  let last: FiredMessage[] = [];
  // Past the time limit, what is there goes to the caller's exact checks, which then say what is missing.
  await until(`${count} messages in the records of ${trigger}`, async () => (last = await fired(trigger)).length >= count, timeoutMs).catch(() => undefined);
  return last;
}

/** READ through the feed, as `wsk trigger get` shows it. */
const read = async (trigger: string) => f.result(await f.get(trigger));

/** Waits until READ says the group has read everything there is. */
const drained = (trigger: string, timeoutMs = 60_000) =>
  until(`${trigger} to have no lag`, async () => {
    const r = await read(trigger);
    return r?.consumer?.lag === 0 && r.consumer.partitions.every((p: { committed: number; end: number }) => p.committed === p.end) ? r : undefined;
  }, timeoutMs);

beforeAll(async () => {
  k = await connectKafka();
  wh = await startStandaloneProcess({
    env: {
      WHISKHUB_CONTAINER_FACTORY: 'process',
      WHISKHUB_AUTH_CACHE_MS: '1000',
      WHISKHUB_SYSTEM_AUTH: SYSTEM_AUTH,
      WHISKHUB_LOG_LEVEL: 'info',
      WHISKHUB_KAFKA_FEED_THROTTLE_MAX_DELAY_MS: '1000',
      WHISKHUB_FEEDS_FIRE_MAX_ATTEMPTS: '3',
      WHISKHUB_FEEDS_RETRY_BASE_MS: '200',
    },
  });
  for (const name of ['count', 'echo']) {
    const code = name === 'echo' ? ECHO : 'function main(p) { return { n: (p.messages || []).length }; }';
    expect((await f.api('PUT', `/actions/${name}`, { exec: { kind: 'nodejs:default', code } })).status).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await k?.close();
  expect(await wh?.stop()).toBe(0);
});

/** `wsk trigger create <t> --feed /whisk.system/messaging/kafkaFeed -p …` and `wsk rule create`. */
async function feedWithRule(trigger: string, params: Record<string, unknown>, action = 'count') {
  const created = await f.create(trigger, 'kafkaFeed', params);
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  expect(f.result(created)).toMatchObject({ status: 'success', trigger: `/guest/${trigger}` });
  expect((await f.api('PUT', `/rules/${trigger}-rule`, { trigger: `/_/${trigger}`, action: `/_/${action}` })).status).toBe(200);
}

describe('the catalog', () => {
  it('publishes /whisk.system/messaging with kafkaFeed, messageHubFeed and kafkaProduce, and a second install changes nothing', async () => {
    const actions = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/actions/messaging/', { auth: wh.guestAuth });
    expect(actions.body.map((a: { name: string }) => a.name).sort()).toEqual(['kafkaFeed', 'kafkaProduce', 'messageHubFeed']);
    const feed = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/actions/messaging/kafkaFeed?code=false', { auth: wh.guestAuth });
    expect(feed.body.annotations).toEqual(expect.arrayContaining([{ key: 'feed', value: true }]));
    const produce = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/actions/messaging/kafkaProduce?code=false', { auth: wh.guestAuth });
    expect(produce.body.exec).toMatchObject({ kind: 'nodejs:20', binary: true });

    const again = await runCli(['catalog', 'install', '--apihost', wh.apiHost], { WHISKHUB_SYSTEM_AUTH: SYSTEM_AUTH, WHISKHUB_LOG_LEVEL: 'silent' });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('catalog: /whisk.system/messaging/kafkaProduce unchanged');
    expect(again.stdout).toMatch(/catalog: done \(0 created, 0 updated, \d+ unchanged\)/);
  });
});

describe('CREATE validation, as wsk shows it', () => {
  it('answers a clear error, keeps no trigger and no registration (checklist 45)', async () => {
    const topic = await k.topic('kafka-valid');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ brokers: brokers() }, /'topic'/],
      [{ topic }, /'brokers'/],
      [{ brokers: brokers(), topic, isJSONData: true, isBinaryValue: true }, /cannot both be enabled/],
      [{ brokers: brokers(), topic: `${topic}-missing` }, /does not exist/],
      [{ brokers: '127.0.0.1:1', topic }, /cannot reach the Kafka brokers 127\.0\.0\.1:1/],
    ];
    for (const [params, message] of cases) {
      const r = await f.create('kafka-bad', 'kafkaFeed', params);
      expect(r.body.response.success).toBe(false);
      expect(String(f.result(r).error)).toMatch(message);
      expect((await f.api('GET', '/triggers/kafka-bad')).status).toBe(404);
    }
  });
});

describe('100,000 messages', () => {
  it('fires every offset exactly once across the trigger records, under the payload limit (checklist 47, 48, 51, 52)', async () => {
    const topic = await k.topic('kafka-100k', 3);
    await k.produce(topic, 10, 0); // before CREATE: never fired
    const before = await partitionEnds(k.admin, topic);
    await feedWithRule('k100', { brokers: brokers(), topic, isJSONData: true });

    const started = Date.now();
    await k.produce(topic, 100_000, 10);
    const ends = await partitionEnds(k.admin, topic);
    const read = await drained('k100', 180_000);
    const seconds = (Date.now() - started) / 1000;
    expect(read.consumer.partitions.map((p: { partition: number; end: number }) => [p.partition, p.end])).toEqual([...ends]);

    const messages = await recorded('k100', 100_000);
    // Fired: exactly the offsets produced after CREATE, each once.
    const after = messages.filter((m) => m.offset >= (before.get(m.partition) ?? 0));
    expect(after.length).toBe(messages.length);
    const tally = tallyOffsets(messages, ends);
    const expectedMissing = [...before].flatMap(([p, n]) => Array.from({ length: n }, (_, o) => `${p}:${o}`));
    expect(tally.missing.sort()).toEqual(expectedMissing.sort());
    expect(tally.duplicated).toEqual([]);
    expect(tally.total).toBe(100_000);
    const values = new Set(messages.map((m) => (m.value as { i: number }).i));
    expect(values.size).toBe(100_000);
    expect(Math.min(...values)).toBe(10);
    expect(messages.every((m) => m.topic === topic && typeof m.key === 'string')).toBe(true);

    // Each record is one fire under the payload limit; the rule's action ran for each.
    const records = await f.api('GET', '/activations?name=k100&docs=true&limit=200');
    for (const r of records.body) expect(Buffer.byteLength(JSON.stringify(r.response.result))).toBeLessThanOrEqual(900_000);
    const fires = records.body.length;
    await until('an action activation per fire', async () => ((await f.count('count')) >= fires ? true : undefined), 60_000);
    expect(read.counters.fired).toBe(fires);
    console.log(`kafka feed: 100,000 messages in ${fires} fires, drained ${seconds.toFixed(1)} s after the first was produced`);
  }, 300_000);

  it('PAUSE stops consumption (lag grows, nothing fires), UNPAUSE resumes where it stopped, UPDATE changes decoding without losing its place', async () => {
    const topic = (await read('k100')).config.topic as string;
    const firedBefore = (await fired('k100')).length;
    const paused = await f.invokeFeed('kafkaFeed', 'PAUSE', 'k100');
    expect(f.result(paused)).toMatchObject({ status: 'success', active: false });
    await k.produce(topic, 300, 200_000);
    await sleep(3_000);
    const whilePaused = await read('k100');
    expect(whilePaused.status.active).toBe(false);
    expect(whilePaused.consumer.lag).toBe(300);
    expect((await fired('k100')).length).toBe(firedBefore);

    expect(f.result(await f.invokeFeed('kafkaFeed', 'UNPAUSE', 'k100'))).toMatchObject({ status: 'success', active: true });
    await drained('k100');
    expect((await recorded('k100', firedBefore + 300)).length).toBe(firedBefore + 300);

    const updated = await f.invokeFeed('kafkaFeed', 'UPDATE', 'k100', { isJSONData: false });
    expect(f.result(updated)).toMatchObject({ status: 'success' });
    expect(f.result(updated).config.isJSONData).toBe(false);
    const refused = await f.invokeFeed('kafkaFeed', 'UPDATE', 'k100', { topic: 'elsewhere' });
    expect(String(f.result(refused).error)).toMatch(/topic cannot be updated/);
    await k.produce(topic, 50, 300_000);
    await drained('k100');
    const all = await recorded('k100', firedBefore + 350);
    expect(all.length).toBe(firedBefore + 350);
    const late = all.filter((m) => typeof m.value === 'string');
    expect(late.map((m) => JSON.parse(m.value as string).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 300_000 + i));
    expect(tallyOffsets(all, await partitionEnds(k.admin, topic)).duplicated).toEqual([]);
  }, 120_000);
});

describe('where a feed starts', () => {
  it('fromBeginning fires what the topic held before CREATE too; without it only what came after CREATE', async () => {
    const topic = await k.topic('kafka-start');
    await k.producer.send({ topic, messages: ['before-0', 'before-1', 'before-2'].map((value) => ({ value })) });
    await feedWithRule('kfrom', { brokers: brokers(), topic, fromBeginning: true });
    await feedWithRule('knew', { brokers: brokers(), topic });
    await k.producer.send({ topic, messages: [{ value: 'after-3' }, { value: 'after-4' }] });
    await drained('kfrom');
    await drained('knew');
    const values = async (trigger: string, count: number) => (await recorded(trigger, count)).sort((a, b) => a.offset - b.offset).map((m) => [m.offset, m.value]);
    expect(await values('kfrom', 5)).toEqual([[0, 'before-0'], [1, 'before-1'], [2, 'before-2'], [3, 'after-3'], [4, 'after-4']]);
    expect(await values('knew', 2)).toEqual([[3, 'after-3'], [4, 'after-4']]);
  });
});

describe('decoding and dead letters', () => {
  it('passes binary keys and values as base64, and text as text (checklist 49, 50)', async () => {
    const topic = await k.topic('kafka-bin');
    await feedWithRule('kbin', { brokers: brokers(), topic, isBinaryKey: 'true', isBinaryValue: true });
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await k.producer.send({ topic, messages: [{ key: bytes, value: bytes }, { key: null, value: 'plain' }] });
    await drained('kbin');
    const [a, b] = (await recorded('kbin', 2)).sort((x, y) => x.offset - y.offset);
    expect(a).toEqual({ topic, partition: 0, offset: 0, key: bytes.toString('base64'), value: bytes.toString('base64') });
    expect(b).toMatchObject({ offset: 1, key: null, value: Buffer.from('plain').toString('base64') });
  });

  it('dead-letters a message over the fire limit with its offset, fires the rest and goes on (checklist 54)', async () => {
    const topic = await k.topic('kafka-big');
    await feedWithRule('kbig', { brokers: brokers(), topic, maxBatchBytes: 2048 });
    await k.producer.send({ topic, messages: [{ value: 'small-0' }, { value: 'x'.repeat(5000) }, { value: 'small-2' }] });
    const r = await drained('kbig');
    expect((await recorded('kbig', 2)).map((m) => [m.offset, m.value]).sort()).toEqual([
      [0, 'small-0'],
      [2, 'small-2'],
    ]);
    expect(r.deadLetters.count).toBe(1);
    expect(r.deadLetters.latest[0]).toMatchObject({ status: 413, detail: { topic, partition: 0, fromOffset: 1, toOffset: 1, messages: 1 } });
    expect(r.deadLetters.latest[0].error).toMatch(/over the fire limit/);
    expect(r.status.active).toBe(true);
  });
});

describe('a 429 storm', () => {
  it('loses no message while the namespace is throttled, and drains once the limit rises', async () => {
    const topic = await k.topic('kafka-storm', 2);
    await feedWithRule('kstorm', { brokers: brokers(), topic, maxBatchMessages: 100 });
    const admin = (args: string[]) => runCli(['admin', 'limits', 'set', 'guest', ...args], { WHISKHUB_DATA_DIR: wh.dataDir, WHISKHUB_LOG_LEVEL: 'silent' });
    expect((await admin(['--firesPerMinute', '2'])).code).toBe(0);
    await sleep(1_500); // past the key cache
    await k.produce(topic, 3000);
    await sleep(6_000);
    const storm = await read('kstorm');
    expect(storm.status.active).toBe(true);
    expect(storm.consumer.lag).toBeGreaterThan(2000); // at most a few fires got through
    expect(storm.deadLetters.count).toBe(0);

    expect((await admin(['--firesPerMinute', '100000'])).code).toBe(0);
    const started = Date.now();
    await drained('kstorm', 60_000);
    console.log(`kafka feed: lag of ${storm.consumer.lag} drained ${((Date.now() - started) / 1000).toFixed(1)} s after the limit rose`);
    const tally = tallyOffsets(await recorded('kstorm', 3000), await partitionEnds(k.admin, topic));
    expect(tally.missing).toEqual([]);
    expect(tally.duplicated).toEqual([]);
    expect(tally.total).toBe(3000);
    expect((await read('kstorm')).deadLetters.count).toBe(0);
  }, 120_000);
});

describe('kafkaProduce and the npm client', () => {
  it('produces a message that a feed created with feeds.create fires; reports the broker\'s refusal', async () => {
    const topic = await k.topic('kafka-produce');
    const ow = openwhisk({ apihost: wh.apiHost, api_key: wh.guestAuth });
    await ow.triggers.create({ name: 'kprod', trigger: { annotations: [{ key: 'feed', value: '/whisk.system/messaging/kafkaFeed' }] } });
    // The client's typings lack feeds.get and the activation shape of feed answers.
    const feeds = ow.feeds as any;
    const created = await feeds.create({ name: '/whisk.system/messaging/kafkaFeed', trigger: 'kprod', params: { brokers: kafkaBrokers(), topic, isJSONData: true } });
    expect(created.response.result).toMatchObject({ status: 'success' });
    await ow.rules.create({ name: 'kprod-rule', trigger: 'kprod', action: 'echo' });

    const sent = await ow.actions.invoke({ name: '/whisk.system/messaging/kafkaProduce', blocking: true, result: true, params: { brokers: brokers(), topic, key: 'order-1', value: { total: 42 } } });
    expect(sent).toMatchObject({ success: true, topic, partition: 0, offset: 0 });
    await drained('kprod');
    expect(await recorded('kprod', 1)).toEqual([{ topic, partition: 0, offset: 0, key: 'order-1', value: { total: 42 } }]);
    const got = await feeds.get({ name: '/whisk.system/messaging/kafkaFeed', trigger: 'kprod' });
    expect(got.response.result.counters.fired).toBe(1);
    expect(JSON.stringify(got.response.result)).not.toContain(wh.guestAuth.split(':')[1]);

    const refused = await http(wh.apiHost, 'POST', '/api/v1/namespaces/whisk.system/actions/messaging/kafkaProduce?blocking=true', {
      auth: wh.guestAuth,
      body: { brokers: brokers(), topic: `${topic}-absent`, value: 'x' },
    });
    expect(refused.body.response.success).toBe(false);
    expect(String(refused.body.response.result.error)).toMatch(/Kafka refused the message: .*(topic|partition)/i);

    await feeds.delete({ name: '/whisk.system/messaging/kafkaFeed', trigger: 'kprod' });
    await ow.triggers.delete({ name: 'kprod' });
  }, 120_000);
});

describe('DELETE', () => {
  it('stops the consumer, forgets the registration and removes its own consumer group', async () => {
    const r = await read('kbin');
    const group = r.config.groupId as string;
    expect((await k.admin.listGroups()).groups.map((g) => g.groupId)).toContain(group);
    const removed = await f.remove('kbin');
    expect(f.result(removed!)).toMatchObject({ status: 'success' });
    expect((await f.api('GET', '/triggers/kbin')).status).toBe(404);
    await until('the feed\'s consumer group to be deleted', async () => !(await k.admin.listGroups()).groups.some((g) => g.groupId === group), 30_000);
  }, 60_000);
});
