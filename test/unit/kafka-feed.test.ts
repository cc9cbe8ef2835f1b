import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { groupIdOf } from '../../feeds/kafka/kafka-config.js';
import { ChunkCutter, decodeMessage, LazyChunks, EMPTY_BODY_BYTES, fireBody, fireBodyJson, type Chunk, type ChunkLimits, type SizedMessage } from '../../feeds/kafka/messages.js';
import { parseBrokers, validateKafkaCreate, validateKafkaUpdate } from '../../feeds/kafka/validate.js';
import { HubError } from '../../src/entities/errors.js';

const rules = { maxBatchBytes: 900_000, defaultBatchMessages: 10_000 };
const base = { brokers: '127.0.0.1:9092', topic: 'orders' };

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(400);
    return (err as Error).message;
  }
  throw new Error('no refusal');
};


/** All of a partition's messages cut into fires at once, as a ChunkCutter cuts them one by one. */
function cutChunks(messages: SizedMessage[], limits: ChunkLimits, endsAt: readonly string[] = []): Chunk[] {
  const cutter = new ChunkCutter(limits, endsAt);
  return [...messages.flatMap((m) => cutter.add(m)), ...cutter.finish()];
}

describe('kafka feed parameters', () => {
  it('takes brokers as a JSON array, a string holding one, or a comma-separated string', () => {
    expect(parseBrokers(['a:1', 'b:2'])).toEqual(['a:1', 'b:2']);
    expect(parseBrokers('["a:1","b:2"]')).toEqual(['a:1', 'b:2']);
    expect(parseBrokers('a:1, b:2,')).toEqual(['a:1', 'b:2']);
    expect(parseBrokers('[::1]:9092')).toEqual(['[::1]:9092']);
  });

  it('gives the reference defaults, and ours', () => {
    expect(validateKafkaCreate('kafkaFeed', base, rules)).toEqual({
      brokers: ['127.0.0.1:9092'],
      topic: 'orders',
      isJSONData: false,
      isBinaryKey: false,
      isBinaryValue: false,
      fromBeginning: false,
      maxBatchBytes: 900_000,
      maxBatchMessages: 10_000,
    });
    const c = validateKafkaCreate('kafkaFeed', { ...base, isJSONData: 'true', isBinaryKey: true, groupId: 'mine', fromBeginning: true, maxBatchMessages: '50', username: 'u', password: 'p', saslMechanism: 'SCRAM-SHA-512', tls: true }, rules);
    expect(c).toMatchObject({ isJSONData: true, isBinaryKey: true, groupId: 'mine', fromBeginning: true, maxBatchMessages: 50, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' }, tls: { rejectUnauthorized: true } });
  });

  it('accepts messageHubFeed parameters: kafka_brokers_sasl, user and password, over TLS', () => {
    const c = validateKafkaCreate('messageHubFeed', { kafka_brokers_sasl: ['h:9093'], user: 'token', password: 's3cret', topic: 't' }, rules);
    expect(c).toMatchObject({ brokers: ['h:9093'], sasl: { mechanism: 'plain', username: 'token', password: 's3cret' }, tls: { rejectUnauthorized: true } });
    expect(refusal(() => validateKafkaCreate('messageHubFeed', { kafka_brokers_sasl: ['h:9093'], topic: 't' }, rules))).toMatch(/user/);
  });

  it('refuses what cannot work with a 400 that says why (checklist 45, 46)', () => {
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { topic: 't' }, rules))).toMatch(/'brokers'/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { brokers: '[]', topic: 't' }, rules))).toMatch(/brokers/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { brokers: 'nohost', topic: 't' }, rules))).toMatch(/host:port/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { brokers: '["a:1",', topic: 't' }, rules))).toMatch(/JSON/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { brokers: 'a:1' }, rules))).toMatch(/'topic'/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { ...base, topic: 'a b' }, rules))).toMatch(/topic name/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { ...base, isJSONData: true, isBinaryValue: 'true' }, rules))).toMatch(/cannot both be enabled/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { ...base, isJSONData: 'yes' }, rules))).toMatch(/isJSONData must be true or false/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { ...base, maxBatchBytes: 2_000_000 }, rules))).toMatch(/maxBatchBytes must be a whole number from 1024 to 900000/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { ...base, password: 'p' }, rules))).toMatch(/username/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { ...base, username: 'u', password: 'p', saslMechanism: 'gssapi' }, rules))).toMatch(/saslMechanism/);
    expect(refusal(() => validateKafkaCreate('kafkaFeed', { ...base, groupId: 'no spaces' }, rules))).toMatch(/groupId/);
  });

  it('UPDATE changes what keeps the position, refuses the rest, and needs something to change', () => {
    const cur = validateKafkaCreate('kafkaFeed', { ...base, username: 'u', password: 'old' }, rules);
    const next = validateKafkaUpdate(cur, { isJSONData: true, password: 'new', maxBatchMessages: 10 }, rules);
    expect(next).toMatchObject({ topic: 'orders', isJSONData: true, maxBatchMessages: 10, sasl: { username: 'u', password: 'new' } });
    expect(validateKafkaUpdate(cur, { topic: 'orders', isBinaryKey: true }, rules).isBinaryKey).toBe(true); // same topic is not a change
    expect(refusal(() => validateKafkaUpdate(cur, { topic: 'other' }, rules))).toMatch(/topic cannot be updated/);
    expect(refusal(() => validateKafkaUpdate(cur, { groupId: 'g' }, rules))).toMatch(/groupId cannot be updated/);
    expect(refusal(() => validateKafkaUpdate(cur, {}, rules))).toMatch(/UPDATE needs at least one of/);
    expect(refusal(() => validateKafkaUpdate({ ...cur, isJSONData: true }, { isBinaryValue: true }, rules))).toMatch(/cannot both/);
  });

  it('names a group of the registration\'s own per CREATE, or uses the user\'s', () => {
    const reg = { namespace: 'guest', trigger: 'my/t', created: 1_700_000_000_000, config: {} };
    expect(groupIdOf(reg)).toBe(`whiskhub-guest-my_t-${(1_700_000_000_000).toString(36)}`);
    expect(groupIdOf({ ...reg, created: reg.created + 1 })).not.toBe(groupIdOf(reg));
    expect(groupIdOf({ ...reg, config: { groupId: 'mine' } })).toBe('mine');
  });
});

