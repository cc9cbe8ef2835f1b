import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { valueOf, type BusMessage, type MessageBus, type ReceivedMessage, type Subscription } from '../../src/messaging/bus.js';

/**
 * The one behaviour suite every MessageBus implementation must pass. Each test uses its own
 * topics and groups, so the suite can share a broker with anything else.
 */
export interface BusHarness {
  /** Opens a bus (one process's client); may be called more than once. */
  open(): Promise<MessageBus>;
  /** Called once at the end with every topic the suite used (for example to delete them). */
  cleanup?(topics: string[]): Promise<void>;
}

const WAIT_MS = 20_000;

/** Polls until `done` holds; fails with `what` and the last state after WAIT_MS. */
async function waitFor(done: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Records every batch a handler is given; can be told to throw. */
class Collector {
  readonly batches: ReceivedMessage[][] = [];
  readonly failed: ReceivedMessage[][] = [];
  /** Calls to fail before handling normally. */
  failNext = 0;

  readonly handler = async (batch: ReceivedMessage[]): Promise<void> => {
    if (this.failNext > 0) {
      this.failNext--;
      this.failed.push(batch);
      throw new Error('handler failure (test)');
    }
    this.batches.push(batch);
  };

  get messages(): ReceivedMessage[] {
    return this.batches.flat();
  }

  get values(): string[] {
    return this.messages.map((m) => m.value);
  }

  /** Waits until at least n messages were handled; fails showing what came instead. */
  async waitForCount(n: number): Promise<void> {
    await waitFor(
      () => this.messages.length >= n,
      () => `${n} messages, got ${this.messages.length}: ${this.values.slice(0, 10).join(',')}…`,
    );
  }

  async waitForValue(value: string): Promise<void> {
    await waitFor(
      () => this.values.includes(value),
      () => `message ${value}, got ${this.messages.length}`,
    );
  }
}

const values = (prefix: string, n: number, from = 0): BusMessage[] =>
  Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ prefix, n: from + i }) }));

const value = (prefix: string, n: number) => JSON.stringify({ prefix, n });

const duplicates = (list: string[]) => list.filter((v, i) => list.indexOf(v) !== i);

