import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type HttpResult } from '../support/controller-harness.js';
import { runCli, startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';

/** wsk 1.2.0 bodies: compact JSON plus a newline (Go's json.Encoder), see deploy/dev/WSK.md. */
const goJson = (body: unknown) => ({ rawBody: `${JSON.stringify(body)}\n` });

type Annotated = { annotations: { key: string; value: unknown }[] };
const annotation = (rec: Annotated, key: string) => rec.annotations.find((a) => a.key === key)?.value;

/** The web actions' long wait: a request still running after 60 s answers 202. */
const WEB_WAIT_MS = 60_000;

/**
 * Sequences (§7.1) and web actions (§7.2) through `whiskhub standalone`, checklist items 63–68,
 * over real HTTP: the REST API as wsk and plain clients call it, and `/api/v1/web` anonymously.
 */
export function describeSequencesAndWeb(factory: 'process' | 'docker', env: Record<string, string> = {}) {
  describe(`sequences and web actions on ${factory} containers`, () => {
    let wh: StandaloneProcess;
    let otherAuth: string;
    /** Started in beforeAll so its 60-second wait runs alongside the other tests. */
    let slowWeb: Promise<HttpResult>;
    let slowWebStarted: number;

    const api = (method: string, path: string, body?: unknown, auth?: string) =>
      http(wh.apiHost, method, `/api/v1/namespaces/_${path}`, { auth: auth ?? wh.guestAuth, body });
    const put = async (name: string, code: string, extra: Record<string, unknown> = {}) => {
      const r = await api('PUT', `/actions/${name}?overwrite=true`, { exec: { kind: 'nodejs:default', code }, ...extra });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    const putSequence = async (name: string, components: string[], extra: Record<string, unknown> = {}) => {
      const r = await api('PUT', `/actions/${name}?overwrite=true`, { exec: { kind: 'sequence', components }, ...extra });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    const record = async (id: string, timeoutMs = 15_000, auth?: string) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await api('GET', `/activations/${id}`, undefined, auth);
        if (r.status === 200) return r.body;
        if (Date.now() > deadline) throw new Error(`activation ${id} never appeared (last status ${r.status})`);
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    const web = (method: string, path: string, opts: Parameters<typeof http>[3] = {}) => http(wh.apiHost, method, `/api/v1/web/${path}`, opts);
    const exported = (more: { key: string; value: unknown }[] = []) => ({ annotations: [{ key: 'web-export', value: true }, ...more] });

    beforeAll(async () => {
      wh = await startStandaloneProcess({ env: { WHISKHUB_CONTAINER_FACTORY: factory, WHISKHUB_AUTH_CACHE_MS: '0', ...env } });
      const created = await runCli(['admin', 'user', 'create', 'other-subject', '-n', 'other'], { WHISKHUB_DATA_DIR: wh.dataDir });
      expect(created.code, created.stderr).toBe(0);
      otherAuth = created.stdout.trim();
      // Components: each adds one to `n` and reports its parameter `tag` (overridable by the input).
      await put('inc', 'function main(p) { return { n: (p.n || 0) + 1, tag: p.tag, seen: (p.seen || []).concat(["inc"]) }; }', {
        parameters: [{ key: 'tag', value: 'from-param' }],
      });
      await put('double', 'function main(p) { return { n: p.n * 2, tag: p.tag, seen: p.seen.concat(["double"]) }; }');
      await put('fail', 'function main(p) { return { error: "stopped at " + p.n }; }');
      await put('slow', 'function main(p) { return new Promise((r) => setTimeout(() => r({ n: p.n, slow: true }), 1500)); }');
      await put('webslow', 'function main() { return new Promise((r) => setTimeout(() => r({ body: "late" }), 62000)); }', {
        ...exported(),
        limits: { timeout: 70_000, memory: 128 },
      });
      slowWebStarted = Date.now();
      slowWeb = web('GET', 'guest/default/webslow');
      slowWeb.catch(() => undefined);
    });
    afterAll(async () => {
      expect(await wh?.stop()).toBe(0);
    });

    describe('sequences', () => {
      it('refuses a missing component, itself and an empty list (63)', async () => {
        const put = (name: string, components: unknown) => api('PUT', `/actions/${name}`, { exec: { kind: 'sequence', components } });
        const missing = await put('bad-seq', ['/_/inc', '/_/no-such-action']);
        expect(missing.status).toBe(400);
        expect(missing.body.error).toBe('Sequence component does not exist.');
        const self = await put('self-seq', ['/_/inc', '/_/self-seq']);
        expect(self.status).toBe(400);
        expect(self.body.error).toBe('Sequence may not refer to itself.');
        const empty = await put('empty-seq', []);
        expect(empty.status).toBe(400);
        expect(empty.body.error).toBe('No component specified for the sequence.');
        expect((await api('GET', '/actions/bad-seq')).status).toBe(404);
      });

      it("answers with the last component's result and records the components (64)", async () => {
        await putSequence('chain', ['/_/inc', '/guest/double', '/_/inc']);
        const r = await api('POST', '/actions/chain?blocking=true', { n: 1 });
        expect(r.status).toBe(200);
        expect(r.headers.get('x-openwhisk-activation-id')).toBe(r.body.activationId);
        expect(r.body.response).toMatchObject({ status: 'success', success: true, result: { n: 5, tag: 'from-param', seen: ['inc', 'double', 'inc'] } });
        expect(r.body).toMatchObject({ namespace: 'guest', name: 'chain', subject: 'guest', version: '0.0.1' });
        expect(r.body.cause).toBeUndefined();
        expect(annotation(r.body, 'kind')).toBe('sequence');
        expect(annotation(r.body, 'topmost')).toBe(true);
        expect(annotation(r.body, 'path')).toBe('guest/chain');
        expect(annotation(r.body, 'causedBy')).toBeUndefined();
        expect(typeof annotation(r.body, 'waitTime')).toBe('number');
        expect(annotation(r.body, 'limits')).toEqual({ timeout: 60000, memory: 256, logs: 10, concurrency: 1 });
        expect(r.body.logs).toHaveLength(3);
        expect(r.body.end).toBeGreaterThanOrEqual(r.body.start);

        const components = await Promise.all(r.body.logs.map((id: string) => record(id)));
        expect(components.map((c) => c.name)).toEqual(['inc', 'double', 'inc']);
        expect(components.map((c) => c.response.result.n)).toEqual([2, 4, 5]);
        for (const c of components) {
          expect(c.cause).toBe(r.body.activationId);
          expect(annotation(c, 'causedBy')).toBe('sequence');
        }
        expect(r.body.duration).toBe(components.reduce((sum, c) => sum + c.duration, 0));
        // The stored record is the same, its logs the component ids in order.
        const stored = await record(r.body.activationId);
        expect(stored.logs).toEqual(r.body.logs);
        expect((await api('GET', `/activations/${r.body.activationId}/logs`)).body).toEqual({ logs: r.body.logs });
        // The summary lists the component activations with their cause.
        const listed = await api('GET', '/activations?name=inc&limit=50');
        const summary = listed.body.find((a: { activationId: string }) => a.activationId === r.body.logs[0]);
        expect(summary.cause).toBe(r.body.activationId);
      });

      it('merges component parameters underneath the input, and answers the result alone with result=true', async () => {
        await putSequence('tagged', ['/_/inc', '/_/inc']);
        const r = await api('POST', '/actions/tagged?blocking=true&result=true', { n: 10, tag: 'from-input' });
        expect(r.status).toBe(200);
        // The input's tag wins over the first component's parameter; the second sees the first's result.
        expect(r.body).toEqual({ n: 12, tag: 'from-input', seen: ['inc', 'inc'] });
      });

      it('stops at the first result with an error field (65)', async () => {
        await putSequence('breaks', ['/_/inc', '/_/fail', '/_/inc']);
        const r = await api('POST', '/actions/breaks?blocking=true', { n: 1 });
        expect(r.status).toBe(502);
        expect(r.body.response).toMatchObject({ status: 'application error', success: false, result: { error: 'stopped at 2' } });
        expect(r.body.logs).toHaveLength(2);
        const [first, second] = await Promise.all(r.body.logs.map((id: string) => record(id)));
        expect([first.name, second.name]).toEqual(['inc', 'fail']);
        const result = await api('POST', '/actions/breaks?blocking=true&result=true', { n: 7 });
        expect(result.status).toBe(502);
        expect(result.body).toEqual({ error: 'stopped at 8' });
      });

      it('runs nested sequences, the inner one caused by the outer (64)', async () => {
        await putSequence('inner', ['/_/inc', '/_/double']);
        await putSequence('outer', ['/_/inner', '/_/inc']);
        const r = await api('POST', '/actions/outer?blocking=true', { n: 3 });
        expect(r.status).toBe(200);
        expect(r.body.response.result).toMatchObject({ n: 9, seen: ['inc', 'double', 'inc'] });
        expect(r.body.logs).toHaveLength(2);
        const inner = await record(r.body.logs[0]);
        expect(inner.name).toBe('inner');
        expect(inner.cause).toBe(r.body.activationId);
        expect(annotation(inner, 'causedBy')).toBe('sequence');
        expect(annotation(inner, 'topmost')).toBe(false);
        expect(annotation(inner, 'kind')).toBe('sequence');
        expect(inner.logs).toHaveLength(2);
        for (const id of inner.logs) expect((await record(id)).cause).toBe(inner.activationId);
        const last = await record(r.body.logs[1]);
        expect(last.cause).toBe(r.body.activationId);
        expect(r.body.duration).toBe(inner.duration + last.duration);
      });

      it('answers a non-blocking invoke at once with 202 and runs in the background', async () => {
        await putSequence('slow-chain', ['/_/slow', '/_/inc']);
        const started = Date.now();
        const r = await api('POST', '/actions/slow-chain', { n: 1 });
        expect(r.status).toBe(202);
        expect(Date.now() - started).toBeLessThan(1000);
        expect(r.body.activationId).toMatch(/^[0-9a-f]{32}$/);
        expect(r.headers.get('x-openwhisk-activation-id')).toBe(r.body.activationId);
        const rec = await record(r.body.activationId);
        // `slow` ran first (1.5 s), then `inc` on its result.
        expect(rec.response.result).toEqual({ n: 2, tag: 'from-param', seen: ['inc'] });
        expect(rec.logs).toHaveLength(2);
      });

      it('turns a blocking wait past `timeout` into 202, and records the sequence later', async () => {
        const r = await api('POST', '/actions/slow-chain?blocking=true&timeout=200', { n: 5 });
        expect(r.status).toBe(202);
        expect(r.body).toEqual({ activationId: expect.stringMatching(/^[0-9a-f]{32}$/) });
        const rec = await record(r.body.activationId);
        expect(rec.response.result).toMatchObject({ n: 6 });
        expect((await api('POST', '/actions/slow-chain?blocking=true&timeout=0')).status).toBe(400);
      });

      it('fails a run whose component was deleted after creation', async () => {
        await put('doomed', 'function main(p) { return p; }');
        await putSequence('orphaned', ['/_/inc', '/_/doomed']);
        expect((await api('DELETE', '/actions/doomed')).status).toBe(200);
        const r = await api('POST', '/actions/orphaned?blocking=true', { n: 1 });
        expect(r.status).toBe(502);
        expect(r.body.response).toMatchObject({ status: 'application error', result: { error: 'Sequence component does not exist.' } });
        expect(r.body.logs).toHaveLength(1);
      });

      it('throttles the sequence once, not each component', async () => {
        const envs = { WHISKHUB_DATA_DIR: wh.dataDir };
        const key = (await runCli(['admin', 'user', 'create', 'seq-limited', '-n', 'seqlimited'], envs)).stdout.trim();
        expect((await runCli(['admin', 'limits', 'set', 'seqlimited', '--invocationsPerMinute', '2'], envs)).code).toBe(0);
        await api('PUT', '/actions/one', { exec: { kind: 'nodejs:default', code: 'function main(p) { return { k: (p.k || 0) + 1 }; }' } }, key);
        await api('PUT', '/actions/three', { exec: { kind: 'sequence', components: ['/_/one', '/_/one', '/_/one'] } }, key);
        const first = await api('POST', '/actions/three?blocking=true&result=true', {}, key);
        expect(first.status).toBe(200);
        expect(first.body).toEqual({ k: 3 });
        expect((await api('POST', '/actions/three?blocking=true&result=true', {}, key)).body).toEqual({ k: 3 });
        const third = await api('POST', '/actions/three?blocking=true', {}, key);
        expect(third.status).toBe(429);
        expect(third.body.error).toBe('Too many requests in the last minute (count: 3, allowed: 2).');
      });

      it('works with requests exactly as wsk sends them', async () => {
        const name = 'wsk-seq';
        const create = await http(wh.apiHost, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=false`, {
          auth: wh.guestAuth,
          ...goJson({ namespace: '_', name, exec: { kind: 'sequence', components: ['/_/inc', '/_/double'] } }),
        });
        expect(create.status).toBe(200);
        expect(create.body.exec).toEqual({ kind: 'sequence', components: ['/guest/inc', '/guest/double'] });
        // `wsk action invoke wsk-seq -p n 2 --blocking`
        const invoked = await http(wh.apiHost, 'POST', `/api/v1/namespaces/_/actions/${name}?blocking=true&result=false`, {
          auth: wh.guestAuth,
          ...goJson({ n: 2 }),
        });
        expect(invoked.status).toBe(200);
        expect(invoked.body.response.result.n).toBe(6);
        // `wsk action invoke wsk-seq -r`
        const result = await http(wh.apiHost, 'POST', `/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`, {
          auth: wh.guestAuth,
          ...goJson({ n: 0 }),
        });
        expect(result.body).toMatchObject({ n: 2 });
        // `wsk activation get ID`, `wsk activation logs ID`, `wsk activation list wsk-seq`
        const id = invoked.body.activationId;
        const got = await http(wh.apiHost, 'GET', `/api/v1/namespaces/_/activations/${id}`, { auth: wh.guestAuth });
        expect(got.body.logs).toEqual(invoked.body.logs);
        const logs = await http(wh.apiHost, 'GET', `/api/v1/namespaces/_/activations/${id}/logs`, { auth: wh.guestAuth });
        expect(logs.body.logs).toHaveLength(2);
        const list = await http(wh.apiHost, 'GET', `/api/v1/namespaces/_/activations?limit=30&skip=0&name=${name}`, { auth: wh.guestAuth });
        expect(list.body.map((a: { activationId: string }) => a.activationId)).toContain(id);
        // `wsk action get wsk-seq` shows the components
        const action = await http(wh.apiHost, 'GET', `/api/v1/namespaces/_/actions/${name}?code=false`, { auth: wh.guestAuth });
        expect(action.body.exec.components).toEqual(['/guest/inc', '/guest/double']);
      });
    });

    describe('web actions', () => {
      const echo = 'function main(p) { return p; }';

      it('serves only actions with web-export, without credentials (66)', async () => {
        await put('not-web', echo);
        await put('is-web', echo, exported());
        for (const method of ['GET', 'POST']) {
          const hidden = await web(method, 'guest/default/not-web.json');
          expect(hidden.status).toBe(404);
          expect(hidden.body.error).toBe('The requested resource does not exist.');
        }
        expect((await web('GET', 'guest/default/no-such-action.json')).status).toBe(404);
        expect((await web('GET', 'no-such-namespace/default/is-web.json')).status).toBe(404);
        expect((await web('GET', 'guest/no-such-package/is-web.json')).status).toBe(404);
        expect((await web('GET', 'guest/default')).status).toBe(404);
        const served = await web('GET', 'guest/default/is-web.json');
        expect(served.status).toBe(200);
        expect(served.body.__ow_method).toBe('get');
        const id = served.headers.get('x-openwhisk-activation-id');
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        // Turning the export off hides it again.
        await api('PUT', '/actions/is-web?overwrite=true', { annotations: [{ key: 'web-export', value: false }] });
        expect((await web('GET', 'guest/default/is-web.json')).status).toBe(404);
      });

      it('passes __ow_method, __ow_headers and __ow_path, and merges params < query < body (67)', async () => {
        await put('ctx', echo, { ...exported(), parameters: [{ key: 'p', value: 'param' }, { key: 'q', value: 'param' }, { key: 'b', value: 'param' }] });
        for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
          const r = await web(method, 'guest/default/ctx.json/extra/path?q=query&b=query', {
            headers: { 'X-Custom-Header': 'Value' },
            ...(method === 'GET' ? {} : { body: { b: 'body' } }),
          });
          expect(r.status, method).toBe(200);
          expect(r.body.__ow_method).toBe(method.toLowerCase());
          expect(r.body.__ow_path).toBe('/extra/path');
          expect(r.body.__ow_headers['x-custom-header']).toBe('Value');
          expect(Object.keys(r.body.__ow_headers).every((k) => k === k.toLowerCase())).toBe(true);
          expect(r.body.__ow_user).toBeUndefined();
          expect(r.body).toMatchObject({ p: 'param', q: 'query', b: method === 'GET' ? 'query' : 'body' });
        }
        const plain = await web('GET', 'guest/default/ctx.json');
        expect(plain.body.__ow_path).toBe('');
        const form = await web('POST', 'guest/default/ctx.json', { rawBody: 'b=form&x=1', contentType: 'application/x-www-form-urlencoded' });
        expect(form.body).toMatchObject({ b: 'form', x: '1' });
        const text = await web('POST', 'guest/default/ctx.json', { rawBody: 'just text', contentType: 'text/plain' });
        expect(text.body.__ow_body).toBe('just text');
        const bytes = await web('POST', 'guest/default/ctx.json', { rawBody: '\u0000\u0001binary', contentType: 'application/octet-stream' });
        expect(Buffer.from(bytes.body.__ow_body, 'base64').toString()).toBe('\u0000\u0001binary');
      });

      it('refuses query or body fields that override __ow_* or final parameters', async () => {
        await put('guarded', echo, { ...exported([{ key: 'final', value: true }]), parameters: [{ key: 'locked', value: 1 }] });
        const expected = 'Request defines parameters that are not allowed (e.g., reserved properties).';
        for (const r of [
          await web('GET', 'guest/default/guarded.json?__ow_method=put'),
          await web('POST', 'guest/default/guarded.json', { body: { __ow_headers: {} } }),
          await web('POST', 'guest/default/guarded.json', { body: { __ow_path: '/x' } }),
          await web('GET', 'guest/default/guarded.json?locked=2'),
        ]) {
          expect(r.status).toBe(400);
          expect(r.body.error).toBe(expected);
        }
        expect((await web('GET', 'guest/default/guarded.json?free=2')).body).toMatchObject({ locked: 1, free: '2' });
      });

      it('gives raw-http actions the query string and the body unparsed', async () => {
        await put('raw', echo, exported([{ key: 'raw-http', value: true }]));
        const json = await web('POST', 'guest/default/raw.json?a=1&a=2&b=x%20y', { body: { k: 'v' } });
        expect(json.status).toBe(200);
        expect(json.body.__ow_query).toBe('a=1&a=2&b=x%20y');
        expect(JSON.parse(Buffer.from(json.body.__ow_body, 'base64').toString())).toEqual({ k: 'v' });
        expect(json.body.a).toBeUndefined();
        expect(json.body.k).toBeUndefined();
        const text = await web('PUT', 'guest/default/raw.json', { rawBody: 'plain', contentType: 'text/plain' });
        expect(text.body).toMatchObject({ __ow_query: '', __ow_body: 'plain', __ow_method: 'put' });
        const none = await web('GET', 'guest/default/raw.json?__ow_method=ignored');
        expect(none.body).toMatchObject({ __ow_body: '', __ow_query: '__ow_method=ignored', __ow_method: 'get' });
      });

      it('lets a .http result drive status, headers and body', async () => {
        await put(
          'http',
          `function main(p) {
            if (p.kind === 'empty') return {};
            if (p.kind === 'png') return { headers: { 'Content-Type': 'image/png' }, body: Buffer.from([137, 80, 78, 71]).toString('base64') };
            if (p.kind === 'json') return { statusCode: 201, body: { made: true } };
            return { statusCode: 202, headers: { 'X-Multi': ['a', 'b'], 'Content-Type': 'text/plain' }, body: 'hello ' + p.who };
          }`,
          exported(),
        );
        const text = await web('GET', 'guest/default/http?who=web');
        expect(text.status).toBe(202);
        expect(text.text).toBe('hello web');
        expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(text.headers.get('x-multi')).toBe('a, b');
        // No extension means .http.
        expect((await web('GET', 'guest/default/http.http?who=ext')).text).toBe('hello ext');
        const empty = await web('GET', 'guest/default/http?kind=empty');
        expect(empty.status).toBe(204);
        expect(empty.text).toBe('');
        const json = await web('GET', 'guest/default/http?kind=json');
        expect(json.status).toBe(201);
        expect(json.headers.get('content-type')).toMatch(/^application\/json/);
        expect(json.body).toEqual({ made: true });
        const png = await fetch(`${wh.apiHost}/api/v1/web/guest/default/http?kind=png`);
        expect(png.status).toBe(200);
        expect(png.headers.get('content-type')).toBe('image/png');
        expect([...new Uint8Array(await png.arrayBuffer())]).toEqual([137, 80, 78, 71]);
      });

      it('serves .json, .html, .svg and .text', async () => {
        await put('media', 'function main(p) { return { body: "<b>" + p.t + "</b>", extra: 1 }; }', exported());
        const json = await web('GET', 'guest/default/media.json?t=j');
        expect(json.headers.get('content-type')).toMatch(/^application\/json/);
        expect(json.body).toEqual({ body: '<b>j</b>', extra: 1 });
        for (const [ext, type] of [
          ['html', /^text\/html/],
          ['svg', /^image\/svg\+xml/],
          ['text', /^text\/plain/],
        ] as const) {
          const r = await web('GET', `guest/default/media.${ext}?t=${ext}`);
          expect(r.status, ext).toBe(200);
          expect(r.headers.get('content-type')).toMatch(type);
          expect(r.text).toBe(`<b>${ext}</b>`);
        }
        await put('scalar-html', 'function main() { return { html: 42 }; }', exported());
        const bad = await web('GET', 'guest/default/scalar-html.html');
        expect(bad.status).toBe(400);
        expect(bad.body.error).toBe("Response is not valid 'text/html'.");
      });

      it('answers application errors with 400 (or their statusCode) and hides developer errors', async () => {
        await put('app-error', 'function main(p) { return p.teapot ? { error: { statusCode: 418, body: "short and stout" } } : { error: "not like this" }; }', exported());
        const plain = await web('GET', 'guest/default/app-error');
        expect(plain.status).toBe(400);
        expect(plain.body).toEqual({ error: 'not like this' });
        const json = await web('GET', 'guest/default/app-error.json');
        expect(json.status).toBe(400);
        expect(json.body).toEqual({ error: 'not like this' });
        const teapot = await web('GET', 'guest/default/app-error?teapot=1');
        expect(teapot.status).toBe(418);
        expect(teapot.text).toBe('short and stout');
        await put('crash', 'function main() { throw new Error("secret details"); }', exported());
        const crash = await web('GET', 'guest/default/crash.json');
        expect(crash.status).toBe(400);
        expect(crash.body.error).toBe('There was an error processing your request.');
        expect(crash.text).not.toContain('secret details');
        expect(crash.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);
      });

      it('checks require-whisk-auth: a secret header, or any valid credentials (68)', async () => {
        await put('secret', echo, exported([{ key: 'require-whisk-auth', value: 's3cret' }]));
        expect((await web('GET', 'guest/default/secret.json')).status).toBe(401);
        expect((await web('GET', 'guest/default/secret.json', { headers: { 'X-Require-Whisk-Auth': 'wrong' } })).status).toBe(401);
        // Valid OpenWhisk credentials are no substitute for the secret.
        expect((await web('GET', 'guest/default/secret.json', { auth: wh.guestAuth })).status).toBe(401);
        const ok = await web('GET', 'guest/default/secret.json', { headers: { 'X-Require-Whisk-Auth': 's3cret' } });
        expect(ok.status).toBe(200);
        expect(ok.body.__ow_method).toBe('get');

        await put('pin', echo, exported([{ key: 'require-whisk-auth', value: 1234 }]));
        expect((await web('GET', 'guest/default/pin.json')).status).toBe(401);
        expect((await web('GET', 'guest/default/pin.json', { headers: { 'x-require-whisk-auth': '1234' } })).status).toBe(200);

        await put('members', echo, exported([{ key: 'require-whisk-auth', value: true }]));
        const anonymous = await web('GET', 'guest/default/members.json');
        expect(anonymous.status).toBe(401);
        expect(anonymous.body.code).toBe(anonymous.headers.get('x-request-id'));
        expect((await web('GET', 'guest/default/members.json', { auth: `${wh.guestAuth.split(':')[0]}:${'x'.repeat(64)}` })).status).toBe(401);
        const member = await web('GET', 'guest/default/members.json', { auth: otherAuth });
        expect(member.status).toBe(200);
        expect(member.body.__ow_user).toBe('other');
      });

      it("charges the action's owner, whoever calls", async () => {
        await put('owned', echo, exported([{ key: 'require-whisk-auth', value: true }]));
        const r = await web('POST', 'guest/default/owned.json', { auth: otherAuth, body: { x: 1 } });
        expect(r.status).toBe(200);
        const id = r.headers.get('x-openwhisk-activation-id')!;
        const rec = await record(id);
        expect(rec).toMatchObject({ namespace: 'guest', subject: 'guest', name: 'owned' });
        expect((await api('GET', `/activations/${id}`, undefined, otherAuth)).status).toBe(404);
      });

      it('answers CORS preflights by default, and leaves them to web-custom-options actions', async () => {
        await put('cors', echo, exported());
        const pre = await web('OPTIONS', 'guest/default/cors.json', { headers: { 'Access-Control-Request-Headers': 'X-Thing' } });
        expect(pre.status).toBe(200);
        expect(pre.text).toBe('');
        expect(pre.headers.get('access-control-allow-origin')).toBe('*');
        expect(pre.headers.get('access-control-allow-methods')).toBe('OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH');
        expect(pre.headers.get('access-control-allow-headers')).toBe('X-Thing');
        expect(pre.headers.get('x-openwhisk-activation-id')).toBeNull();
        const get = await web('GET', 'guest/default/cors.json');
        expect(get.headers.get('access-control-allow-origin')).toBe('*');
        expect(get.headers.get('access-control-allow-headers')).toBe('Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent');

        await put('own-cors', 'function main(p) { return { statusCode: 200, headers: { "Access-Control-Allow-Origin": "https://app.example", "X-Method": p.__ow_method } }; }', {
          ...exported([{ key: 'web-custom-options', value: true }, { key: 'require-whisk-auth', value: 'k' }]),
        });
        const own = await web('OPTIONS', 'guest/default/own-cors');
        expect(own.status).toBe(200);
        expect(own.headers.get('x-method')).toBe('options');
        expect(own.headers.get('access-control-allow-origin')).toBe('https://app.example');
        expect(own.headers.get('access-control-allow-methods')).toBeNull();
        expect(own.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);
        // Other methods of such an action still need the secret.
        expect((await web('GET', 'guest/default/own-cors')).status).toBe(401);
        const head = await web('HEAD', 'guest/default/own-cors', { headers: { 'X-Require-Whisk-Auth': 'k' } });
        expect(head.status).toBe(200);
        expect(head.headers.get('x-method')).toBe('head');
      });

      it('serves actions in packages, with package parameters under the query', async () => {
        expect((await api('PUT', '/packages/webpkg', { parameters: [{ key: 'from', value: 'package' }, { key: 'q', value: 'package' }] })).status).toBe(200);
        await put('webpkg/act', echo, exported());
        const r = await web('GET', 'guest/webpkg/act.json/tail?q=query');
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ from: 'package', q: 'query', __ow_path: '/tail' });
      });

      it('serves a web-exported sequence', async () => {
        await putSequence('web-seq', ['/_/inc', '/_/double'], exported());
        const r = await web('POST', 'guest/default/web-seq.json', { body: { n: 4 } });
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ n: 10, seen: ['inc', 'double'] });
        const rec = await record(r.headers.get('x-openwhisk-activation-id')!);
        expect(annotation(rec, 'kind')).toBe('sequence');
        expect(rec.logs).toHaveLength(2);
      });

      it('refuses request bodies over 1 MB with 413', async () => {
        await put('big', echo, exported());
        const r = await web('POST', 'guest/default/big.json', { rawBody: 'x'.repeat(1024 * 1024 + 10), contentType: 'text/plain' });
        expect(r.status).toBe(413);
      });

      it('answers 202 "Response not yet ready." after 60 seconds', async () => {
        const r = await slowWeb;
        const waited = Date.now() - slowWebStarted;
        expect(r.status).toBe(202);
        expect(r.body.error).toBe('Response not yet ready.');
        expect(r.body.code).toBe(r.headers.get('x-request-id'));
        const id = r.headers.get('x-openwhisk-activation-id')!;
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        expect(waited).toBeGreaterThanOrEqual(WEB_WAIT_MS - 1_000);
        expect(waited).toBeLessThan(WEB_WAIT_MS + 10_000);
        const rec = await record(id, 20_000);
        expect(rec.response.result).toEqual({ body: 'late' });
      }, WEB_WAIT_MS + 40_000);
    });
  });
}
