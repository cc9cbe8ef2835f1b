import { beforeAll, describe, expect, it } from 'vitest';
import { AdminService, authString } from '../../src/admin/admin-service.js';
import type { ActivationDoc } from '../../src/entities/documents.js';
import { expectError, expectOk, forbiddenText, type ApiSession } from './api-support.js';

const T0 = 1_717_000_000_000;
const hex = (n: number) => n.toString(16).padStart(32, '0');
const LOG = '2024-05-29T12:00:01.012345678Z stdout: computing';

/** An action activation as the invoker would store it. */
function record(ns: string, n: number, over: Partial<ActivationDoc> = {}): ActivationDoc {
  const start = T0 + n * 1000;
  return {
    namespace: ns,
    name: 'hello',
    version: '0.0.1',
    subject: `${ns}-subject`,
    publish: false,
    activationId: hex(n),
    start,
    end: start + 45,
    duration: 45,
    response: { statusCode: 0, result: { msg: 'hi' }, size: 12 },
    logs: [LOG],
    annotations: [
      { key: 'path', value: `${ns}/hello` },
      { key: 'kind', value: 'nodejs:20' },
    ],
    entityPaths: ['hello'],
    ...over,
  };
}

/**
 * Checklist 45–47 and the list filters. Records go straight into the store (nothing runs actions
 * yet) under a namespace of their own, so counts and order are exact.
 */