export function describeMessageBus(name: string, harness: BusHarness) {
  describe(`MessageBus contract: ${name}`, () => {
    const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const topicsUsed: string[] = [];
    const subscriptions: Subscription[] = [];
    let bus: MessageBus;

    const newTopic = (label: string) => {
      const topic = `whiskhub-contract-${run}-${label}-${randomBytes(3).toString('hex')}`;
      topicsUsed.push(topic);
      return topic;
    };
    const newGroup = (label: string) => `whiskhub-contract-${run}-${label}-${randomBytes(3).toString('hex')}`;

    const subscribe = async (topic: string, group: string, collector: Collector, fromBeginning?: boolean, on = bus) => {
      const s = await on.subscribe({ topic, group, fromBeginning, handler: collector.handler });
      subscriptions.push(s);
      return s;
    };

    beforeAll(async () => {
      bus = await harness.open();
    });

    afterAll(async () => {
      await Promise.allSettled(subscriptions.map((s) => s.stop()));
      await bus?.close();
      await harness.cleanup?.(topicsUsed);
    });

    it('delivers published messages in order, with topic, partition and offset', async () => {
      const topic = newTopic('order');
      await bus.ensureTopics([topic]);
      const c = new Collector();
      await subscribe(topic, newGroup('order'), c);

      await bus.publish(topic, values('a', 3));
      await bus.publish(topic, [{ key: 'k1', value: value('a', 3) }, ...values('a', 6, 4)]);
      await c.waitForCount(10);

      expect(c.values).toEqual(Array.from({ length: 10 }, (_, i) => value('a', i)));
      expect(c.messages.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
      for (const m of c.messages) {
        expect(m.topic).toBe(topic);
        expect(m.partition).toBe(0);
      }
      expect(c.messages[3].key).toBe('k1');
      expect(c.messages[0].key).toBeUndefined();
    });

    it('takes messages published as objects: handlers read them with valueOf (the same object only in-process) and as JSON text', async () => {
      const topic = newTopic('objects');
      await bus.ensureTopics([topic]);
      const c = new Collector();
      await subscribe(topic, newGroup('objects'), c);
      const published = { prefix: 'o', nested: { list: [1, 2, 3], text: 'é"\n' } };

      await bus.publish(topic, [{ key: 'k', object: published }, { value: value('o', 1) }]);
      await c.waitForCount(2);

      const [first, second] = c.messages;
      expect(valueOf(first)).toEqual(published);
      expect(JSON.parse(first.value)).toEqual(published);
      expect(first.key).toBe('k');
      expect(first.topic).toBe(topic);
      expect(first.offset).toBe('0');
      expect(valueOf(second)).toEqual({ prefix: 'o', n: 1 });
      // In-process the handler gets the publisher's object itself (nothing copied); across
      // processes necessarily a copy.
      expect(valueOf(first) === published).toBe(bus.inProcess);
    });

    it('gives every group every message', async () => {
      const topic = newTopic('groups');
      await bus.ensureTopics([topic]);
      const c1 = new Collector();
      const c2 = new Collector();
      await subscribe(topic, newGroup('g1'), c1);
      await subscribe(topic, newGroup('g2'), c2);

      const sent = values('g', 50);
      await bus.publish(topic, sent.slice(0, 25));
      await bus.publish(topic, sent.slice(25));
      await c1.waitForCount(50);
      await c2.waitForCount(50);

      expect(c1.values).toEqual(sent.map((m) => m.value));
      expect(c2.values).toEqual(sent.map((m) => m.value));
    });

    it('splits a group’s messages between its subscribers, none lost, none twice', async () => {
      const topic = newTopic('split');
      await bus.ensureTopics([topic], 4);
      const group = newGroup('split');
      const a = new Collector();
      const b = new Collector();
      await subscribe(topic, group, a);
      await subscribe(topic, group, b);

      const sent: BusMessage[] = Array.from({ length: 200 }, (_, i) => ({ key: `key-${i}`, value: value('s', i) }));
      for (let i = 0; i < sent.length; i += 20) await bus.publish(topic, sent.slice(i, i + 20));
      const received = () => [...a.values, ...b.values];
      await waitFor(
        () => new Set(received()).size >= 200,
        () => `200 distinct messages, got ${new Set(received()).size}`,
      );
      // Late duplicates would show up before these, partition by partition.
      const sentinels: BusMessage[] = Array.from({ length: 16 }, (_, i) => ({ key: `sentinel-${i}`, value: value('sentinel', i) }));
      await bus.publish(topic, sentinels);
      await waitFor(
        () => received().filter((v) => v.includes('sentinel')).length >= 16,
        () => 'the sentinels',
      );

      expect(duplicates(received())).toEqual([]);
      expect(new Set(received())).toEqual(new Set([...sent, ...sentinels].map((m) => m.value)));
      expect(a.messages.length).toBeGreaterThan(0);
      expect(b.messages.length).toBeGreaterThan(0);
    });

    it('delivers the same messages again after a handler throws, skipping none', async () => {
      const topic = newTopic('retry');
      await bus.ensureTopics([topic]);
      const c = new Collector();
      c.failNext = 1;
      await subscribe(topic, newGroup('retry'), c);

      const sent = values('r', 5);
      await bus.publish(topic, sent);
      await c.waitForCount(5);
      await bus.publish(topic, values('r', 1, 5));
      await c.waitForValue(value('r', 5));

      expect(c.failed).toHaveLength(1);
      expect(c.values).toEqual([...sent.map((m) => m.value), value('r', 5)]);
      // The failed batch comes again from its first message on.
      const failedOffsets = c.failed[0].map((m) => m.offset);
      expect(c.messages.map((m) => m.offset).slice(0, failedOffsets.length)).toEqual(failedOffsets);
      expect(c.failed[0].map((m) => m.value)).toEqual(sent.slice(0, failedOffsets.length).map((m) => m.value));
    });

    it('keeps redelivering while the handler keeps throwing, then moves on', async () => {
      const topic = newTopic('retry3');
      await bus.ensureTopics([topic]);
      const c = new Collector();
      c.failNext = 3;
      await subscribe(topic, newGroup('retry3'), c);

      await bus.publish(topic, values('t', 2));
      await c.waitForCount(2);
      expect(c.failed).toHaveLength(3);
      for (const batch of c.failed) expect(batch[0].value).toBe(value('t', 0));
      expect(c.values).toEqual([value('t', 0), value('t', 1)]);
    });

    it('resumes a group after stop() just past what it consumed', async () => {
      const topic = newTopic('resume');
      await bus.ensureTopics([topic]);
      const group = newGroup('resume');
      const first = new Collector();
      const s1 = await subscribe(topic, group, first);
      await bus.publish(topic, values('x', 5));
      await first.waitForCount(5);
      await s1.stop();

      await bus.publish(topic, values('x', 5, 5));
      const second = new Collector();
      // fromBeginning only applies to a new group; this one has a position.
      await subscribe(topic, group, second, true);
      await second.waitForCount(5);
      await bus.publish(topic, values('x', 1, 10));
      await second.waitForValue(value('x', 10));

      expect(first.values).toEqual(values('x', 5).map((m) => m.value));
      expect(second.values).toEqual(values('x', 6, 5).map((m) => m.value));
    });

    it('with commitIntervalMs, delivers everything in order, and a group resumed after stop() skips nothing', async () => {
      const topic = newTopic('interval');
      await bus.ensureTopics([topic]);
      const group = newGroup('interval');
      const first = new Collector();
      const s1 = await bus.subscribe({ topic, group, commitIntervalMs: 500, handler: first.handler });
      subscriptions.push(s1);
      for (let i = 0; i < 4; i++) await bus.publish(topic, values('i', 5, i * 5));
      await first.waitForCount(20);
      expect(first.values).toEqual(values('i', 20).map((m) => m.value));
      await s1.stop();

      await bus.publish(topic, values('i', 5, 20));
      const second = new Collector();
      subscriptions.push(await bus.subscribe({ topic, group, commitIntervalMs: 500, handler: second.handler }));
      await second.waitForValue(value('i', 24));
      // At least once: what comes again is a tail of what came before, then the new ones; no gap.
      const from = JSON.parse(second.values[0]).n as number;
      expect(from).toBeLessThanOrEqual(20);
      expect(second.values).toEqual(values('i', 25 - from, from).map((m) => m.value));
    });

    it('stop() lets the batch in hand finish and commits it', async () => {
      const topic = newTopic('stop');
      await bus.ensureTopics([topic]);
      const group = newGroup('stop');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = false;
      let finished = false;
      const s1 = await bus.subscribe({
        topic,
        group,
        handler: async () => {
          started = true;
          await gate;
          finished = true;
        },
      });
      await bus.publish(topic, values('h', 1));
      await waitFor(() => started, () => 'the handler to start');
      const stopped = s1.stop();
      setTimeout(release, 50);
      await stopped;
      expect(finished).toBe(true);

      const c = new Collector();
      await subscribe(topic, group, c);
      await bus.publish(topic, values('h', 1, 1));
      await c.waitForValue(value('h', 1));
      expect(c.values).toEqual([value('h', 1)]);
    });

    it('starts a new group at the oldest message with fromBeginning, else at the newest', async () => {
      const topic = newTopic('begin');
      await bus.ensureTopics([topic]);
      await bus.publish(topic, values('b', 3));

      const early = new Collector();
      const late = new Collector();
      await subscribe(topic, newGroup('early'), early, true);
      await subscribe(topic, newGroup('late'), late, false);
      await early.waitForCount(3);
      await bus.publish(topic, values('b', 1, 3));
      await early.waitForCount(4);
      await late.waitForValue(value('b', 3));

      expect(early.values).toEqual(values('b', 4).map((m) => m.value));
      expect(late.values).toEqual([value('b', 3)]);
    });

    it('ensureTopics is idempotent, also for topics that partly exist', async () => {
      const [t1, t2, t3] = [newTopic('ens1'), newTopic('ens2'), newTopic('ens3')];
      await bus.ensureTopics([t1, t2], 2);
      await bus.ensureTopics([t1, t2], 2);
      await Promise.all([bus.ensureTopics([t1, t3], 2), bus.ensureTopics([t3], 2)]);
      const other = await harness.open();
      try {
        await other.ensureTopics([t1, t2, t3], 2);
      } finally {
        await other.close();
      }

      const c = new Collector();
      await subscribe(t3, newGroup('ens'), c);
      await bus.publish(t3, [{ key: 'k', value: value('e', 0) }]);
      await c.waitForCount(1);
      expect(c.values).toEqual([value('e', 0)]);
    });

    it('keeps the order of messages with the same key', async () => {
      const topic = newTopic('keys');
      await bus.ensureTopics([topic], 3);
      const c = new Collector();
      await subscribe(topic, newGroup('keys'), c);

      const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
      const next = new Map(keys.map((k) => [k, 0]));
      for (let round = 0; round < 3; round++) {
        const batch: BusMessage[] = [];
        for (let i = 0; i < 30; i++) {
          const key = keys[(i * 7 + round) % keys.length];
          const n = next.get(key)!;
          next.set(key, n + 1);
          batch.push({ key, value: JSON.stringify({ key, n }) });
        }
        await bus.publish(topic, batch);
      }
      await c.waitForCount(90);

      const seen = new Map<string, number[]>();
      const lastOffset = new Map<number, bigint>();
      for (const m of c.messages) {
        const { key, n } = JSON.parse(m.value) as { key: string; n: number };
        expect(m.key).toBe(key);
        seen.set(key, [...(seen.get(key) ?? []), n]);
        const previous = lastOffset.get(m.partition);
        if (previous !== undefined) expect(BigInt(m.offset)).toBeGreaterThan(previous);
        lastOffset.set(m.partition, BigInt(m.offset));
      }
      for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: next.get(key)! }, (_, i) => i));
    });

    it('close() stops its subscriptions and refuses further use', async () => {
      const own = await harness.open();
      const topic = newTopic('close');
      await own.ensureTopics([topic]);
      const c = new Collector();
      await own.subscribe({ topic, group: newGroup('close'), handler: c.handler });
      await own.publish(topic, values('c', 1));
      await c.waitForCount(1);
      await own.close();
      await own.close();

      await expect(own.publish(topic, values('c', 1, 1))).rejects.toThrow(/closed/);
      await expect(own.subscribe({ topic, group: newGroup('close2'), handler: c.handler })).rejects.toThrow(/closed/);
      await expect(own.ensureTopics([topic])).rejects.toThrow(/closed/);
      expect(c.values).toEqual([value('c', 0)]);
    });
  });
}
