import { describe, expect, it } from 'vitest';
import { CODE, expectError, expectOk, nextMillisecond, NOT_FOUND, nodeExec, type ApiSession } from './api-support.js';

const kv = (list: { key: string; value: unknown }[]) => Object.fromEntries(list.map((p) => [p.key, p.value]));

/** Checklist 10–19, 22, 25–28 for actions, and the sequence checks of 63. */
export function describeActions(s: ApiSession): void {
  describe('actions', () => {
    it('creates with 200, version 0.0.1, publish false, updated in epoch ms, default limits (10, 19)', async () => {
      const name = s.uniq('create');
      const before = Date.now();
      const res = await s.call('PUT', `/namespaces/_/actions/${name}`, { body: { exec: nodeExec() } });
      const a = expectOk(res);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(a).toMatchObject({
        namespace: 'guest',
        name,
        version: '0.0.1',
        publish: false,
        exec: { kind: 'nodejs:20', code: CODE, binary: false },
        parameters: [],
        limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
      });
      expect(a.updated).toBeGreaterThanOrEqual(before);
      expect(a.updated).toBeLessThanOrEqual(Date.now());
      expect(a).not.toHaveProperty('entityType');
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${name}`))).toEqual(a);
    });

    it('adds provide-api-key:false and exec:<kind> annotations, keeping a supplied provide-api-key (13)', async () => {
      const name = s.uniq('annot');
      const a = await s.createAction('_', name, { annotations: [{ key: 'x', value: 'y' }] });
      expect(kv(a.annotations)).toEqual({ x: 'y', 'provide-api-key': false, exec: 'nodejs:20' });
      const b = await s.createAction('_', `${name}-k`, { annotations: [{ key: 'provide-api-key', value: true }] });
      expect(kv(b.annotations)).toEqual({ 'provide-api-key': true, exec: 'nodejs:20' });
    });

    it('refuses a second create, updates with overwrite=true and bumps the patch version (11, 12)', async () => {
      const name = s.uniq('over');
      await s.createAction('_', name, { parameters: [{ key: 'p', value: 1 }] });
      const again = await s.call('PUT', `/namespaces/_/actions/${name}`, { body: { exec: nodeExec() } });
      expectError(again, 409, 'resource already exists');
      expectError(await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=false`, { body: { exec: nodeExec() } }), 409, 'resource already exists');
      const up = expectOk(await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, { body: { limits: { memory: 128 } } }));
      expect(up.version).toBe('0.0.2');
      expect(up.exec.code).toBe(CODE);
      expect(up.limits).toEqual({ timeout: 60000, memory: 128, logs: 10, concurrency: 1 });
      expect(up.parameters).toEqual([{ key: 'p', value: 1 }]);
      const up2 = expectOk(await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, { body: { parameters: [{ key: 'q', value: 2 }] } }));
      expect(up2.version).toBe('0.0.3');
      expect(up2.parameters).toEqual([{ key: 'q', value: 2 }]);
      expect(up2.limits.memory).toBe(128);
      const pinned = expectOk(await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, { body: { version: '2.0.0' } }));
      expect(pinned.version).toBe('2.0.0');
    });

    it('creates with overwrite=true when absent, and restarts the version after delete (25)', async () => {
      const name = s.uniq('recreate');
      expect(expectOk(await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, { body: { exec: nodeExec() } })).version).toBe('0.0.1');
      await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, { body: { exec: nodeExec() } });
      const deleted = expectOk(await s.call('DELETE', `/namespaces/_/actions/${name}`));
      expect(deleted).toMatchObject({ namespace: 'guest', name, version: '0.0.2', exec: { code: CODE } });
      expectError(await s.call('DELETE', `/namespaces/_/actions/${name}`), 404, NOT_FOUND);
      expectError(await s.call('GET', `/namespaces/_/actions/${name}`), 404, NOT_FOUND);
      expect((await s.createAction('_', name)).version).toBe('0.0.1');
    });

    it('resolves <family>:default and lower-cases the kind (14); refuses unknown kinds (15)', async () => {
      const name = s.uniq('kind');
      const a = await s.createAction('_', name, { exec: nodeExec('NodeJS:Default') });
      expect(a.exec.kind).toBe('nodejs:20');
      expect(kv(a.annotations).exec).toBe('nodejs:20');
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${name}`)).exec.kind).toBe('nodejs:20');
      const bad = await s.call('PUT', `/namespaces/_/actions/${s.uniq('kind')}`, { body: { exec: nodeExec('cobol:1') } });
      expectError(bad, 400, /The specified runtime 'cobol:1' is not supported by this platform\. Valid values are: .*nodejs:20/);
    });

    it('keeps the last of duplicate keys and the init and encryption flags', async () => {
      const a = await s.createAction('_', s.uniq('dup'), {
        parameters: [
          { key: 'a', value: 1 },
          { key: 'b', value: { deep: [1] }, init: true },
          { key: 'a', value: 2 },
          { key: 'c', value: 'x', encryption: 'aes-256' },
        ],
      });
      expect(a.parameters).toEqual([
        { key: 'b', value: { deep: [1] }, init: true },
        { key: 'a', value: 2 },
        { key: 'c', value: 'x', encryption: 'aes-256' },
      ]);
    });

    it('answers compact JSON', async () => {
      const res = await s.call('PUT', `/namespaces/_/actions/${s.uniq('compact')}`, { body: { exec: nodeExec() } });
      expectOk(res);
      expect(res.text).toBe(JSON.stringify(res.body));
    });

    it('refuses code over 48 MB with 413', async () => {
      const code = 'x'.repeat(48 * 1024 * 1024 + 1);
      const res = await s.call('PUT', `/namespaces/_/actions/${s.uniq('huge')}`, { body: { exec: { kind: 'nodejs:20', code } } });
      expectError(res, 413, `exec larger than allowed: ${code.length} > ${48 * 1024 * 1024} bytes.`);
    });

    it('settles concurrent updates of one action as 200s or 409s, never a lost or failed write', async () => {
      const name = s.uniq('race');
      await s.createAction('_', name);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, { body: { parameters: [{ key: 'i', value: i }] } }),
        ),
      );
      const ok = results.filter((r) => r.status === 200);
      for (const r of results.filter((r) => r.status !== 200)) expectError(r, 409, 'Concurrent modification to resource detected.');
      expect(ok.length).toBeGreaterThanOrEqual(1);
      // Every write that answered 200 bumped the version once: none was silently overwritten.
      const final = expectOk(await s.call('GET', `/namespaces/_/actions/${name}`));
      expect(final.version).toBe(`0.0.${1 + ok.length}`);
      expect(ok.map((r) => r.body.version).sort()).toEqual(Array.from({ length: ok.length }, (_, i) => `0.0.${2 + i}`).sort());
    });

    it('computes exec.binary from the code', async () => {
      const a = await s.createAction('_', s.uniq('bin'), { exec: { kind: 'nodejs:20', code: Buffer.from('PK zip bytes!').toString('base64') } });
      expect(a.exec.binary).toBe(true);
      expect((await s.createAction('_', s.uniq('bin'), { exec: { kind: 'nodejs:20', code: 'abcd' } })).exec.binary).toBe(true);
      expect((await s.createAction('_', s.uniq('bin'))).exec.binary).toBe(false);
    });

    it('needs exec on create and refuses malformed exec', async () => {
      const path = () => `/namespaces/_/actions/${s.uniq('noexec')}`;
      expectError(await s.call('PUT', path(), { body: {} }), 400, 'exec undefined');
      expectError(await s.call('PUT', path(), { body: { exec: 'nodejs' } }), 400);
      expectError(await s.call('PUT', path(), { body: { exec: { kind: 'nodejs:20' } } }), 400);
      expectError(await s.call('PUT', path(), { body: { exec: { kind: 'nodejs:20', code: 42 } } }), 400);
      expectError(await s.call('PUT', path(), { body: { exec: { kind: 'blackbox' } } }), 400);
      expectError(await s.call('PUT', path(), { body: { exec: { kind: 42, code: CODE } } }), 400, /is not supported by this platform/);
    });

    it('stores a docker action', async () => {
      const a = await s.createAction('_', s.uniq('docker'), { exec: { kind: 'blackbox', image: 'org/img:tag' } });
      expect(a.exec).toEqual({ kind: 'blackbox', image: 'org/img:tag', binary: false });
    });

    it('omits exec.code with code=false, includes it by default (16)', async () => {
      const name = s.uniq('code');
      await s.createAction('_', name, { exec: { kind: 'nodejs:20', code: CODE, main: 'run' } });
      const without = expectOk(await s.call('GET', `/namespaces/_/actions/${name}?code=false`));
      expect(without.exec).toEqual({ kind: 'nodejs:20', binary: false, main: 'run' });
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${name}?code=true`)).exec.code).toBe(CODE);
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${name}`)).exec.code).toBe(CODE);
    });

    it('merges annotations on update (17) and removes delAnnotations keys (18)', async () => {
      const name = s.uniq('merge');
      await s.createAction('_', name, { annotations: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'web-export', value: true }] });
      const up = expectOk(
        await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, { body: { annotations: [{ key: 'b', value: 3 }, { key: 'c', value: 4 }] } }),
      );
      expect(kv(up.annotations)).toEqual({ a: 1, b: 3, c: 4, 'web-export': true, 'provide-api-key': false, exec: 'nodejs:20' });
      const del = expectOk(
        await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, {
          body: { exec: nodeExec(), delAnnotations: ['a', 'web-export', 'not-there'] },
        }),
      );
      expect(kv(del.annotations)).toEqual({ b: 3, c: 4, 'provide-api-key': false, exec: 'nodejs:20' });
    });

    it('validates limits (19)', async () => {
      const put = (limits: unknown) => s.call('PUT', `/namespaces/_/actions/${s.uniq('lim')}`, { body: { exec: nodeExec(), limits } });
      expectError(await put({ timeout: 50 }), 400, 'duration 50 milliseconds below allowed threshold of 100 milliseconds');
      expectError(await put({ timeout: 300001 }), 400, 'duration 300001 milliseconds exceeds allowed threshold of 300000 milliseconds');
      expectError(await put({ memory: 1024 }), 400, 'memory size 1024 MB exceeds allowed threshold of 512 MB');
      expectError(await put({ logs: 11 }), 400, 'log size 11 MB exceeds allowed threshold of 10 MB');
      expectError(await put({ concurrency: 2 }), 400, 'concurrency 2 exceeds allowed threshold of 1');
      expectError(await put({ timeout: 1000.5 }), 400, /whole number/);
      expectError(await put({ memory: '256' }), 400, /whole number/);
      expectError(await put([1]), 400);
      const ok = expectOk(await put({ timeout: 100, memory: 512, logs: 0 }));
      expect(ok.limits).toEqual({ timeout: 100, memory: 512, logs: 0, concurrency: 1 });
    });

    it('reports a name taken by another collection as 409 (22)', async () => {
      const name = s.uniq('taken');
      await s.createAction('_', name);
      expectError(await s.call('PUT', `/namespaces/_/triggers/${name}`, { body: {} }), 409, 'Resource by this name exists but is not in this collection.');
      expectError(await s.call('PUT', `/namespaces/_/packages/${name}`, { body: {} }), 409, 'Resource by this name exists but is not in this collection.');
      expectError(await s.call('GET', `/namespaces/_/rules/${name}`), 409, 'Resource by this name exists but is not in this collection.');
      const pkg = s.uniq('takenpkg');
      await s.put(`/namespaces/_/packages/${pkg}`, {});
      expectError(await s.call('GET', `/namespaces/_/actions/${pkg}`), 409, 'Resource by this name exists but is not in this collection.');
      expectError(await s.call('DELETE', `/namespaces/_/actions/${pkg}`), 409, 'Resource by this name exists but is not in this collection.');
      expectError(await s.call('PUT', `/namespaces/_/actions/${pkg}`, { body: { exec: nodeExec() } }), 409);
    });

    it('creates actions in a package, not in a missing one', async () => {
      const pkg = s.uniq('apkg');
      await s.put(`/namespaces/_/packages/${pkg}`, {});
      const a = await s.createAction('_', `${pkg}/hello`);
      expect(a).toMatchObject({ namespace: `guest/${pkg}`, name: 'hello' });
      expect(expectOk(await s.call('GET', `/namespaces/guest/actions/${pkg}/hello`)).namespace).toBe(`guest/${pkg}`);
      expectError(await s.call('PUT', `/namespaces/_/actions/${s.uniq('nopkg')}/hello`, { body: { exec: nodeExec() } }), 404);
      expectError(await s.call('GET', `/namespaces/_/actions/${s.uniq('nopkg')}/hello`), 404);
      expectError(await s.call('GET', `/namespaces/_/actions/${pkg}/nope`), 404, NOT_FOUND);
      expect(expectOk(await s.call('DELETE', `/namespaces/_/actions/${pkg}/hello`)).namespace).toBe(`guest/${pkg}`);
    });

    it('decodes percent-encoded names', async () => {
      const name = `${s.uniq('sp')} x@y.z&w`;
      const a = expectOk(await s.call('PUT', `/namespaces/_/actions/${encodeURIComponent(name)}`, { body: { exec: nodeExec() } }));
      expect(a.name).toBe(name);
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${encodeURIComponent(name)}`)).name).toBe(name);
    });
  });

  describe('action lists', () => {
    it('lists packaged actions too (27), newest first, as summaries (28)', async () => {
      const pkg = s.uniq('lpkg');
      await s.put(`/namespaces/_/packages/${pkg}`, {});
      const loose = s.uniq('loose');
      await s.createAction('_', loose, { parameters: [{ key: 'secret', value: 1 }] });
      await nextMillisecond();
      await s.createAction('_', `${pkg}/inner`);
      const list = expectOk(await s.call('GET', '/namespaces/_/actions?limit=0'));
      const names = list.map((a: any) => `${a.namespace}/${a.name}`);
      expect(names.indexOf(`guest/${pkg}/inner`)).toBeGreaterThanOrEqual(0);
      expect(names.indexOf(`guest/${pkg}/inner`)).toBeLessThan(names.indexOf(`guest/${loose}`));
      const item = list.find((a: any) => a.name === loose);
      expect(Object.keys(item).sort()).toEqual(['annotations', 'exec', 'limits', 'name', 'namespace', 'publish', 'updated', 'version']);
      expect(item.exec).toEqual({ binary: false });
      for (let i = 1; i < list.length; i++) expect(list[i - 1].updated).toBeGreaterThanOrEqual(list[i].updated);
      const inPkg = expectOk(await s.call('GET', `/namespaces/_/actions/${pkg}/`));
      expect(inPkg.map((a: any) => `${a.namespace}/${a.name}`)).toEqual([`guest/${pkg}/inner`]);
      expectError(await s.call('GET', `/namespaces/_/actions/${s.uniq('nopkg')}/`), 404);
    });

    it('honours limit (default 30, 0 = 200), skip and count (26)', async () => {
      const pkg = s.uniq('many');
      await s.put(`/namespaces/_/packages/${pkg}`, {});
      const made: string[] = [];
      for (let i = 0; i < 33; i++) {
        const a = await s.createAction('_', `${pkg}/a${i}`);
        made.push(a.name);
        await nextMillisecond();
      }
      const newestFirst = [...made].reverse();
      const names = async (q: string) => expectOk(await s.call('GET', `/namespaces/_/actions/${pkg}/${q}`)).map((a: any) => a.name);
      expect(await names('')).toEqual(newestFirst.slice(0, 30));
      expect(await names('?limit=0')).toEqual(newestFirst);
      expect(await names('?limit=200&skip=0')).toEqual(newestFirst);
      expect(await names('?limit=5&skip=2')).toEqual(newestFirst.slice(2, 7));
      expect(await names('?skip=40')).toEqual([]);
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${pkg}/?count=true`))).toEqual({ actions: 33 });
      const all = expectOk(await s.call('GET', '/namespaces/_/actions?count=true'));
      expect(all.actions).toBeGreaterThanOrEqual(33);
      expect(Object.keys(all)).toEqual(['actions']);
    });
  });

  describe('sequences (63)', () => {
    it('stores a sequence with fully qualified components and _actions', async () => {
      const a = s.uniq('sa');
      await s.createAction('_', a);
      const seq = await s.createAction('_', s.uniq('seq'), { exec: { kind: 'sequence', components: [`/_/${a}`, `/guest/${a}`] }, parameters: [{ key: 'p', value: 1 }] });
      expect(seq.exec).toEqual({ kind: 'sequence', components: [`/guest/${a}`, `/guest/${a}`] });
      expect(seq.parameters).toEqual([{ key: '_actions', value: [`/guest/${a}`, `/guest/${a}`] }]);
      expect(kv(seq.annotations).exec).toBe('sequence');
    });

    it('resets parameters when a sequence becomes a code action', async () => {
      const a = s.uniq('sa');
      await s.createAction('_', a);
      const name = s.uniq('seq2code');
      await s.createAction('_', name, { exec: { kind: 'sequence', components: [`/_/${a}`] } });
      const up = expectOk(await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, { body: { exec: nodeExec() } }));
      expect(up.parameters).toEqual([]);
      expect(up.exec).toEqual({ kind: 'nodejs:20', code: CODE, binary: false });
      expect(kv(up.annotations).exec).toBe('nodejs:20');
    });

    it('refuses missing, self-referencing, empty and unqualified components', async () => {
      const name = s.uniq('seqbad');
      const put = (components: unknown, n = name) => s.call('PUT', `/namespaces/_/actions/${n}`, { body: { exec: { kind: 'sequence', components } } });
      expectError(await put([`/_/${s.uniq('ghost')}`]), 400, 'Sequence component does not exist.');
      expectError(await put([`/_/${name}`]), 400, 'Sequence may not refer to itself.');
      expectError(await put([]), 400, 'No component specified for the sequence.');
      expectError(await put(['bare']), 400, /must contain at least the namespace and the name of the entity/);
      expectError(await put('x'), 400);
      const other = s.uniq('seqother');
      await s.createAction('other', other, {}, s.running.other);
      expectError(await put([`/other/${other}`]), 403);
      // A cycle through a nested sequence.
      const inner = s.uniq('inner');
      const leaf = s.uniq('leaf');
      await s.createAction('_', leaf);
      const outer = s.uniq('outer');
      await s.createAction('_', inner, { exec: { kind: 'sequence', components: [`/_/${leaf}`] } });
      await s.createAction('_', outer, { exec: { kind: 'sequence', components: [`/_/${inner}`] } });
      const loop = await s.call('PUT', `/namespaces/_/actions/${inner}?overwrite=true`, { body: { exec: { kind: 'sequence', components: [`/_/${outer}`] } } });
      expectError(loop, 400, 'Sequence may not refer to itself.');
    });
  });
}
