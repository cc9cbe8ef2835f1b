import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../support/controller-harness.js';
import { runCli, startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';

/**
 * Invocation through `whiskhub standalone` (controller → bus → invoker → container → record), as
 * the spec's checklist (§12, items 35–55) describes it, with the container factory given.
 */
export function describeInvocation(factory: 'process' | 'docker', env: Record<string, string> = {}) {
  describe(`invocation on ${factory} containers`, () => {
    let wh: StandaloneProcess;
    let ow: ReturnType<typeof openwhisk>;
    const api = (method: string, path: string, body?: unknown, auth?: string) =>
      http(wh.apiHost, method, `/api/v1/namespaces/_${path}`, { auth: auth ?? wh.guestAuth, body });
    const put = (name: string, code: string, extra: Record<string, unknown> = {}) =>
      api('PUT', `/actions/${name}?overwrite=true`, { exec: { kind: 'nodejs:default', code }, ...extra });
    const record = async (id: string, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await api('GET', `/activations/${id}`);
        if (r.status === 200) return r.body;
        if (Date.now() > deadline) throw new Error(`activation ${id} never appeared (last status ${r.status})`);
        await new Promise((res) => setTimeout(res, 50));
      }
    };

    beforeAll(async () => {
      wh = await startStandaloneProcess({ env: { WHISKHUB_CONTAINER_FACTORY: factory, WHISKHUB_AUTH_CACHE_MS: '0', ...env } });
      expect(wh.output()).toContain(factory === 'docker' ? 'actions run as Docker containers' : 'actions run as local processes');
      ow = openwhisk({ apihost: wh.apiHost, api_key: wh.guestAuth });
      await put('echo', 'function main(p) { console.log("got", JSON.stringify(p)); console.error("on stderr"); return p; }');
    });
    afterAll(async () => {
      expect(await wh?.stop()).toBe(0);
    });

    it('answers a non-blocking invoke with 202, the id, and the header (35)', async () => {
      const r = await api('POST', '/actions/echo', { a: 1 });
      expect(r.status).toBe(202);
      expect(r.body.activationId).toMatch(/^[0-9a-f]{32}$/);
      expect(r.headers.get('x-openwhisk-activation-id')).toBe(r.body.activationId);
      const rec = await record(r.body.activationId);
      expect(rec.response).toEqual({ status: 'success', success: true, result: { a: 1 }, size: 7 });
    });

    it('answers a blocking invoke with the full record, or the result alone (36, 44)', async () => {
      const r = await api('POST', '/actions/echo?blocking=true', { b: 2 });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ namespace: 'guest', name: 'echo', version: '0.0.1', subject: 'guest', publish: false });
      expect(r.body.response).toMatchObject({ status: 'success', success: true, result: { b: 2 } });
      expect(r.body.end - r.body.start).toBe(r.body.duration);
      const keys = r.body.annotations.map((a: { key: string }) => a.key);
      expect(keys).toEqual(expect.arrayContaining(['path', 'waitTime', 'kind', 'limits', 'timeout']));
      expect(r.body.annotations).toEqual(expect.arrayContaining([{ key: 'path', value: 'guest/echo' }, { key: 'timeout', value: false }]));
      const res = await api('POST', '/actions/echo?blocking=true&result=true', { c: 3 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ c: 3 });
    });

    it('marks only cold starts with initTime', async () => {
      await put('cold', 'function main() { return { ok: true }; }');
      const first = await api('POST', '/actions/cold?blocking=true');
      const second = await api('POST', '/actions/cold?blocking=true');
      const has = (r: typeof first) => r.body.annotations.some((a: { key: string }) => a.key === 'initTime');
      expect(has(first)).toBe(true);
      expect(has(second)).toBe(false);
    });

    it('collects stdout and stderr per activation, without the sentinel (46, 70)', async () => {
      const r = await api('POST', '/actions/echo?blocking=true', { log: 'me' });
      const id = r.body.activationId;
      await record(id);
      const logs = await api('GET', `/activations/${id}/logs`);
      expect(logs.status).toBe(200);
      expect(logs.body.logs).toHaveLength(2);
      // Each line is stamped as it arrives; across stdout and stderr the order is not guaranteed
      // (Docker reads the two pipes separately), within one stream it is.
      const lines = [...logs.body.logs].sort((a: string, b: string) => (a.includes(' stdout: ') ? -1 : b.includes(' stdout: ') ? 1 : 0));
      expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z +stdout: got \{"log":"me"\}$/);
      expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z +stderr: on stderr$/);
      expect(JSON.stringify(logs.body)).not.toContain('XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX');
      const result = await api('GET', `/activations/${id}/result`);
      expect(result.body).toMatchObject({ result: { log: 'me' }, success: true, status: 'success' });
    });

    it('maps an application error, a throw and a non-object result to 502 (37, 38)', async () => {
      await put('apperr', 'function main() { return { error: "bad input" }; }');
      const app = await api('POST', '/actions/apperr?blocking=true');
      expect(app.status).toBe(502);
      expect(app.body.response).toMatchObject({ status: 'application error', success: false, result: { error: 'bad input' } });
      await put('thrower', 'function main() { throw new Error("boom"); }');
      const thrown = await api('POST', '/actions/thrower?blocking=true');
      expect(thrown.status).toBe(502);
      expect(thrown.body.response).toMatchObject({ status: 'action developer error', success: false });
      expect(JSON.stringify(thrown.body.response.result.error)).toContain('boom');
      await put('scalar', 'function main() { return 42; }');
      const scalar = await api('POST', '/actions/scalar?blocking=true&result=true');
      expect(scalar.status).toBe(502);
      expect(scalar.body.error).toBeDefined();
      expect(scalar.body.code).toBeUndefined(); // an action's error body never looks like a server error
    });

    it('returns an array result as is (39)', async () => {
      await put('arr', 'function main() { return [1, 2, 3]; }');
      const r = await api('POST', '/actions/arr?blocking=true');
      expect(r.status).toBe(200);
      expect(r.body).toEqual([1, 2, 3]);
    });

    it('answers 202 when a blocking wait runs out, and records the activation later (40, 41)', async () => {
      await put('sleepy', 'function main() { return new Promise((r) => setTimeout(() => r({ slept: true }), 1500)); }');
      const r = await api('POST', '/actions/sleepy?blocking=true&timeout=100');
      expect(r.status).toBe(202);
      const rec = await record(r.body.activationId);
      expect(rec.response.result).toEqual({ slept: true });
      expect((await api('POST', '/actions/sleepy?blocking=true&timeout=0')).status).toBe(400);
      const tooLong = await api('POST', '/actions/sleepy?blocking=true&timeout=65000');
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error).toBe('Timeout must be number of milliseconds up to 60000.');
    });

    it('ends an action over its time limit as a developer error and replaces its container (48)', async () => {
      await put('spin', 'function main(p) { if (p.spin) { for (;;) {} } return { fine: true }; }', { limits: { timeout: 500 } });
      const r = await api('POST', '/actions/spin?blocking=true', { spin: true });
      expect(r.status).toBe(502);
      expect(r.body.response.result.error).toBe('The action exceeded its time limits of 500 milliseconds.');
      expect(r.body.annotations).toEqual(expect.arrayContaining([{ key: 'timeout', value: true }]));
      const after = await api('POST', '/actions/spin?blocking=true&result=true');
      expect(after.status).toBe(200);
      expect(after.body).toEqual({ fine: true });
    });

    it('truncates megabytes of logs at the limit and goes on serving', async () => {
      await put('chatty', 'function main() { const l = "x".repeat(1000); for (let i = 0; i < 3000; i++) console.log(l); return { done: true }; }', {
        limits: { logs: 1 },
      });
      const r = await api('POST', '/actions/chatty?blocking=true');
      expect(r.status).toBe(200);
      const rec = await record(r.body.activationId);
      expect(rec.logs.length).toBeLessThan(1100);
      expect(rec.logs.at(-1)).toMatch(/Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes\.$/);
      expect((await api('POST', '/actions/echo?blocking=true&result=true', { still: 'serving' })).body).toEqual({ still: 'serving' });
    });

    it('merges package < binding < action < payload parameters, and notes the binding (32)', async () => {
      await api('PUT', '/packages/pk', { parameters: [{ key: 'a', value: 'pkg' }, { key: 'b', value: 'pkg' }, { key: 'c', value: 'pkg' }, { key: 'd', value: 'pkg' }] });
      await api('PUT', '/actions/pk/show', {
        exec: { kind: 'nodejs:default', code: 'function main(p) { return p; }' },
        parameters: [{ key: 'c', value: 'action' }, { key: 'd', value: 'action' }],
      });
      await api('PUT', '/packages/pkb', { binding: { namespace: '_', name: 'pk' }, parameters: [{ key: 'b', value: 'binding' }, { key: 'c', value: 'binding' }] });
      const r = await api('POST', '/actions/pkb/show?blocking=true', { d: 'payload' });
      expect(r.body.response.result).toEqual({ a: 'pkg', b: 'binding', c: 'action', d: 'payload' });
      expect(r.body.annotations).toEqual(expect.arrayContaining([{ key: 'path', value: 'guest/pk/show' }, { key: 'binding', value: 'guest/pkb' }]));
      await record(r.body.activationId);
      const listed = await api('GET', '/activations?name=pkb/show');
      expect(listed.body.map((a: { activationId: string }) => a.activationId)).toContain(r.body.activationId);
    });

    it('refuses to override a final parameter, but lets a null one be set (42)', async () => {
      await api('PUT', '/actions/fin', {
        exec: { kind: 'nodejs:default', code: 'function main(p) { return p; }' },
        parameters: [{ key: 'fixed', value: 1 }, { key: 'open', value: null }],
        annotations: [{ key: 'final', value: true }],
      });
      const refused = await api('POST', '/actions/fin?blocking=true', { fixed: 2 });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('Request defines parameters that are not allowed (e.g., reserved properties).');
      const ok = await api('POST', '/actions/fin?blocking=true&result=true', { open: 'yes' });
      expect(ok.body).toEqual({ fixed: 1, open: 'yes' });
    });

    it('records every one of many concurrent non-blocking invokes', async () => {
      const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => api('POST', '/actions/echo', { i }).then((r) => r.body.activationId as string)));
      const recs = await Promise.all(ids.map((id) => record(id)));
      expect(recs.map((r) => r.response.result.i).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    });

    it('fans a fire out to active rules only, and logs each rule (53, 54, 55)', async () => {
      await api('PUT', '/triggers/fan', { parameters: [{ key: 'from', value: 'trigger' }, { key: 'x', value: 'trigger' }] });
      await api('PUT', '/rules/fan-on', { trigger: '/_/fan', action: '/_/echo' });
      await api('PUT', '/rules/fan-off', { trigger: '/_/fan', action: '/_/echo' });
      await api('POST', '/rules/fan-off', { status: 'inactive' });
      await put('doomed', 'function main() { return {}; }');
      await api('PUT', '/rules/fan-gone', { trigger: '/_/fan', action: '/_/doomed' });
      await api('DELETE', '/actions/doomed');

      const fired = await http(wh.apiHost, 'POST', '/api/v1/namespaces/_/triggers/fan', { auth: wh.guestAuth, body: { x: 'payload' }, headers: { 'x-custom': 'yes' } });
      expect(fired.status).toBe(202);
      const trig = await record(fired.body.activationId);
      expect(trig.response.result).toEqual({ x: 'payload' });
      expect(trig.end).toBeUndefined();
      const outcomes = trig.logs.map((l: string) => JSON.parse(l));
      const byRule = Object.fromEntries(outcomes.map((o: { rule: string }) => [o.rule, o]));
      expect(byRule['guest/fan-on']).toMatchObject({ statusCode: 0, success: true, action: 'guest/echo' });
      expect(byRule['guest/fan-off']).toMatchObject({
        statusCode: 1,
        success: false,
        error: "Rule 'guest/fan-off' is inactive, action 'guest/echo' was not activated.",
      });
      expect(byRule['guest/fan-gone']).toMatchObject({ statusCode: 1, success: false, error: 'The requested resource does not exist.' });
      const action = await record(byRule['guest/fan-on'].activationId);
      expect(action.response.result).toMatchObject({ from: 'trigger', x: 'payload' });
      expect(action.response.result.__ow_headers['x-custom']).toBe('yes');
      expect(action.response.result.__ow_headers.authorization).toBeUndefined();
    });

    it('answers 204 and records nothing when no rule is active (51, 52)', async () => {
      await api('PUT', '/triggers/quiet');
      const before = (await api('GET', '/activations?count=true')).body.activations;
      const r = await api('POST', '/triggers/quiet', {});
      expect(r.status).toBe(204);
      expect(r.text).toBe('');
      await new Promise((res) => setTimeout(res, 200));
      expect((await api('GET', '/activations?count=true')).body.activations).toBe(before);
    });

    it('throttles invocations per namespace with 429 (49)', async () => {
      const env = { WHISKHUB_DATA_DIR: wh.dataDir };
      const created = await runCli(['admin', 'user', 'create', 'limited-subject', '-n', 'limited'], env);
      const key = created.stdout.trim();
      expect((await runCli(['admin', 'limits', 'set', 'limited', '--invocationsPerMinute', '2'], env)).code).toBe(0);
      await api('PUT', '/actions/t', { exec: { kind: 'nodejs:default', code: 'function main() { return {}; }' } }, key);
      expect((await api('POST', '/actions/t', {}, key)).status).toBe(202);
      expect((await api('POST', '/actions/t', {}, key)).status).toBe(202);
      const third = await api('POST', '/actions/t', {}, key);
      expect(third.status).toBe(429);
      expect(third.body.error).toBe('Too many requests in the last minute (count: 3, allowed: 2).');
    });

    it('works with the npm client end to end', async () => {
      await ow.actions.create({ name: 'npm-hello', action: 'function main(p) { return { hi: p.who }; }' });
      expect(await ow.actions.invoke({ name: 'npm-hello', blocking: true, result: true, params: { who: 'npm' } })).toEqual({ hi: 'npm' });
    });
  });
}