const msg = (offset: number, value: string | Buffer | null, key: string | Buffer | null = null): KafkaMessage =>
  ({ offset: String(offset), value: typeof value === 'string' ? Buffer.from(value) : value, key: typeof key === 'string' ? Buffer.from(key) : key, timestamp: '1700000000000', attributes: 0, headers: {} }) as KafkaMessage;

const flags = { isJSONData: false, isBinaryKey: false, isBinaryValue: false };

describe('kafka messages in fires', () => {
  it('decodes values and keys as the parameters say (checklist 48-50)', () => {
    expect(decodeMessage('t', 2, msg(7, '{"a":1}', 'k'), flags).message).toEqual({ topic: 't', partition: 2, offset: 7, key: 'k', value: '{"a":1}' });
    expect(decodeMessage('t', 0, msg(1, '{"a":1}'), { ...flags, isJSONData: true }).message.value).toEqual({ a: 1 });
    expect(decodeMessage('t', 0, msg(1, 'not json'), { ...flags, isJSONData: true }).message.value).toBe('not json');
    expect(decodeMessage('t', 0, msg(1, 'NaN'), { ...flags, isJSONData: true }).message.value).toBe('NaN');
    const bin = Buffer.from([0, 255, 1, 254]);
    const b = decodeMessage('t', 0, msg(1, bin, bin), { ...flags, isBinaryKey: true, isBinaryValue: true }).message;
    expect(b.key).toBe(bin.toString('base64'));
    expect(b.value).toBe(bin.toString('base64'));
    expect(decodeMessage('t', 0, msg(1, Buffer.from([0xc3, 0x28])), flags).message.value).toBe('\ufffd(');
    expect(decodeMessage('t', 0, msg(1, null, null), flags).message).toMatchObject({ key: null, value: null });
  });

  it('sends a fire body that is the JSON of its messages, JSON values spliced in as they came', () => {
    const decoded = [
      decodeMessage('tø"pic', 1, msg(1, ' {"a": [1, 2],\n "ü": "\\u00e9"} ', 'kéy"\n'), { ...flags, isJSONData: true }),
      decodeMessage('tø"pic', 1, msg(2, 'not json "quoted"', null), { ...flags, isJSONData: true }),
      decodeMessage('tø"pic', 1, msg(3, '12345678901234567890'), { ...flags, isJSONData: true }),
      decodeMessage('tø"pic', 1, msg(4, null, 'k'), { ...flags, isJSONData: true }),
      decodeMessage('tø"pic', 1, msg(5, Buffer.from([0, 255]), Buffer.from([1])), { ...flags, isBinaryKey: true, isBinaryValue: true }),
      decodeMessage('tø"pic', 1, msg(6, 'line\u2028 and "text"'), flags),
    ];
    const text = fireBodyJson({ messages: decoded });
    expect(JSON.parse(text)).toEqual(fireBody({ messages: decoded }));
    // The JSON value as produced, spaces and escapes and all (no parse and stringify round).
    expect(text).toContain('"value": {"a": [1, 2],\n "ü": "\\u00e9"} }');
    for (const d of decoded) expect(d.bytes).toBe(Buffer.byteLength(d.json));
    const [chunk] = cutChunks(decoded, { maxBatchBytes: 100_000, maxBatchMessages: 100 });
    expect(chunk.bytes).toBe(Buffer.byteLength(text));
  });

  const sized = (n: number, valueBytes: number, from = 0): SizedMessage[] => Array.from({ length: n }, (_, i) => decodeMessage('t', 0, msg(from + i, 'x'.repeat(valueBytes)), flags));

  it('cuts fires under the byte limit, measured as the JSON body (checklist 51)', () => {
    const messages = sized(100, 1000);
    const limits = { maxBatchBytes: 10_000, maxBatchMessages: 1000 };
    const chunks = cutChunks(messages, limits);
    expect(chunks.every((c) => c.kind === 'fire')).toBe(true);
    expect(chunks.flatMap((c) => (c.kind === 'fire' ? c.messages.map((m) => m.offset) : []))).toEqual(messages.map((m) => m.offset));
    for (const c of chunks) {
      if (c.kind !== 'fire') continue;
      const body = Buffer.byteLength(fireBodyJson(c));
      expect(body).toBe(c.bytes);
      expect(JSON.parse(fireBodyJson(c))).toEqual(fireBody(c));
      expect(body).toBeLessThanOrEqual(10_000);
    }
    // As full as they can be: adding the next message would go over.
    const first = chunks[0] as Extract<(typeof chunks)[0], { kind: 'fire' }>;
    expect(first.bytes + 1 + messages[first.messages.length].bytes).toBeGreaterThan(10_000);
  });

  it('cuts at the message count, and keeps retried fires\' extents when more has arrived', () => {
    const messages = sized(25, 10);
    expect(cutChunks(messages, { maxBatchBytes: 900_000, maxBatchMessages: 10 }).map((c) => (c.kind === 'fire' ? c.messages.length : 0))).toEqual([10, 10, 5]);
    const capped = cutChunks(messages, { maxBatchBytes: 900_000, maxBatchMessages: 10 }, ['3', '8']);
    expect(capped.map((c) => (c.kind === 'fire' ? [c.messages[0].offset, c.messages.at(-1)!.offset] : []))).toEqual([['0', '3'], ['4', '8'], ['9', '18'], ['19', '24']]);
  });

  it('cuts a batch lazily: a chunk is decoded only when asked for, and the chunks are those cutChunks makes', () => {
    const raw = Array.from({ length: 25 }, (_, i) => msg(i, 'x'.repeat(10)));
    const limits = { maxBatchBytes: 900_000, maxBatchMessages: 10 };
    let decoded = 0;
    const lazy = new LazyChunks(raw, (m) => (decoded++, decodeMessage('t', 0, m, flags)), new ChunkCutter(limits));
    expect(lazy.has(0)).toBe(true);
    // The first chunk closes when the 11th message arrives: nothing further is decoded.
    expect(decoded).toBe(11);
    expect(lazy.has(2)).toBe(true);
    expect(lazy.has(3)).toBe(false);
    expect(decoded).toBe(25);
    const whole = cutChunks(raw.map((m) => decodeMessage('t', 0, m, flags)), limits);
    expect(lazy.cut.map((c) => (c.kind === 'fire' ? c.messages.map((m) => m.offset) : []))).toEqual(whole.map((c) => (c.kind === 'fire' ? c.messages.map((m) => m.offset) : [])));
  });

  it('sets a message over the limit apart, between the fires before and after it (checklist 54)', () => {
    const messages = [...sized(3, 10), ...sized(1, 5000, 3), ...sized(2, 10, 4)];
    const chunks = cutChunks(messages, { maxBatchBytes: 2000, maxBatchMessages: 100 });
    expect(chunks.map((c) => c.kind)).toEqual(['fire', 'oversize', 'fire']);
    expect(chunks[1]).toMatchObject({ kind: 'oversize', message: { offset: '3' } });
    expect(chunks[1].bytes).toBe(EMPTY_BODY_BYTES + messages[3].bytes);
  });
});
