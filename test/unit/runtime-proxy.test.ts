import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOG_SENTINEL } from '../../src/containers/container-factory.js';
import { freePort } from '../../src/containers/free-port.js';
import { formatLogTime, LogCollector } from '../../src/containers/log-collector.js';
import { loadAction } from '../../src/runtime/action-loader.js';
import { SENTINEL } from '../../src/runtime/sentinel.js';
import { readZip } from '../../src/runtime/zip-reader.js';
import { makeZip } from '../../catalog/zip.js';

const PROXY = 'dist/src/runtime/main.js';

beforeAll(() => {
  execFileSync('bash', ['deploy/runtimes/build-proxy.sh'], { stdio: 'inherit', timeout: 120_000 });
}, 150_000);

interface Proxy {
  child: ChildProcess;
  url: string;
  out: () => string;
  err: () => string;
  post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

/** The compiled proxy as a child process, as the process factory runs it. */
async function startProxy(env: Record<string, string> = {}, stdin: 'ignore' | 'pipe' = 'ignore'): Promise<Proxy> {
  const port = await freePort();
  const child = spawn(process.execPath, [PROXY], {
    env: { PATH: process.env.PATH ?? '', __OW_PROXY_HOST: '127.0.0.1', __OW_PROXY_PORT: String(port), ...env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/`, { method: 'POST' });
      break;
    } catch (e) {
      if (i > 400) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  return { child, url, out: () => out, err: () => err, post };
}

/** Output arrives on its own pipes, a moment after the HTTP answer. */
async function eventually(check: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

const count = (text: string) => text.split(SENTINEL).length - 1;

const init = (code: string, more: Record<string, unknown> = {}) => ({ value: { name: 'a', main: 'main', binary: false, code, ...more } });

describe('action proxy protocol (child process)', () => {
  it('writes the same sentinel the invoker looks for', () => {
    expect(SENTINEL).toBe(LOG_SENTINEL);
  });

  it('answers /run before /init with 502 and still ends the activation logs', async () => {
    const p = await startProxy();
    const run = await p.post('/run', { value: {} });
    expect(run).toEqual({ status: 502, body: { error: 'The action was not initialized.' } });
    await eventually(() => p.out() === `${SENTINEL}\n` && p.err() === `${SENTINEL}\n`);
  });

  it('fails /init without code (502, sentinels), then refuses any further /init with 403', async () => {
    const p = await startProxy();
    const bad = await p.post('/init', { value: { main: 'main' } });
    expect(bad.status).toBe(502);
    expect(bad.body.error).toMatch(/Missing main\/no code/);
    await eventually(() => count(p.out()) === 1 && count(p.err()) === 1);
    expect((await p.post('/init', init('function main(){return {}}'))).status).toBe(403);
    expect((await p.post('/run', { value: {} })).body).toEqual({ error: 'The action failed to initialize.' });
  });

  it('answers unknown routes with 404 and a body that is not JSON with 400', async () => {
    const p = await startProxy();
    expect((await p.post('/other', {})).status).toBe(404);
    expect(await p.post('/init', '{not json')).toEqual({ status: 400, body: { error: 'The request body is not valid JSON.' } });
  });

  it('turns init env values into strings and run keys into __OW_ variables', async () => {
    const p = await startProxy();
    const code = 'function main() { return { o: process.env.OBJ, n: process.env.NUM, z: process.env.NIL, ns: process.env.__OW_NAMESPACE, x: process.env.__OW_EXTRA_KEY, port: process.env.__OW_PROXY_PORT ?? null }; }';
    expect((await p.post('/init', init(code, { env: { OBJ: { a: 1 }, NUM: 5, NIL: null } }))).status).toBe(200);
    const run = await p.post('/run', { value: {}, namespace: 'ns1', extra_key: 'e' });
    expect(run).toEqual({ status: 200, body: { o: '{"a":1}', n: '5', z: '', ns: 'ns1', x: 'e', port: null } });
  });

  it('maps results: undefined → {}, circular → 502, rejections keep an {error} object', async () => {
    const p = await startProxy();
    const code = `function main(p) {
      if (p.kind === 'undefined') return;
      if (p.kind === 'circular') { const o = {}; o.o = o; return o; }
      if (p.kind === 'errobj') return Promise.reject({ error: 'kept', code: 7 });
      if (p.kind === 'nothing') return Promise.reject();
      if (p.kind === 'string') throw 'plain string';
      return null;
    }`;
    expect((await p.post('/init', init(code))).status).toBe(200);
    expect(await p.post('/run', { value: { kind: 'undefined' } })).toEqual({ status: 200, body: {} });
    const circular = await p.post('/run', { value: { kind: 'circular' } });
    expect(circular.status).toBe(502);
    expect(circular.body.error).toMatch(/not valid JSON/);
    expect(await p.post('/run', { value: { kind: 'errobj' } })).toEqual({ status: 502, body: { error: 'kept', code: 7 } });
    expect(await p.post('/run', { value: { kind: 'nothing' } })).toEqual({ status: 502, body: { error: {} } });
    expect(await p.post('/run', { value: { kind: 'string' } })).toEqual({ status: 502, body: { error: 'plain string' } });
    expect((await p.post('/run', { value: { kind: 'null' } })).status).toBe(502);
    // One sentinel pair per activation.
    await eventually(() => count(p.out()) === 6 && count(p.err()) === 6);
  });

  it('keeps serving after an uncaught exception in the action, which goes to stderr', async () => {
    const p = await startProxy();
    const code = 'function main() { setTimeout(() => { throw new Error("late"); }, 1); return { ok: 1 }; }';
    expect((await p.post('/init', init(code))).status).toBe(200);
    expect((await p.post('/run', { value: {} })).status).toBe(200);
    await eventually(() => /Uncaught exception: Error: late/.test(p.err()));
    expect((await p.post('/run', { value: {} })).body).toEqual({ ok: 1 });
  });

  it('runs ES module code, with the default export as main', async () => {
    const p = await startProxy();
    expect((await p.post('/init', init('export default async function (p) { return { esm: p.v }; }'))).status).toBe(200);
    expect((await p.post('/run', { value: { v: 3 } })).body).toEqual({ esm: 3 });
  });

  it('refuses zips with unsafe paths or without package.json or index.js', async () => {
    const unsafe = await startProxy();
    const evil = makeZip([{ name: '../escape.js', content: 'x' }, { name: 'index.js', content: 'exports.main = () => ({})' }]);
    const r1 = await unsafe.post('/init', init(evil.toString('base64'), { binary: true }));
    expect(r1.status).toBe(502);
    expect(r1.body.error).toMatch(/unsafe path/);
    const empty = await startProxy();
    const r2 = await empty.post('/init', init(makeZip([{ name: 'other.js', content: '' }]).toString('base64'), { binary: true }));
    expect(r2.status).toBe(502);
    expect(r2.body.error).toMatch(/package.json or index.js/);
  });

  it('exits promptly on SIGTERM, and when its stdin ends if told to', async () => {
    const p = await startProxy();
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const [code] = (await once(p.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1_000);

    const q = await startProxy({ __OW_PROXY_EXIT_WITH_STDIN: '1' }, 'pipe');
    q.child.stdin!.end();
    const [code2] = (await once(q.child, 'exit')) as [number | null];
    expect(code2).toBe(0);
  });
});

describe('action loader (in process)', () => {
  it('finds main as a declared function, a dotted path, or on module.exports', async () => {
    const declared = await loadAction({ name: 'a', main: 'main', binary: false, code: 'function main(p) { return p.x; }' });
    expect(declared({ x: 1 })).toBe(1);
    const dotted = await loadAction({ name: 'a', main: 'lib.go', binary: false, code: 'const lib = { go: () => "went" };' });
    expect(dotted({})).toBe('went');
    const exported = await loadAction({ name: 'a', main: 'run', binary: false, code: 'exports.run = () => "ran";' });
    expect(exported({})).toBe('ran');
    const moduleFn = await loadAction({ name: 'a', main: 'main', binary: false, code: 'module.exports = () => "fn";' });
    expect(moduleFn({})).toBe('fn');
  });

  it('refuses a main that is not a name or not a function', async () => {
    await expect(loadAction({ name: 'a', main: 'x; process.exit()', binary: false, code: '' })).rejects.toThrow(/not a valid function name/);
    await expect(loadAction({ name: 'a', main: 'main', binary: false, code: 'const main = 5;' })).rejects.toThrow(/'main' is not a function/);
  });

  it('reports syntax errors with the action file name', async () => {
    const err = (await loadAction({ name: 'broken', main: 'main', binary: false, code: 'function main() {\n  return {;\n}' }).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(SyntaxError);
    expect(err.stack).toMatch(/broken\.action\.js:2/);
  });
});

describe('zip reader', () => {
  it('reads stored and deflated entries', () => {
    const zip = makeZip([
      { name: 'a.txt', content: 'plain' },
      { name: 'dir/', content: '' },
      { name: 'dir/b.txt', content: 'squeezed '.repeat(100), deflate: true },
    ]);
    const entries = readZip(zip);
    expect(entries.map((e) => [e.name, e.data.toString()])).toEqual([
      ['a.txt', 'plain'],
      ['dir/', ''],
      ['dir/b.txt', 'squeezed '.repeat(100)],
    ]);
  });

  it('refuses what it cannot read', () => {
    expect(() => readZip(Buffer.from('not a zip at all, just some text'))).toThrow(/not a zip archive/);
    const corrupt = makeZip([{ name: 'a.txt', content: 'hello' }]);
    corrupt[30 + 'a.txt'.length] ^= 0xff; // flip a data byte
    expect(() => readZip(corrupt)).toThrow(/CRC mismatch/);
    const method = makeZip([{ name: 'a.txt', content: 'hello' }]);
    method.writeUInt16LE(12, method.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10); // bzip2
    expect(() => readZip(method)).toThrow(/compression method 12/);
  });
});

describe('log collector', () => {
  it('formats times as RFC 3339 with nanoseconds', () => {
    expect(formatLogTime(1717000001012345678n)).toBe('2024-05-29T16:26:41.012345678Z');
    expect(formatLogTime(1717000001000000005n)).toBe('2024-05-29T16:26:41.000000005Z');
  });

  it('splits lines across chunks, keeps text written before a sentinel, and waits for both streams', async () => {
    const logs = new LogCollector();
    logs.push('stdout', Buffer.from('hel'));
    logs.push('stdout', Buffer.from('lo\nhalf'));
    logs.push('stdout', `${SENTINEL}\nnext activation\n`);
    const pending = logs.collect(1000, 2_000);
    logs.push('stderr', Buffer.from([0xe2, 0x82])); // a split UTF-8 character
    logs.push('stderr', Buffer.from([0xac, 0x0a]));
    logs.push('stderr', `${SENTINEL}\n`);
    const got = await pending;
    expect(got.complete).toBe(true);
    expect(got.lines.map((l) => `${l.stream}:${l.message}`)).toEqual(['stdout:hello', 'stdout:half', 'stderr:€']);
    logs.push('stdout', `${SENTINEL}\n`);
    logs.push('stderr', `${SENTINEL}\n`);
    expect((await logs.collect(1000, 100)).lines.map((l) => l.message)).toEqual(['next activation']);
  });

  it('bounds what it buffers and marks the activation truncated', async () => {
    const logs = new LogCollector({ maxBufferedBytes: 100 });
    for (let i = 0; i < 10; i++) logs.push('stdout', `${'x'.repeat(30)}\n`);
    logs.push('stdout', `${SENTINEL}\n`);
    logs.push('stderr', `${SENTINEL}\n`);
    const got = await logs.collect(10_000, 100);
    expect(got).toMatchObject({ truncated: true, complete: true });
    expect(got.lines.length).toBe(3);
  });

  it('gives up waiting when the streams end', async () => {
    const logs = new LogCollector();
    logs.push('stdout', 'last words');
    const pending = logs.collect(1000, 10_000);
    logs.end();
    expect(await pending).toMatchObject({ complete: false, lines: [{ stream: 'stdout', message: 'last words' }] });
  });
});