export function describeActivations(s: ApiSession): void {
  describe('activations', () => {
    let key: string;
    const ns = 'acts';
    const A = record(ns, 1);
    const B = record(ns, 2, {
      name: 'inpkg',
      entityPaths: ['pkg/inpkg'],
      response: { statusCode: 1, result: { error: 'x' }, size: 13 },
    });
    const C = record(ns, 3, { name: 'inpkg', entityPaths: ['pkg/inpkg', 'bind/inpkg'], cause: hex(99) });
    // A trigger activation: no end, no duration, the fire payload as result, status spelled out.
    const D = record(ns, 4, {
      name: 'trig',
      end: 0,
      duration: undefined,
      annotations: [],
      response: { statusCode: 0, status: 'success', success: true, result: { place: 'DC' } },
      logs: ['{"statusCode":0,"success":true,"activationId":"x","rule":"acts/r","action":"acts/hello"}'],
      entityPaths: ['trig'],
    });
    const G = record('guest', 5);
    const call = (path: string) => s.call('GET', path, { auth: key });
    const ids = async (query: string) => expectOk(await call(`/namespaces/_/activations${query}`)).map((a: any) => a.activationId);

    beforeAll(async () => {
      const admin = new AdminService(s.running.store);
      key = authString(await admin.createUser('acts-subject', { namespace: ns }));
      await s.running.store.putActivations([A, B, C, D, G]);
    });

    it('lists summaries newest first', async () => {
      const list = expectOk(await call('/namespaces/_/activations'));
      expect(list.map((a: any) => a.activationId)).toEqual([D, C, B, A].map((r) => r.activationId));
      expect(list[3]).toEqual({
        namespace: ns,
        name: 'hello',
        version: '0.0.1',
        publish: false,
        annotations: A.annotations,
        activationId: A.activationId,
        start: A.start,
        end: A.end,
        duration: 45,
        statusCode: 0,
      });
      expect(list[2].statusCode).toBe(1);
      expect(list[1].cause).toBe(hex(99));
      expect(Object.keys(list[0]).sort()).toEqual(['activationId', 'annotations', 'name', 'namespace', 'publish', 'start', 'version']);
      expect(expectOk(await s.call('GET', `/namespaces/acts/activations`, { auth: key }))).toEqual(list);
    });

    it('pages with limit and skip and validates them', async () => {
      expect(await ids('?limit=2')).toEqual([hex(4), hex(3)]);
      expect(await ids('?limit=2&skip=1')).toEqual([hex(3), hex(2)]);
      expect(await ids('?limit=0&skip=3')).toEqual([hex(1)]);
      expect(await ids('?skip=10')).toEqual([]);
      expectError(await call('/namespaces/_/activations?limit=201'), 400, "The value '201' is not in the range of 0 to 200 for activations.");
      expectError(await call('/namespaces/_/activations?skip=-1'), 400, "The value '-1' is not greater than or equal to 0 for activations.");
      expectError(await call('/namespaces/_/activations?limit=x'), 400, "The value 'x' is not an integer for activations.");
    });

    it('filters by name, since and upto (47)', async () => {
      expect(await ids('?name=hello')).toEqual([hex(1)]);
      expect(await ids('?name=pkg/inpkg')).toEqual([hex(3), hex(2)]);
      expect(await ids('?name=bind/inpkg')).toEqual([hex(3)]);
      expect(await ids('?name=nothing')).toEqual([]);
      expect(await ids(`?since=${T0 + 2000}`)).toEqual([hex(4), hex(3), hex(2)]);
      expect(await ids(`?upto=${T0 + 2000}`)).toEqual([hex(2), hex(1)]);
      expect(await ids(`?since=${T0 + 1500}&upto=${T0 + 3500}`)).toEqual([hex(3), hex(2)]);
      expect(await ids(`?name=pkg/inpkg&since=${T0 + 2500}`)).toEqual([hex(3)]);
      expectError(await call('/namespaces/_/activations?since=x'), 400, 'Parameter is not a valid value for epoch seconds: x');
      expectError(await call('/namespaces/_/activations?upto=-5'), 400, 'Parameter is not a valid value for epoch seconds: -5');
      expectError(await call('/namespaces/_/activations?since=99999999999999999999'), 400);
      expectError(await call('/namespaces/_/activations?skip=99999999999999999999'), 400);
      expectError(await call('/namespaces/_/activations?name=a/b/c'), 400);
      expectError(await call('/namespaces/_/activations?name=%24x'), 400);
    });

    it('counts, and returns full records with docs=true, never both', async () => {
      expect(expectOk(await call('/namespaces/_/activations?count=true'))).toEqual({ activations: 4 });
      expect(expectOk(await call('/namespaces/_/activations?count=true&name=pkg/inpkg'))).toEqual({ activations: 2 });
      expect(expectOk(await call(`/namespaces/_/activations?count=true&since=${T0 + 4000}`))).toEqual({ activations: 1 });
      const docs = expectOk(await call('/namespaces/_/activations?docs=true&limit=4'));
      expect(docs.map((a: any) => a.activationId)).toEqual([hex(4), hex(3), hex(2), hex(1)]);
      expect(docs[3].response).toEqual({ status: 'success', success: true, result: { msg: 'hi' }, size: 12 });
      expect(docs[3].logs).toEqual([LOG]);
      expect(docs[3]).not.toHaveProperty('entityPaths');
      expect(docs[0]).not.toHaveProperty('end');
      expectError(await call('/namespaces/_/activations?docs=true&count=true'), 400, "The parameter 'docs' is not permitted with 'count'.");
    });

    it('gets one record without internal fields or response.statusCode', async () => {
      expect(expectOk(await call(`/namespaces/_/activations/${A.activationId}`))).toEqual({
        namespace: ns,
        name: 'hello',
        version: '0.0.1',
        subject: `${ns}-subject`,
        publish: false,
        activationId: A.activationId,
        start: A.start,
        end: A.end,
        duration: 45,
        response: { status: 'success', success: true, result: { msg: 'hi' }, size: 12 },
        logs: [LOG],
        annotations: A.annotations,
      });
      const b = expectOk(await call(`/namespaces/acts/activations/${B.activationId}`));
      expect(b.response).toEqual({ status: 'application error', success: false, result: { error: 'x' }, size: 13 });
      const d = expectOk(await call(`/namespaces/_/activations/${D.activationId}`));
      expect(d).not.toHaveProperty('end');
      expect(d).not.toHaveProperty('duration');
      expect(d.response).toEqual({ status: 'success', success: true, result: { place: 'DC' } });
      expect(d.annotations).toEqual([]);
    });

    it('serves result and logs (46)', async () => {
      expect(expectOk(await call(`/namespaces/_/activations/${A.activationId}/result`))).toEqual({
        result: { msg: 'hi' },
        success: true,
        status: 'success',
        size: 12,
      });
      expect(expectOk(await call(`/namespaces/_/activations/${B.activationId}/result`))).toEqual({
        result: { error: 'x' },
        success: false,
        status: 'application error',
        size: 13,
      });
      expect(expectOk(await call(`/namespaces/_/activations/${A.activationId}/logs`))).toEqual({ logs: [LOG] });
      expect(expectOk(await call(`/namespaces/_/activations/${D.activationId}/logs`))).toEqual({ logs: D.logs });
    });

    it('refuses bad ids with 400 and unknown ones with 404 (45)', async () => {
      expectError(await call('/namespaces/_/activations/abc'), 400, 'Activation id length is 3 but must be 32.');
      expectError(await call(`/namespaces/_/activations/${'A'.repeat(32)}`), 400, 'The activation id is not valid.');
      expectError(await call(`/namespaces/_/activations/${'g'.repeat(32)}/logs`), 400, 'The activation id is not valid.');
      for (const tail of ['', '/logs', '/result']) {
        expectError(await call(`/namespaces/_/activations/${hex(12345)}${tail}`), 404, 'The requested resource does not exist.');
      }
      expectError(await call(`/namespaces/_/activations/${A.activationId}/more`), 404);
    });

    it('caps a list at 200, also for limit=0', async () => {
      const admin = new AdminService(s.running.store);
      const bulkKey = authString(await admin.createUser('bulk-subject', { namespace: 'bulk' }));
      await s.running.store.putActivations(Array.from({ length: 205 }, (_, i) => record('bulk', 1000 + i)));
      const get = async (q: string) => expectOk(await s.call('GET', `/namespaces/_/activations${q}`, { auth: bulkKey }));
      expect(await get('?count=true')).toEqual({ activations: 205 });
      expect(await get('')).toHaveLength(30);
      const all = await get('?limit=0');
      expect(all).toHaveLength(200);
      expect(all[0].activationId).toBe(hex(1204));
      expect(await get('?limit=200&skip=200')).toHaveLength(5);
    });

    it('shows records only in the namespace that was charged', async () => {
      expectError(await call(`/namespaces/_/activations/${G.activationId}`), 404);
      expect(expectOk(await s.call('GET', `/namespaces/_/activations/${G.activationId}`)).namespace).toBe('guest');
      expectError(await s.call('GET', `/namespaces/_/activations/${A.activationId}`), 404);
      expectError(await s.call('GET', '/namespaces/acts/activations'), 403, forbiddenText('acts'));
      expectError(await s.call('GET', `/namespaces/acts/activations/${A.activationId}`), 403);
      expectError(await s.call('GET', `/namespaces/acts/activations/${A.activationId}/result`), 403);
      expectError(await call('/namespaces/guest/activations?count=true'), 403, forbiddenText('guest'));
    });
  });
}
