import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../support/controller-harness.js';
import { runCli, startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';

/**
 * The trigger engine beyond OpenWhisk, through `whiskhub standalone`: durable fan-out, caller
 * idempotency keys, dead letters (list, show, replay, delete), rule filters and the trace API.
 */
let wh: StandaloneProcess;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>, auth?: string) =>
  http(wh.apiHost, method, `/api/v1/namespaces/_${path}`, { auth: auth ?? wh.guestAuth, body, headers });

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const count = async (name: string, auth?: string) => (await api('GET', `/activations?count=true&name=${name}`, undefined, undefined, auth)).body.activations as number;

beforeAll(async () => {
  wh = await startStandaloneProcess({
    env: {
      WHISKHUB_CONTAINER_FACTORY: 'process',
      WHISKHUB_AUTH_CACHE_MS: '0',
      WHISKHUB_LIMIT_FIRES_PER_MINUTE: '100000',
      WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE: '100000',
      WHISKHUB_FIRE_RETRY_BASE_MS: '50',
      WHISKHUB_FIRE_MAX_ATTEMPTS: '3',
    },
  });
  await api('PUT', '/actions/count', { exec: { kind: 'nodejs:default', code: 'function main(p) { return { n: p.n, kind: p.kind }; }' } });
});

afterAll(async () => {
  expect(await wh?.stop()).toBe(0);
});

