import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type HttpResult } from '../support/controller-harness.js';
import { buildRuntimeImage, startCluster, type Cluster } from '../support/cluster-processes.js';

/**
 * Issue 4's crash case in cluster mode: the controller is SIGKILLed right after answering 202 to
 * a batch of fires. Accepted fires wait in BullMQ on Redis; after a restart every one of them has
 * fanned out exactly once per matching rule (one trigger record, one action activation each).
 */
let c: Cluster;
const api = (method: string, path: string, body?: unknown): Promise<HttpResult> =>
  http(c.apiHost, method, `/api/v1/namespaces/_${path}`, { auth: c.auth, body });
const count = async (name: string) => (await api('GET', `/activations?count=true&name=${name}`)).body?.activations as number;

beforeAll(async () => {
  await buildRuntimeImage();
  c = await startCluster({
    invokers: 1,
    env: {
      WHISKHUB_LIMIT_FIRES_PER_MINUTE: '100000',
      WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE: '100000',
      WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS: '1000',
      WHISKHUB_INVOKER_MEMORY_MB: '1024',
    },
  });
  expect((await api('PUT', '/actions/tick', { exec: { kind: 'nodejs:20', code: 'function main(p) { return { i: p.i }; }' } })).status).toBe(200);
  expect((await api('PUT', '/triggers/ticks')).status).toBe(200);
  expect((await api('PUT', '/rules/ticks-rule', { trigger: '/_/ticks', action: '/_/tick' })).status).toBe(200);
}, 240_000);

afterAll(async () => {
  await c?.stop();
}, 120_000);

describe('fires across a controller crash (cluster)', () => {
  it('fans out every accepted fire exactly once after kill -9 and a restart', async () => {
    const fires = await Promise.all(Array.from({ length: 100 }, (_, i) => api('POST', '/triggers/ticks', { i })));
    expect(fires.every((f) => f.status === 202)).toBe(true);
    await c.killController();
    await c.restartController();
    await c.waitForInvokers([0]);

    const deadline = Date.now() + 120_000;
    while ((await count('ticks')) < 100 || (await count('tick')) < 100) {
      if (Date.now() > deadline) throw new Error(`after the restart: ${await count('ticks')} trigger records, ${await count('tick')} action records`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 3000)); // anything doubled would show up by now
    expect(await count('ticks')).toBe(100);
    expect(await count('tick')).toBe(100);
    for (const f of fires.slice(0, 20)) {
      const record = await api('GET', `/activations/${f.body.activationId}`);
      expect(record.status).toBe(200);
      expect(JSON.parse(record.body.logs[0])).toMatchObject({ statusCode: 0, success: true, rule: `${c.namespace}/ticks-rule` });
    }
  }, 300_000);
});
