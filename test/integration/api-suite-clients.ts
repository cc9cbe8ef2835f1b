import { describe, expect, it } from 'vitest';
import { CODE, expectError, expectOk, type ApiSession } from './api-support.js';

/** wsk 1.2.0 bodies: compact JSON plus a newline (Go's json.Encoder), see deploy/dev/WSK.md. */
const goJson = (body: unknown) => ({ rawBody: `${JSON.stringify(body)}\n` });

/** Requests exactly as `wsk` 1.2.0 sends them (deploy/dev/WSK.md), in the order a session would. */
export function describeClientRequests(s: ApiSession): void {
  describe('requests as wsk sends them', () => {
    it('action create, update (after a code=false GET), get, list, delete', async () => {
      const name = s.uniq('wsk');
      const body = { namespace: '_', name, exec: { kind: 'nodejs:default', code: CODE } };
      expectError(await s.call('GET', `/namespaces/_/actions/${name}?code=false`), 404);
      const created = expectOk(await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=false`, goJson(body)));
      expect(created).toMatchObject({ namespace: 'guest', name, version: '0.0.1', exec: { kind: 'nodejs:20' } });
      expectOk(await s.call('GET', `/namespaces/_/actions/${name}?code=false`));
      const updated = expectOk(await s.call('PUT', `/namespaces/_/actions/${name}?overwrite=true`, goJson(body)));
      expect(updated.version).toBe('0.0.2');
      const web = {
        namespace: '_',
        name: `${name}-web`,
        exec: { kind: 'nodejs:20', code: CODE },
        annotations: [
          { key: 'x', value: 'y' },
          { key: 'web-export', value: true },
          { key: 'raw-http', value: false },
          { key: 'final', value: true },
        ],
        parameters: [{ key: 'a', value: 'b' }],
        limits: { timeout: 3000, memory: 128 },
      };
      const w = expectOk(await s.call('PUT', `/namespaces/_/actions/${name}-web?overwrite=false`, goJson(web)));
      expect(w.limits).toEqual({ timeout: 3000, memory: 128, logs: 10, concurrency: 1 });
      const list = expectOk(await s.call('GET', '/namespaces/_/actions?limit=30&skip=0'));
      expect(list.map((a: any) => a.name)).toEqual(expect.arrayContaining([name, `${name}-web`]));
      expect(expectOk(await s.call('DELETE', `/namespaces/_/actions/${name}`)).name).toBe(name);
    });

    it('trigger create, rule create, disable, enable; package bind; namespace get', async () => {
      const t = s.uniq('wskt');
      const a = s.uniq('wska');
      const r = s.uniq('wskr');
      await s.createAction('_', a);
      const trig = expectOk(await s.call('PUT', `/namespaces/_/triggers/${t}?overwrite=false`, goJson({ name: t, parameters: [{ key: 'a', value: 1 }] })));
      expect(trig.parameters).toEqual([{ key: 'a', value: 1 }]);
      const feed = { name: `${t}-feed`, annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }] };
      expectOk(await s.call('PUT', `/namespaces/_/triggers/${t}-feed?overwrite=false`, goJson(feed)));
      const rule = expectOk(
        await s.call('PUT', `/namespaces/_/rules/${r}?overwrite=false`, goJson({ name: r, status: '', trigger: `/_/${t}`, action: `/_/${a}` })),
      );
      expect(rule.status).toBe('active');
      expectOk(await s.call('POST', `/namespaces/_/rules/${r}`, goJson({ status: 'inactive', trigger: null, action: null })));
      expect(expectOk(await s.call('GET', `/namespaces/_/rules/${r}`)).status).toBe('inactive');
      expectOk(await s.call('POST', `/namespaces/_/rules/${r}`, goJson({ status: 'active', trigger: null, action: null })));
      expect(expectOk(await s.call('GET', `/namespaces/_/rules/${r}`)).status).toBe('active');

      const pkg = s.uniq('wskp');
      await s.put(`/namespaces/_/packages/${pkg}`, { publish: true });
      const bound = expectOk(await s.call('PUT', `/namespaces/_/packages/${pkg}-b?overwrite=false`, goJson({ binding: { namespace: 'guest', name: pkg } })));
      expect(bound.binding).toEqual({ namespace: 'guest', name: pkg });

      for (const c of ['actions', 'packages', 'triggers', 'rules']) {
        expect(Array.isArray(expectOk(await s.call('GET', `/namespaces/_/${c}?limit=0&skip=0`)))).toBe(true);
      }
      expect(Array.isArray(expectOk(await s.call('GET', '/namespaces/_/activations?limit=30&skip=0')))).toBe(true);
    });
  });

  describe('requests as the openwhisk npm client sends them', () => {
    it('encodes the namespace, puts pkg/action unencoded, and creates rules from {action, trigger}', async () => {
      const pkg = s.uniq('npm');
      await s.put(`/namespaces/${encodeURIComponent('guest')}/packages/${pkg}`, {});
      const a = expectOk(
        await s.call('PUT', `/namespaces/guest/actions/${pkg}/act?overwrite=true`, {
          body: { exec: { kind: 'nodejs:default', code: CODE }, parameters: [{ key: 'p', value: 1 }] },
        }),
      );
      expect(a.namespace).toBe(`guest/${pkg}`);
      const t = s.uniq('npmt');
      await s.put(`/namespaces/guest/triggers/${t}`, {});
      const rule = expectOk(
        await s.call('PUT', `/namespaces/guest/rules/${s.uniq('npmr')}`, { body: { action: `/guest/${pkg}/act`, trigger: `/guest/${t}` } }),
      );
      expect(rule.action).toEqual({ path: `guest/${pkg}`, name: 'act' });
    });
  });
}