describe('fan-out', () => {
  it('fires a trigger with three rules (one disabled, one filtered out) 1,000 times: exact records, each traceable', async () => {
    await api('PUT', '/triggers/orders');
    await api('PUT', '/rules/orders-all', { trigger: '/_/orders', action: '/_/count' });
    await api('PUT', '/rules/orders-off', { trigger: '/_/orders', action: '/_/count' });
    await api('POST', '/rules/orders-off', { status: 'inactive' });
    const filtered = await api('PUT', '/rules/orders-big', {
      trigger: '/_/orders',
      action: '/_/count',
      annotations: [{ key: 'filter', value: { kind: ['big'], n: [{ numeric: ['>=', 1000] }] } }],
    });
    expect(filtered.status).toBe(200);

    const fires = 1000;
    const ids: string[] = [];
    for (let batch = 0; batch < fires; batch += 50) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => api('POST', '/triggers/orders', { n: batch + i, kind: 'small' })),
      );
      for (const a of answers) {
        expect(a.status).toBe(202);
        ids.push(a.body.activationId);
      }
    }
    expect(new Set(ids).size).toBe(fires);
    await until('1000 trigger records', async () => ((await count('orders')) === fires ? true : undefined), 120_000);
    await until('1000 action records', async () => ((await count('count')) === fires ? true : undefined), 120_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await count('orders')).toBe(fires);
    expect(await count('count')).toBe(fires);

    const traces = await Promise.all(ids.slice(0, 100).map((id) => api('GET', `/activations/${id}/trace`)));
    for (const t of traces) {
      expect(t.status).toBe(200);
      expect(t.body.state).toBe('done');
      const by = Object.fromEntries(t.body.rules.map((r: { rule: string }) => [r.rule, r]));
      expect(by['guest/orders-all']).toMatchObject({ decision: 'invoked', activation: { status: 'success', success: true } });
      expect(by['guest/orders-off'].decision).toBe('not invoked');
      expect(by['guest/orders-big'].decision).toBe('filtered out');
    }
  }, 240_000);

  it('runs a filtered rule when the payload matches, and refuses a malformed filter', async () => {
    const r = await api('POST', '/triggers/orders', { n: 5000, kind: 'big' });
    const trace = await until('trace', async () => {
      const t = await api('GET', `/activations/${r.body.activationId}/trace`);
      return t.status === 200 && t.body.state === 'done' ? t.body : undefined;
    });
    const by = Object.fromEntries(trace.rules.map((x: { rule: string }) => [x.rule, x]));
    expect(by['guest/orders-big'].decision).toBe('invoked');
    const bad = await api('PUT', '/rules/bad-filter', {
      trigger: '/_/orders',
      action: '/_/count',
      annotations: [{ key: 'filter', value: { n: [{ between: [1, 2] }] } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/Invalid rule filter: .*unknown operator 'between'/);
  });
});

describe('rule arguments', () => {
  it('gives the action the trigger parameters, then __ow_headers, then the payload on top', async () => {
    await api('PUT', '/actions/args-echo', { exec: { kind: 'nodejs:default', code: 'function main(p) { return { args: p }; }' } });
    expect((await api('PUT', '/triggers/args-t', { parameters: [{ key: 'a', value: 1 }, { key: 'b', value: 'from the trigger' }] })).status).toBe(200);
    expect((await api('PUT', '/rules/args-r', { trigger: '/_/args-t', action: '/_/args-echo' })).status).toBe(200);
    const fired = await api('POST', '/triggers/args-t', { b: 'from the payload', c: [3] }, { 'x-custom': 'yes' });
    expect(fired.status).toBe(202);
    const trace = await until('the fan-out', async () => {
      const t = await api('GET', `/activations/${fired.body.activationId}/trace`);
      return t.status === 200 && t.body.state === 'done' ? t.body : undefined;
    });
    const activationId = trace.rules[0].activation.activationId as string;
    const run = await until('the action record', async () => {
      const got = await api('GET', `/activations/${activationId}`);
      return got.status === 200 ? got.body : undefined;
    });
    const args = run.response.result.args;
    expect(args).toMatchObject({ a: 1, b: 'from the payload', c: [3] });
    expect(args.__ow_headers['x-custom']).toBe('yes');
    // The trigger record holds the payload alone.
    const record = await api('GET', `/activations/${fired.body.activationId}`);
    expect(record.body.response.result).toEqual({ b: 'from the payload', c: [3] });
  });
});

describe('the payload as sent', () => {
  it('is the trigger record\'s result and the action\'s arguments, whatever its spacing and escapes', async () => {
    await api('PUT', '/actions/payload-echo', { exec: { kind: 'nodejs:default', code: 'function main(p) { return { got: p.nested, x: p.x, n: p.n }; }' } });
    expect((await api('PUT', '/triggers/payload-t')).status).toBe(200);
    expect((await api('PUT', '/rules/payload-r', { trigger: '/_/payload-t', action: '/_/payload-echo' })).status).toBe(200);
    // The store writes a payload as the text it came in (not stringified again): it must read back the same.
    // Over a kilobyte: smaller bodies are stringified again, which is cheaper than keeping their text.
    const pad = 'p'.repeat(1500);
    const rawBody = ` {"x": "\\u00e9\\"q\\"", "n": 1.50,\n "nested": {"a": [1, 2], "s": "\u2028"}, "x2": null, "pad": "${pad}"} \n`;
    const fired = await http(wh.apiHost, 'POST', '/api/v1/namespaces/_/triggers/payload-t', { auth: wh.guestAuth, rawBody });
    expect(fired.status).toBe(202);
    const trace = await until('the fan-out', async () => {
      const t = await api('GET', `/activations/${fired.body.activationId}/trace`);
      return t.status === 200 && t.body.state === 'done' ? t.body : undefined;
    });
    const expected = { x: 'é"q"', n: 1.5, nested: { a: [1, 2], s: '\u2028' }, x2: null, pad };
    expect(JSON.parse(rawBody)).toEqual(expected);
    const record = await api('GET', `/activations/${fired.body.activationId}`);
    expect(record.body.response).toMatchObject({ status: 'success', success: true });
    expect(record.body.response.result).toEqual(expected);
    const run = await until('the action record', async () => {
      const got = await api('GET', `/activations/${trace.rules[0].activation.activationId}`);
      return got.status === 200 ? got.body : undefined;
    });
    expect(run.response.result).toEqual({ got: expected.nested, x: expected.x, n: 1.5 });
  });
});

describe('idempotency keys', () => {
  it('returns the first fire for a repeated X-Idempotency-Key and fires nothing', async () => {
    await api('PUT', '/triggers/once');
    await api('PUT', '/rules/once-rule', { trigger: '/_/once', action: '/_/count' });
    const first = await api('POST', '/triggers/once', { n: 1 }, { 'x-idempotency-key': 'delivery-42' });
    const again = await api('POST', '/triggers/once', { n: 1 }, { 'x-idempotency-key': 'delivery-42' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.activationId).toBe(first.body.activationId);
    const other = await api('POST', '/triggers/once', { n: 2 }, { 'x-idempotency-key': 'delivery-43' });
    expect(other.body.activationId).not.toBe(first.body.activationId);
    await until('two trigger records', async () => ((await count('once')) === 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(await count('once')).toBe(2);
    expect((await api('POST', '/triggers/once', {}, { 'x-idempotency-key': '' })).status).toBe(400);
  });
});

describe('dead letters', () => {
  it('dead-letters a rule whose action is gone, then lists, shows, replays and deletes it', async () => {
    await api('PUT', '/actions/fragile', { exec: { kind: 'nodejs:default', code: 'function main(p) { return { replayed: p.v }; }' } });
    await api('PUT', '/triggers/dl');
    await api('PUT', '/rules/dl-rule', { trigger: '/_/dl', action: '/_/fragile' });
    await api('DELETE', '/actions/fragile');
    const fired = await api('POST', '/triggers/dl', { v: 7 });
    expect(fired.status).toBe(202);
    const letters = await until('a dead letter', async () => {
      const l = await api('GET', '/deadletters');
      return l.body.length ? l.body : undefined;
    });
    expect(letters[0]).toMatchObject({ rule: 'guest/dl-rule', trigger: 'dl', fireId: fired.body.activationId, status: 404, attempts: 3 });
    const trigger = await until('the trigger record', async () => {
      const t = await api('GET', `/activations/${fired.body.activationId}`);
      return t.status === 200 ? t.body : undefined;
    });
    expect(JSON.parse(trigger.logs[0])).toMatchObject({ statusCode: 1, success: false, deadLetter: letters[0].id });

    const shown = await api('GET', `/deadletters/${letters[0].id}`);
    expect(shown.body.args).toMatchObject({ v: 7 });
    expect((await api('GET', '/deadletters?count=true')).body).toEqual({ deadletters: 1 });

    await api('PUT', '/actions/fragile', { exec: { kind: 'nodejs:default', code: 'function main(p) { return { replayed: p.v }; }' } });
    const replay = await api('POST', `/deadletters/${letters[0].id}/replay`);
    expect(replay.status).toBe(202);
    const rec = await until('the replayed activation', async () => {
      const a = await api('GET', `/activations/${replay.body.activationId}`);
      return a.status === 200 ? a.body : undefined;
    });
    expect(rec.response.result).toEqual({ replayed: 7 });
    expect((await api('GET', `/deadletters/${letters[0].id}`)).status).toBe(404);

    await api('DELETE', '/actions/fragile');
    const second = await api('POST', '/triggers/dl', { v: 8 });
    const [letter] = await until('another dead letter', async () => {
      const l = await api('GET', '/deadletters');
      return l.body.length ? l.body : undefined;
    });
    expect(letter.fireId).toBe(second.body.activationId);
    expect((await api('DELETE', `/deadletters/${letter.id}`)).status).toBe(200);
    expect((await api('GET', '/deadletters')).body).toEqual([]);
    expect((await api('GET', '/deadletters/not-an-id')).status).toBe(400);
  });

  it('retries throttled rule invocations, then dead-letters them with the 429', async () => {
    const env = { WHISKHUB_DATA_DIR: wh.dataDir };
    const key = (await runCli(['admin', 'user', 'create', 'busy-subject', '-n', 'busy'], env)).stdout.trim();
    expect((await runCli(['admin', 'limits', 'set', 'busy', '--invocationsPerMinute', '1'], env)).code).toBe(0);
    await api('PUT', '/actions/a', { exec: { kind: 'nodejs:default', code: 'function main() { return {}; }' } }, undefined, key);
    await api('PUT', '/triggers/t', undefined, undefined, key);
    await api('PUT', '/rules/r', { trigger: '/_/t', action: '/_/a' }, undefined, key);
    const fires = await Promise.all([1, 2, 3].map(() => api('POST', '/triggers/t', {}, undefined, key)));
    expect(fires.every((f) => f.status === 202)).toBe(true);
    const letters = await until('two dead letters', async () => {
      const l = await api('GET', '/deadletters', undefined, undefined, key);
      return l.body.length >= 2 ? l.body : undefined;
    });
    expect(letters.every((l: { status: number; error: string }) => l.status === 429 && /Too many requests in the last minute/.test(l.error))).toBe(true);
    await until('three trigger records', async () => ((await count('t', key)) === 3 ? true : undefined));
    expect(await count('a', key)).toBe(1);
  });
});
