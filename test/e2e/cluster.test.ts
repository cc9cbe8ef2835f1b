import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type HttpResult } from '../support/controller-harness.js';
import { buildRuntimeImage, logLines, startCluster, type Cluster } from '../support/cluster-processes.js';
import { REPO, runCommand } from '../support/standalone-process.js';

/**
 * The cluster, end to end, as separate processes: `whiskhub controller` and two
 * `whiskhub invoker`s over the real Kafka, CouchDB (pouchdb-server) and Docker engine
 * (deploy/dev/services-up.sh). Then one invoker is SIGKILLed under load.
 */
const INVOKER_TIMEOUT_MS = 3_000;
const WSK = process.env.WHISKHUB_WSK ?? join(REPO, '.data/tools/bin/wsk');

let c: Cluster;
const api = (method: string, path: string, body?: unknown): Promise<HttpResult> =>
  http(c.apiHost, method, `/api/v1/namespaces/_${path}`, { auth: c.auth, body });
const put = async (name: string, code: string, extra: Record<string, unknown> = {}) => {
  const r = await api('PUT', `/actions/${name}?overwrite=true`, { exec: { kind: 'nodejs:20', code }, ...extra });
  expect(r.status, r.text).toBe(200);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stored record, once the invoker (or the balancer) has written it. */
async function stored(id: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api('GET', `/activations/${id}`);
    if (r.status === 200) return r.body;
    if (Date.now() > deadline) throw new Error(`activation ${id} has no record after ${timeoutMs} ms (last status ${r.status})`);
    await sleep(100);
  }
}

/** `wsk` with a config file of its own (nothing from ~/.wskprops leaks in). */
async function wsk(...args: string[]) {
  const props = join(mkdtempSync(join(tmpdir(), 'whiskhub-wsk-')), 'wskprops');
  writeFileSync(props, '');
  return runCommand(WSK, ['-i', '--apihost', c.apiHost, '--auth', c.auth, ...args], { WSK_CONFIG_FILE: props });
}

beforeAll(async () => {
  await buildRuntimeImage();
  c = await startCluster({
    invokers: 2,
    env: {
      WHISKHUB_INVOKER_TIMEOUT_MS: String(INVOKER_TIMEOUT_MS),
      WHISKHUB_INVOKER_MEMORY_MB: '1024',
      WHISKHUB_INVOKER_PREWARM: '1',
      WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE: '100000',
      WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS: '1000',
      WHISKHUB_LIMIT_ACTION_MAX_CONCURRENCY: '20',
    },
  });
  await put('hello', 'function main(p) { console.log("hello for " + p.name); return { greeting: "Hello, " + p.name + "!" }; }');
}, 180_000);

afterAll(async () => {
  await c?.stop();
}, 60_000);

