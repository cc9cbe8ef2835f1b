import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';

/**
 * The real Kafka that deploy/dev/services-up.sh starts (WHISKHUB_KAFKA_BROKERS), for the Kafka
 * feed's tests: topics of their own per run, a producer, and the offsets found in trigger records.
 */
export function kafkaBrokers(): string[] {
  const b = process.env.WHISKHUB_KAFKA_BROKERS;
  if (!b) throw new Error('WHISKHUB_KAFKA_BROKERS is not set: start the services with deploy/dev/services-up.sh and `. .data/services/env`');
  return b.split(',');
}

export interface TestKafka {
  admin: Admin;
  producer: Producer;
  /** Creates a topic named `<prefix>-<run>` and returns its name. */
  topic(prefix: string, partitions?: number): Promise<string>;
  /** Produces `count` JSON messages `{i}` (i from `from`), spread over the partitions by key, in batches. */
  produce(topic: string, count: number, from?: number): Promise<void>;
  close(): Promise<void>;
}

export async function connectKafka(): Promise<TestKafka> {
  const kafka = new Kafka({ clientId: 'whiskhub-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const made: string[] = [];
  return {
    admin,
    producer,
    topic: async (prefix, partitions = 1) => {
      const name = `${prefix}-${run}`;
      await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
      made.push(name);
      return name;
    },
    produce: async (topic, count, from = 0) => {
      for (let start = from; start < from + count; start += 5000) {
        const n = Math.min(5000, from + count - start);
        await producer.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, j) => ({ key: `k${start + j}`, value: JSON.stringify({ i: start + j }) })) });
      }
    },
    close: async () => {
      await producer.disconnect().catch(() => undefined);
      if (made.length) await admin.deleteTopics({ topics: made }).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}

export interface FiredMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: unknown;
}

/**
 * How often each offset appears across fires: `counts` per partition (offset → times), and the
 * offsets missing below each partition's end.
 */
export function tallyOffsets(messages: FiredMessage[], ends: Map<number, number>) {
  const counts = new Map<number, Map<number, number>>();
  for (const m of messages) {
    const p = counts.get(m.partition) ?? new Map<number, number>();
    p.set(m.offset, (p.get(m.offset) ?? 0) + 1);
    counts.set(m.partition, p);
  }
  const missing: string[] = [];
  const duplicated: { partition: number; offset: number; times: number }[] = [];
  for (const [partition, end] of ends) {
    const p = counts.get(partition) ?? new Map<number, number>();
    for (let o = 0; o < end; o++) {
      const times = p.get(o) ?? 0;
      if (times === 0) missing.push(`${partition}:${o}`);
      if (times > 1) duplicated.push({ partition, offset: o, times });
    }
  }
  return { counts, missing, duplicated, total: messages.length };
}

/** Each partition's end (high watermark) now. */
export async function partitionEnds(admin: Admin, topic: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((w) => [w.partition, Number(w.high)] as const).sort((a, b) => a[0] - b[0]));
}
