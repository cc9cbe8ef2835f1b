import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../../catalog/zip.js';
import { LOG_SENTINEL, type Container, type ContainerFactory, type ContainerSpec, type ProxyResponse } from '../../src/containers/container-factory.js';

/**
 * The one behaviour suite every ContainerFactory must pass (docker, process): the action
 * runtime protocol end to end through a real action proxy.
 */
export interface ContainerFactoryHarness {
  /** A new factory; called once for the suite, and again where a test needs a second one. */
  newFactory(): ContainerFactory | Promise<ContainerFactory>;
  /** How the factory holds an action to its memory limit. */
  memory: {
    /** The action's memory limit in MB for the test. */
    limitMB: number;
    /** An action that allocates far beyond the limit, in the way the factory can stop. */
    hogCode: string;
    /** Whether the factory tells that it was the memory limit (oomKilled). */
    reportsOomKilled: boolean;
  };
}


const LOG_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

export function describeContainerFactory(name: string, harness: ContainerFactoryHarness): void {
  describe(`ContainerFactory contract: ${name}`, () => {
    const suiteLabel = { 'whiskhub.test': `${name}-${randomBytes(4).toString('hex')}` };
    let factory: ContainerFactory;
    const extraFactories: ContainerFactory[] = [];
    let seq = 0;

    const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
      name: `whiskhub-test-${name}-${process.pid}-${++seq}-${randomBytes(2).toString('hex')}`,
      kind: 'nodejs:20',
      memoryMB: 256,
      env: { __OW_API_HOST: 'http://127.0.0.1:3233' },
      labels: suiteLabel,
      ...over,
    });

    const runBody = (value: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
      value,
      namespace: 'guest',
      action_name: '/guest/test',
      action_version: '0.0.1',
      activation_id: randomBytes(16).toString('hex'),
      transaction_id: 'tx1',
      deadline: String(Date.now() + 60_000),
      ...extra,
    });

    /** create + init; the init answer must be 200 unless told otherwise. */
    async function started(code: string, options: { spec?: Partial<ContainerSpec>; init?: Record<string, unknown> } = {}) {
      const container = await factory.create(spec(options.spec));
      const init = await container.init({ name: 'test', main: 'main', binary: false, code, env: {}, ...options.init }, 10_000);
      expect(init.statusCode, init.body).toBe(200);
      // The init of a good action writes nothing and no sentinel: no logs to collect here.
      return container;
    }

    const json = (r: ProxyResponse) => JSON.parse(r.body) as Record<string, unknown>;

    beforeAll(async () => {
      factory = await harness.newFactory();
    }, 60_000);

    afterAll(async () => {
      await factory?.close();
      for (const f of extraFactories) await f.close();
      // Nothing of this suite may outlive it.
      if (factory) expect(await factory.cleanup(suiteLabel)).toBe(0);
    }, 60_000);

    it('creates a container, initialises it once and runs the action', async () => {
      const c = await factory.create(spec());
      const init = await c.init({ name: 'hello', main: 'main', binary: false, code: 'function main(p) { return { greeting: `hello ${p.name}` }; }' }, 10_000);
      expect(init).toMatchObject({ statusCode: 200, timedOut: false, exited: false, oomKilled: false });
      expect(init.end).toBeGreaterThanOrEqual(init.start);
      const run = await c.run(runBody({ name: 'world' }), 5_000);
      expect(run).toMatchObject({ statusCode: 200, timedOut: false, exited: false, oomKilled: false });
      expect(json(run)).toEqual({ greeting: 'hello world' });
      expect(json(await c.run(runBody({ name: 'again' }), 5_000))).toEqual({ greeting: 'hello again' });
      expect(c.spec.name).toMatch(/^whiskhub-test-/);
      expect(c.id).toBeTruthy();
      await c.destroy();
    }, 20_000);

    it('refuses a second /init with 403', async () => {
      const c = await started('function main() { return {}; }');
      const again = await c.init({ name: 'x', main: 'main', code: 'function main() { return {}; }' }, 5_000);
      expect(again.statusCode).toBe(403);
      expect(json(again).error).toMatch(/more than once/);
      await c.destroy();
    }, 20_000);

    it('gives the action the container env, the init env and the __OW_ variables of each run', async () => {
      const code = `function main() {
        const pick = ['__OW_API_HOST', 'DB_URL', '__OW_NAMESPACE', '__OW_ACTION_NAME', '__OW_ACTION_VERSION',
          '__OW_ACTIVATION_ID', '__OW_TRANSACTION_ID', '__OW_DEADLINE', '__OW_API_KEY', 'SECRET_OF_THE_INVOKER'];
        return Object.fromEntries(pick.map((k) => [k, process.env[k]]));
      }`;
      process.env.SECRET_OF_THE_INVOKER = 'must-not-leak';
      try {
        const c = await started(code, { init: { env: { DB_URL: 'couch://db', __OW_NAMESPACE: 'guest' } } });
        const body = runBody({}, { api_key: 'uuid:key', activation_id: 'a'.repeat(32), deadline: '1717000061000' });
        const env = json(await c.run(body, 5_000));
        expect(env).toEqual({
          __OW_API_HOST: 'http://127.0.0.1:3233',
          DB_URL: 'couch://db',
          __OW_NAMESPACE: 'guest',
          __OW_ACTION_NAME: '/guest/test',
          __OW_ACTION_VERSION: '0.0.1',
          __OW_ACTIVATION_ID: 'a'.repeat(32),
          __OW_TRANSACTION_ID: 'tx1',
          __OW_DEADLINE: '1717000061000',
          __OW_API_KEY: 'uuid:key',
        });
        const next = json(await c.run(runBody({}, { activation_id: 'b'.repeat(32), namespace: 'other' }), 5_000));
        expect(next).toMatchObject({ __OW_ACTIVATION_ID: 'b'.repeat(32), __OW_NAMESPACE: 'other' });
        await c.destroy();
      } finally {
        delete process.env.SECRET_OF_THE_INVOKER;
      }
    }, 20_000);

    it('loads CommonJS exports and awaits asynchronous actions', async () => {
      const viaExports = await started('exports.main = async (p) => { await new Promise((r) => setTimeout(r, 20)); return { n: p.n * 2 }; };');
      expect(json(await viaExports.run(runBody({ n: 21 }), 5_000))).toEqual({ n: 42 });
      const viaModule = await started(
        'const os = require("os"); module.exports = function (p) { return Promise.resolve({ list: [p.a, typeof os.hostname()] }); };',
      );
      expect(json(await viaModule.run(runBody({ a: 1 }), 5_000))).toEqual({ list: [1, 'string'] });
      const otherMain = await started('function handler(p) { return [p.x, "array results pass"]; }', { init: { main: 'handler' } });
      const arr = await otherMain.run(runBody({ x: 0 }), 5_000);
      expect(arr.statusCode).toBe(200);
      expect(JSON.parse(arr.body)).toEqual([0, 'array results pass']);
      await Promise.all([viaExports.destroy(), viaModule.destroy(), otherMain.destroy()]);
    }, 20_000);

    it('collects the logs of each activation apart, stdout and stderr, without the sentinel', async () => {
      const c = await started(`function main(p) {
        console.log('out ' + p.n);
        console.error('err ' + p.n);
        process.stdout.write('no newline ' + p.n);
        return { n: p.n };
      }`);
      expect((await c.run(runBody({ n: 1 }), 5_000)).statusCode).toBe(200);
      expect((await c.run(runBody({ n: 2 }), 5_000)).statusCode).toBe(200);
      const first = await c.collectLogs(1024 * 1024, 5_000);
      const second = await c.collectLogs(1024 * 1024, 5_000);
      for (const [logs, n] of [[first, 1], [second, 2]] as const) {
        expect(logs.complete).toBe(true);
        expect(logs.truncated).toBe(false);
        const lines = logs.lines.map((l) => `${l.stream}: ${l.message}`);
        expect(lines.filter((l) => l.startsWith('stdout'))).toEqual([`stdout: out ${n}`, `stdout: no newline ${n}`]);
        expect(lines.filter((l) => l.startsWith('stderr'))).toEqual([`stderr: err ${n}`]);
        for (const l of logs.lines) {
          expect(l.time).toMatch(LOG_TIME);
          expect(l.message).not.toContain(LOG_SENTINEL);
        }
      }
      const times = first.lines.map((l) => l.time);
      expect([...times].sort()).toEqual(times);
      // Nothing more is pending: a collection now waits, finds no sentinel, and says so.
      const none = await c.collectLogs(1024, 200);
      expect(none).toEqual({ lines: [], truncated: false, complete: false });
      await c.destroy();
    }, 20_000);

    it('answers 502 with the error when the action throws or rejects; the logs still end', async () => {
      const c = await started(`async function main(p) {
        console.log('about to fail');
        if (p.reject) return Promise.reject(new Error('rejected ' + p.reject));
        throw new Error('boom');
      }`);
      const thrown = await c.run(runBody(), 5_000);
      expect(thrown.statusCode).toBe(502);
      expect(json(thrown)).toEqual({ error: 'boom' });
      const logs = await c.collectLogs(1024 * 1024, 5_000);
      expect(logs.complete).toBe(true);
      expect(logs.lines.find((l) => l.stream === 'stdout')?.message).toBe('about to fail');
      expect(logs.lines.some((l) => l.stream === 'stderr' && l.message.includes('boom'))).toBe(true);
      const rejected = await c.run(runBody({ reject: 'x' }), 5_000);
      expect(rejected.statusCode).toBe(502);
      expect(json(rejected)).toEqual({ error: 'rejected x' });
      expect((await c.collectLogs(1024 * 1024, 5_000)).complete).toBe(true);
      await c.destroy();
    }, 20_000);

    it('answers 502 for a result that is not a dictionary, 200 for an {error} result', async () => {
      const c = await started('function main(p) { return p.kind === "error" ? { error: "app says no" } : p.kind === "number" ? 42 : "text"; }');
      for (const kind of ['number', 'string']) {
        const r = await c.run(runBody({ kind }), 5_000);
        expect(r.statusCode).toBe(502);
        expect(String(json(r).error)).toMatch(/did not return a dictionary/);
      }
      const appError = await c.run(runBody({ kind: 'error' }), 5_000);
      expect(appError.statusCode).toBe(200);
      expect(json(appError)).toEqual({ error: 'app says no' });
      await c.destroy();
    }, 20_000);

    it('answers 502 when /init fails, and ends the logs of the failed init', async () => {
      const c = await factory.create(spec());
      const init = await c.init({ name: 'bad', main: 'main', code: 'function main( {' }, 10_000);
      expect(init.statusCode).toBe(502);
      expect(String(json(init).error)).toMatch(/Initialization has failed/);
      const logs = await c.collectLogs(1024 * 1024, 5_000);
      expect(logs.complete).toBe(true);
      expect(logs.lines.some((l) => l.stream === 'stderr' && /SyntaxError/.test(l.message))).toBe(true);
      const d = await factory.create(spec());
      const noMain = await d.init({ name: 'nomain', main: 'nope', code: 'const notMain = 1;' }, 10_000);
      expect(noMain.statusCode).toBe(502);
      expect(String(json(noMain).error)).toMatch(/'nope' is not a function/);
      await Promise.all([c.destroy(), d.destroy()]);
    }, 20_000);

    it('times out an action that never ends, and destroys it afterwards', async () => {
      const c = await started('function main() { while (true) {} }');
      const run = await c.run(runBody(), 500);
      expect(run).toMatchObject({ statusCode: 0, timedOut: true, exited: false });
      expect(run.end - run.start).toBeGreaterThanOrEqual(450);
      expect(run.end - run.start).toBeLessThan(3_000);
      const logs = await c.collectLogs(1024, 100);
      expect(logs.complete).toBe(false);
      const t0 = Date.now();
      await c.destroy();
      expect(Date.now() - t0).toBeLessThan(5_000);
      const after = await c.run(runBody(), 1_000);
      expect(after).toMatchObject({ statusCode: 0, timedOut: false, exited: true });
    }, 20_000);

    it('pauses and resumes a container, which then runs again', async () => {
      const c = await started('let n = 0; function main() { return { n: ++n }; }');
      expect(json(await c.run(runBody(), 5_000))).toEqual({ n: 1 });
      await c.pause();
      // Paused means frozen: a call does not get through until resumed.
      const frozen = await c.run(runBody(), 300);
      expect(frozen.timedOut).toBe(true);
      await c.resume();
      const run = await c.run(runBody(), 5_000);
      expect(run.statusCode).toBe(200);
      // The frozen call was sent before; the proxy may have served it after the resume.
      expect([2, 3]).toContain(json(run).n);
      // Back to back, as an idle timer right after a run may do.
      for (let i = 0; i < 3; i++) {
        await c.pause();
        await c.resume();
      }
      expect((await c.run(runBody(), 5_000)).statusCode).toBe(200);
      await c.destroy();
    }, 20_000);

    it('serves concurrent runs in one container', async () => {
      const c = await started('async function main(p) { await new Promise((r) => setTimeout(r, 400)); return { i: p.i }; }');
      const t0 = Date.now();
      const results = await Promise.all([1, 2, 3].map((i) => c.run(runBody({ i }), 5_000)));
      expect(results.map((r) => json(r).i)).toEqual([1, 2, 3]);
      expect(Date.now() - t0).toBeLessThan(1_100);
      await c.destroy();
    }, 20_000);

    it('holds an action to its memory limit: beyond it the container dies', async () => {
      const c = await started(harness.memory.hogCode, { spec: { memoryMB: harness.memory.limitMB } });
      const run = await c.run(runBody(), 30_000);
      expect(run.statusCode).toBe(0);
      expect(run.timedOut).toBe(false);
      expect(run.exited).toBe(true);
      expect(run.oomKilled).toBe(harness.memory.reportsOomKilled);
      await c.destroy();
    }, 40_000);

    it('cuts the logs at the byte limit and still separates activations', async () => {
      const c = await started(`function main(p) {
        for (let i = 0; i < p.lines; i++) console.log(String(i).padStart(4, '0') + 'x'.repeat(96));
        return {};
      }`);
      await c.run(runBody({ lines: 50 }), 5_000);
      const cut = await c.collectLogs(1000, 5_000);
      expect(cut.truncated).toBe(true);
      expect(cut.complete).toBe(true);
      expect(cut.lines.length).toBe(10);
      expect(cut.lines[0].message.startsWith('0000')).toBe(true);
      await c.run(runBody({ lines: 2 }), 5_000);
      const next = await c.collectLogs(1000, 5_000);
      expect(next).toMatchObject({ truncated: false, complete: true });
      expect(next.lines.map((l) => l.message.slice(0, 4))).toEqual(['0000', '0001']);
      await c.destroy();
    }, 20_000);

    it('destroys a container: it answers no more, and destroying twice is fine', async () => {
      const c = await started('function main() { return { ok: true }; }');
      await c.destroy();
      await c.destroy();
      const run = await c.run(runBody(), 2_000);
      expect(run).toMatchObject({ statusCode: 0, exited: true });
    }, 20_000);

    it('cleanup removes the containers an earlier factory left behind, by label', async () => {
      const label = { 'whiskhub.test': `${suiteLabel['whiskhub.test']}-leftover` };
      const earlier = await harness.newFactory();
      extraFactories.push(earlier);
      const leftovers: Container[] = [];
      for (let i = 0; i < 2; i++) leftovers.push(await earlier.create(spec({ labels: label })));
      expect((await leftovers[0].init({ name: 'l', main: 'main', code: 'function main() { return {}; }' }, 10_000)).statusCode).toBe(200);
      await leftovers[1].pause();
      const mine = await factory.create(spec({ labels: label }));
      const other = await factory.create(spec());

      await expect(factory.cleanup({})).rejects.toThrow(/at least one label/);
      expect(await factory.cleanup(label)).toBe(2);
      expect(await factory.cleanup(label)).toBe(0);
      const gone = await leftovers[0].run(runBody(), 2_000);
      expect(gone).toMatchObject({ statusCode: 0, exited: true });
      // Its own containers, and other labels, are left alone.
      expect((await mine.init({ name: 'm', main: 'main', code: 'function main() { return { mine: 1 }; }' }, 10_000)).statusCode).toBe(200);
      expect((await other.init({ name: 'o', main: 'main', code: 'function main() { return {}; }' }, 10_000)).statusCode).toBe(200);
      for (const l of leftovers) await l.destroy();
      await Promise.all([mine.destroy(), other.destroy()]);
    }, 30_000);

    it('runs a zipped action (binary code): package.json main, stored and deflated files', async () => {
      const zip = makeZip([
        { name: 'package.json', content: JSON.stringify({ name: 'zipped', main: 'lib/entry.js' }) },
        { name: 'lib/', content: '' },
        { name: 'lib/entry.js', content: "const { shout } = require('./util');\nexports.main = (p) => ({ said: shout(p.word) });\n", deflate: true },
        { name: 'lib/util.js', content: `exports.shout = (w) => w.toUpperCase() + '!';\n// ${'padding '.repeat(200)}\n`, deflate: true },
      ]);
      const c = await started(zip.toString('base64'), { init: { binary: true } });
      expect(json(await c.run(runBody({ word: 'zip' }), 5_000))).toEqual({ said: 'ZIP!' });
      await c.destroy();

      const index = makeZip([{ name: 'index.js', content: 'module.exports.main = () => ({ from: "index.js" });' }]);
      const d = await started(index.toString('base64'), { init: { binary: true } });
      expect(json(await d.run(runBody(), 5_000))).toEqual({ from: 'index.js' });
      await d.destroy();
    }, 20_000);
  });
}