describe('a cluster of a controller and two invokers over Kafka, CouchDB and Docker', () => {
  it('answers a blocking invoke with its result (wsk action invoke hello -p name x --result)', async () => {
    const r = await api('POST', '/actions/hello?blocking=true&result=true', { name: 'x' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ greeting: 'Hello, x!' });
    if (existsSync(WSK)) {
      const out = await wsk('action', 'invoke', 'hello', '-p', 'name', 'x', '--result');
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual({ greeting: 'Hello, x!' });
    }
  });

  it('shows the record, its logs and its result (activation list / get / logs / result)', async () => {
    const r = await api('POST', '/actions/hello?blocking=true', { name: 'logs' });
    expect(r.status).toBe(200);
    expect(r.body.logs).toEqual([]); // the caller is answered before the logs are stored
    const id = r.body.activationId as string;
    const rec = await stored(id);
    expect(rec).toMatchObject({ namespace: c.namespace, name: 'hello', activationId: id, response: { status: 'success', result: { greeting: 'Hello, logs!' } } });
    expect(rec.logs).toHaveLength(1);
    expect(rec.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z +stdout: hello for logs$/);
    const list = await api('GET', '/activations?name=hello&limit=50');
    expect(list.body.map((a: { activationId: string }) => a.activationId)).toContain(id);
    expect((await api('GET', `/activations/${id}/logs`)).body).toEqual({ logs: rec.logs });
    expect((await api('GET', `/activations/${id}/result`)).body).toMatchObject({ result: { greeting: 'Hello, logs!' }, success: true, status: 'success' });
    if (existsSync(WSK)) {
      const listed = await wsk('activation', 'list', 'hello');
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain(id);
      const got = await wsk('activation', 'get', id);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toContain('"greeting": "Hello, logs!"');
      const logs = await wsk('activation', 'logs', id, '--strip');
      expect(logs.stdout.trim()).toBe('hello for logs');
      const result = await wsk('activation', 'result', id);
      expect(JSON.parse(result.stdout)).toEqual({ greeting: 'Hello, logs!' });
    }
  });

  it('records every one of 50 non-blocking invokes', async () => {
    await put('echo', 'function main(p) { return p; }', { limits: { memory: 128 } });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => api('POST', '/actions/echo', { i })));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    const records = await Promise.all(answers.map((a) => stored(a.body.activationId)));
    const odd = records.filter((r) => typeof r.response.result?.i !== 'number');
    expect(odd.map((r) => ({ activationId: r.activationId, response: r.response, annotations: r.annotations }))).toEqual([]);
    expect(records.map((r) => r.response.result.i).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(records.every((r) => r.response.status === 'success')).toBe(true);
  });

  describe('runtime failures end with the record the spec prescribes, and the invoker goes on serving', () => {
    const FRAGILE = `function main(p) {
      if (p.mode === 'hang') return new Promise(() => {});
      if (p.mode === 'hog') { const keep = []; for (let i = 0; i < 100; i++) keep.push(Buffer.alloc(16 * 1024 * 1024, 1)); return { n: keep.length }; }
      if (p.mode === 'throw') throw new Error('boom');
      if (p.mode === 'scalar') return 42;
      if (p.mode === 'chatty') { const line = 'x'.repeat(1000); for (let i = 0; i < 3000; i++) console.log(line); return { chatty: true }; }
      return { fine: true };
    }`;
    beforeAll(async () => {
      await put('fragile', FRAGILE, { limits: { timeout: 2_000, memory: 128, logs: 1 } });
    });
    const invoke = async (mode: string) => {
      const r = await api('POST', '/actions/fragile?blocking=true', { mode });
      const rec = await stored(r.body.activationId);
      expect(rec.response).toEqual(r.body.response); // the stored record says what the caller heard
      return { r, rec };
    };
    const stillServing = async () => {
      const r = await api('POST', '/actions/fragile?blocking=true&result=true', {});
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ fine: true });
    };

    it('a timeout', async () => {
      const { r } = await invoke('hang');
      expect(r.status).toBe(502);
      expect(r.body.response).toEqual({ status: 'action developer error', success: false, result: { error: 'The action exceeded its time limits of 2000 milliseconds.' } });
      expect(r.body.annotations).toEqual(expect.arrayContaining([{ key: 'timeout', value: true }]));
      await stillServing();
    });

    it('running out of memory (128 MB)', async () => {
      const { r } = await invoke('hog');
      expect(r.status).toBe(502);
      expect(r.body.response).toEqual({ status: 'action developer error', success: false, result: { error: 'The action exhausted its memory and was aborted.' } });
      await stillServing();
    });

    it('a throw', async () => {
      const { r, rec } = await invoke('throw');
      expect(r.status).toBe(502);
      expect(r.body.response).toEqual({ status: 'action developer error', success: false, result: { error: 'boom' } });
      expect(rec.logs.some((l: string) => / stderr: .*boom/.test(l))).toBe(true);
      await stillServing();
    });

    it('a result that is not an object', async () => {
      const { r } = await invoke('scalar');
      expect(r.status).toBe(502);
      expect(r.body.response).toEqual({ status: 'action developer error', success: false, result: { error: 'The action did not return a dictionary or array.' } });
      await stillServing();
    });

    it('megabytes of logs', async () => {
      const { r, rec } = await invoke('chatty');
      expect(r.status).toBe(200);
      expect(r.body.response.result).toEqual({ chatty: true });
      expect(rec.logs.length).toBeGreaterThan(900);
      expect(rec.logs.length).toBeLessThan(1100);
      expect(rec.logs.at(-1)).toMatch(/ stderr: Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes\.$/);
      await stillServing();
    });
  });

  it('survives kill -9 of an invoker under load: every accepted activation is recorded, callers never wait past their timeout, new work goes to the other', async () => {
    await put('nap', 'function main(p) { return new Promise((r) => setTimeout(() => r({ napped: p.ms, i: p.i }), p.ms)); }', { limits: { memory: 128, concurrency: 20 } });
    // Both invokers warm for nap and echo, so the load below runs at once.
    await Promise.all(Array.from({ length: 16 }, (_, i) => api('POST', '/actions/nap?blocking=true', { ms: 10, i })));

    const accepted = new Set<string>();
    const blocking: { timeout: number; elapsed: number; status: number }[] = [];
    const calls: Promise<void>[] = [];
    const start = (i: number) => {
      if (i % 3 === 0) {
        // Blocking, with a timeout the failover may or may not beat: never waited past.
        const timeout = i % 2 ? 2_500 : 5_000;
        const t0 = Date.now();
        return api('POST', `/actions/nap?blocking=true&timeout=${timeout}`, { ms: 2_000, i }).then((r) => {
          blocking.push({ timeout, elapsed: Date.now() - t0, status: r.status });
          if (r.body?.activationId) accepted.add(r.body.activationId);
        });
      }
      const [name, body] = i % 3 === 1 ? ['nap', { ms: 2_000, i }] : ['echo', { i }];
      return api('POST', `/actions/${name}`, body).then((r) => {
        expect(r.status).toBe(202);
        accepted.add(r.body.activationId);
      });
    };
    for (let i = 0; i < 40; i++) calls.push(start(i));
    await sleep(600); // all 40 accepted; the naps are asleep in their containers
    await c.killInvoker(1);
    const killedAt = Date.now();
    // Keep the load coming while the balancer has not noticed yet.
    for (let i = 40; i < 52; i++) {
      calls.push(start(i));
      await sleep(150);
    }

    await waitForLog(c, (l) => l.msg === 'invoker stopped answering; marked down' && l.invoker === 1, 15_000);
    const noticedAfter = Date.now() - killedAt;
    expect(noticedAfter).toBeLessThan(INVOKER_TIMEOUT_MS + 2_500);

    // New work now runs on the invoker that is left: all of it succeeds.
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => api('POST', '/actions/echo?blocking=true&result=true', { after: i })));
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(after.map((r) => r.body.after)).toEqual(Array.from({ length: 10 }, (_, i) => i));

    await Promise.all(calls);
    for (const b of blocking) {
      expect(b.elapsed, `blocking call with timeout=${b.timeout} answered ${b.status} after ${b.elapsed} ms`).toBeLessThanOrEqual(b.timeout + 500);
      expect([200, 202, 500]).toContain(b.status);
    }
    const records = await Promise.all([...accepted].map((id) => stored(id)));
    const failed = records.filter((r) => r.response.status !== 'success');
    for (const r of failed) {
      expect(r.response.status).toBe('whisk internal error');
      expect(r.response.result.error).toBe('The invoker running this activation (invoker1) stopped answering.');
    }
    expect(accepted.size).toBe(52); // every call was accepted (a 202 from a blocking wait carries the id too)
    expect(records.length).toBe(accepted.size);
    expect(failed.length).toBeGreaterThan(0); // invoker1 did hold some of the load
    expect(records.length - failed.length).toBeGreaterThan(0);

    // invoker1 comes back: the messages left on its topic were meant for the run that died and
    // are recorded already (as failed): it must not run them a second time.
    const again = c.restartInvoker(1);
    await waitForLog(c, (l) => l.msg === 'invoker is back' && l.invoker === 1, 60_000);
    await sleep(1_500);
    const skipped = logLines(again).filter((l) => l.msg === 'activation from before this start is recorded already; not run again').length;
    const rerun = await Promise.all(failed.map((r) => stored(r.activationId)));
    expect(rerun.map((r) => r.response)).toEqual(failed.map((r) => r.response));
    const both = await Promise.all(Array.from({ length: 8 }, (_, i) => api('POST', '/actions/echo?blocking=true&result=true', { back: i })));
    expect(both.map((r) => r.status)).toEqual(Array(8).fill(200));

    console.info(
      `kill -9: ${skipped} stale messages skipped by the restarted invoker; ${accepted.size} accepted, ${failed.length} ended as whisk internal errors, noticed after ${noticedAfter} ms; ` +
        `blocking calls: ${blocking.map((b) => `${b.status}@${b.elapsed}/${b.timeout}ms`).join(' ')}`,
    );
  });
});

async function waitForLog(cluster: Cluster, match: (l: Record<string, unknown>) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!logLines(cluster.controller).some(match)) {
    if (Date.now() > deadline) throw new Error(`the controller never logged what was awaited:\n${cluster.controller.output().slice(-3000)}`);
    await sleep(50);
  }
}
