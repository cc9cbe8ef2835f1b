import { describe, expect, it } from 'vitest';
import { AdminService, authString } from '../../src/admin/admin-service.js';
import { http } from '../support/controller-harness.js';
import { expectError, expectOk, forbiddenText, NOT_FOUND, type ApiSession } from './api-support.js';

const REALM = 'Basic realm="OpenWhisk secure realm"';
const NO_AUTH = 'The resource requires authentication, which was not supplied with the request';
const BAD_AUTH = 'The supplied authentication is invalid';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

/** Checklist 1–9: credentials, the error body, request ids, namespaces, limits, CORS, /api/v1. */
export function describeAuthAndMeta(s: ApiSession): void {
  describe('authentication', () => {
    const expect401 = (res: Awaited<ReturnType<ApiSession['call']>>, message: string) => {
      expectError(res, 401, message);
      expect(res.headers.get('www-authenticate')).toBe(REALM);
    };

    it('refuses a request without Authorization (1)', async () => {
      expect401(await s.call('GET', '/namespaces', { auth: false }), NO_AUTH);
      expect401(await s.call('GET', '/namespaces/_/actions', { auth: false }), NO_AUTH);
    });

    it('refuses an unknown key, a 63- or 65-character secret and a wrong secret (2)', async () => {
      const [uuid, key] = s.running.guest.split(':');
      expect(key).toHaveLength(64);
      const wrong = key.slice(0, 63) + (key.endsWith('a') ? 'b' : 'a');
      for (const creds of [
        `00000000-0000-0000-0000-000000000000:${key}`,
        `${uuid}:${key.slice(0, 63)}`,
        `${uuid}:${key}x`,
        `${uuid}:${wrong}`,
        `:${key}`,
        `${uuid}x:${key}`,
      ]) {
        expect401(await s.call('GET', '/namespaces', { auth: creds }), BAD_AUTH);
      }
    });

    it('refuses malformed Authorization headers', async () => {
      for (const header of ['Bearer abc', 'Basic', 'Basic !!!!', basic('no-colon-here'), 'Digest username="x"']) {
        const res = await s.call('GET', '/namespaces', { auth: false, headers: { authorization: header } });
        expect(res.status, header).toBe(401);
        expect401(res, BAD_AUTH);
      }
    });

    it('refuses a blocked subject and a deleted key', async () => {
      const admin = new AdminService(s.running.store);
      const key = authString(await admin.createUser('blocky-subject', { namespace: 'blocky' }));
      expect(expectOk(await s.call('GET', '/namespaces', { auth: key }))).toEqual(['blocky']);
      await admin.setBlocked('blocky-subject', true);
      expect401(await s.call('GET', '/namespaces', { auth: key }), BAD_AUTH);
      await admin.setBlocked('blocky-subject', false);
      expectOk(await s.call('GET', '/namespaces', { auth: key }));
      await admin.deleteUser('blocky-subject');
      expect401(await s.call('GET', '/namespaces', { auth: key }), BAD_AUTH);
    });

    it("accepts the other namespace's key for its own namespace", async () => {
      expect(expectOk(await s.asOther('GET', '/namespaces'))).toEqual(['other']);
    });
  });

  describe('request ids and error bodies (5)', () => {
    it('gives every answer an X-Request-ID and uses it as the error code', async () => {
      const ok = await s.call('GET', '/namespaces');
      expect(ok.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9]{32}$/);
      const missing = await s.call('GET', '/namespaces/_/actions/nope');
      expectError(missing, 404, NOT_FOUND);
      expect(missing.body.code).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(missing.body.code).not.toBe(ok.headers.get('x-request-id'));
    });

    it("reuses the caller's X-Request-ID, except one starting with sid_", async () => {
      const mine = await s.call('GET', '/namespaces/_/actions/nope', { headers: { 'x-request-id': 'my-trace-0001' } });
      expect(mine.headers.get('x-request-id')).toBe('my-trace-0001');
      expectError(mine, 404);
      expect(mine.body.code).toBe('my-trace-0001');
      const unauth = await s.call('GET', '/namespaces', { auth: false, headers: { 'x-request-id': 'my-trace-0002' } });
      expectError(unauth, 401);
      expect(unauth.body.code).toBe('my-trace-0002');
      const sid = await s.call('GET', '/namespaces', { headers: { 'x-request-id': 'sid_session123' } });
      expect(sid.headers.get('x-request-id')).not.toBe('sid_session123');
      expect(sid.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9]{32}$/);
    });

    it('wraps an unknown route into the error body', async () => {
      expectError(await s.call('GET', '/namespaces/_/nothing-here'), 404);
      expectError(await s.call('GET', '/no/such/route', { auth: false }), 404);
    });
  });

  describe('API description and system info', () => {
    it('describes /api/v1 without credentials', async () => {
      for (const path of ['/api/v1', '/api/v1/']) {
        const res = await http(s.running.baseUrl, 'GET', path);
        const body = expectOk(res);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(body).toMatchObject({
          description: 'OpenWhisk API',
          api_version: '1.0.0',
          api_version_path: 'v1',
          swagger_paths: { ui: '/docs', 'api-docs': '/api-docs' },
        });
        expect(typeof body.build).toBe('string');
        expect(typeof body.buildno).toBe('string');
      }
    });

    it('answers /ping and / without credentials', async () => {
      const ping = await http(s.running.baseUrl, 'GET', '/ping');
      expect(ping.status).toBe(200);
      expect(ping.text).toBe('pong');
      const info = expectOk(await http(s.running.baseUrl, 'GET', '/'));
      expect(info.limits).toMatchObject({ min_action_duration: 100, max_action_duration: 300000, sequence_length: 50 });
      expect(info.runtimes.nodejs).toContainEqual({ kind: 'nodejs:20', default: true });
    });
  });

  describe('namespaces (3, 4, 6)', () => {
    it("lists the caller's one namespace", async () => {
      const res = await s.call('GET', '/namespaces');
      expect(expectOk(res)).toEqual(['guest']);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    });

    it('has no namespace entity endpoint', async () => {
      expectError(await s.call('GET', '/namespaces/guest'), 404);
      expectError(await s.call('GET', '/namespaces/_'), 404);
    });

    it('treats _ and the explicit own namespace as the same place', async () => {
      const name = s.uniq('same');
      await s.createAction('_', name);
      const viaExplicit = expectOk(await s.call('GET', `/namespaces/guest/actions/${name}`));
      expect(viaExplicit.namespace).toBe('guest');
      await s.put(`/namespaces/guest/triggers/${name}-t`, {});
      expect(expectOk(await s.call('GET', `/namespaces/_/triggers/${name}-t`)).namespace).toBe('guest');
      // Path segments are percent-decoded (the npm client encodes the namespace).
      expect(expectOk(await s.call('GET', `/namespaces/%67uest/actions/${name}?code=false`)).name).toBe(name);
      expect(expectOk(await s.call('DELETE', `/namespaces/_/actions/${name}`)).name).toBe(name);
      expectError(await s.call('GET', `/namespaces/guest/actions/${name}`), 404, NOT_FOUND);
    });

    it('refuses an illegal or over-long namespace in the path', async () => {
      expectError(await s.call('GET', '/namespaces/%24bad/actions'), 400, 'The namespace contains illegal characters.');
      const long = 'n'.repeat(257);
      expectError(await s.call('GET', `/namespaces/${long}/actions`), 400, 'Namespace longer than allowed: 257 > 256.');
    });
  });

  describe('limits', () => {
    it("shows the caller's limits", async () => {
      const limits = expectOk(await s.call('GET', '/namespaces/_/limits'));
      expect(limits).toMatchObject({
        minActionMemory: 128,
        maxActionMemory: 512,
        minActionLogs: 0,
        maxActionLogs: 10,
        minActionTimeout: 100,
        maxActionTimeout: 300000,
        minActionConcurrency: 1,
        maxActionConcurrency: 1,
        maxParameterSize: '1048576 B',
      });
      for (const k of ['invocationsPerMinute', 'concurrentInvocations', 'firesPerMinute']) expect(Number.isInteger(limits[k])).toBe(true);
      expect(expectOk(await s.call('GET', '/namespaces/guest/limits'))).toEqual(limits);
    });

    it("refuses another namespace's limits", async () => {
      expectError(await s.call('GET', '/namespaces/other/limits'), 403, forbiddenText('other'));
    });
  });

  describe('CORS (9)', () => {
    it('answers OPTIONS on any API path with 200 and CORS headers, without credentials', async () => {
      for (const path of ['/api/v1/namespaces/_/actions/x', '/api/v1/namespaces', '/api/v1/web/guest/default/x.json']) {
        const res = await http(s.running.baseUrl, 'OPTIONS', path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(res.headers.get('access-control-allow-methods')).toBe('GET, DELETE, POST, PUT, HEAD');
        expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
      }
    });

    it('puts CORS headers on ordinary answers and refusals', async () => {
      expect((await s.call('GET', '/namespaces')).headers.get('access-control-allow-origin')).toBe('*');
      expect((await s.call('GET', '/namespaces', { auth: false })).headers.get('access-control-allow-origin')).toBe('*');
    });
  });
}
