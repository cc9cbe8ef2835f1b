import { describe, expect, it } from 'vitest';
import { bigParameters, expectError, expectOk, forbiddenText, MALFORMED, nodeExec, type ApiSession } from './api-support.js';

const COLLECTIONS = ['actions', 'triggers', 'rules', 'packages'] as const;

/** Bodies each collection accepts on create, so a test can vary one thing at a time. */
const validBody = (collection: (typeof COLLECTIONS)[number]) => (collection === 'actions' ? { exec: nodeExec() } : {});

/**
 * Malformed and hostile requests: every refusal is a 4xx with OpenWhisk's error body, never a 500.
 * Checklist 20, 21, 24, 26, 7, plus content types, unknown fields and other namespaces.
 */
export function describeBadInput(s: ApiSession): void {
  describe('bad input', () => {
    it('refuses malformed JSON with 400', async () => {
      for (const c of COLLECTIONS) {
        const res = await s.call('PUT', `/namespaces/_/${c}/${s.uniq('mal')}`, { rawBody: '{"exec": {' });
        expectError(res, 400, MALFORMED);
      }
      expectError(await s.call('POST', `/namespaces/_/rules/${s.uniq('mal')}`, { rawBody: '{status' }), 400, MALFORMED);
    });

    it('refuses bodies that are not objects', async () => {
      for (const c of COLLECTIONS) {
        for (const raw of ['[]', '"text"', '42']) {
          expectError(await s.call('PUT', `/namespaces/_/${c}/${s.uniq('arr')}`, { rawBody: raw }), 400);
        }
      }
    });

    it('refuses other content types with 415', async () => {
      for (const c of COLLECTIONS) {
        for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
          const res = await s.call('PUT', `/namespaces/_/${c}/${s.uniq('ct')}`, { rawBody: JSON.stringify(validBody(c)), contentType });
          expectError(res, 415);
        }
      }
    });

    it('accepts JSON with a charset and vendor +json types', async () => {
      const a = await s.call('PUT', `/namespaces/_/actions/${s.uniq('cs')}`, { body: validBody('actions'), contentType: 'application/json; charset=utf-8' });
      expectOk(a);
      expectOk(await s.call('PUT', `/namespaces/_/triggers/${s.uniq('cs')}`, { rawBody: '{}', contentType: 'application/vnd.api+json' }));
    });

    it('refuses illegal names (%24, leading or trailing punctuation) with 400 (20)', async () => {
      for (const c of COLLECTIONS) {
        for (const name of ['%24x', 'a%24', '-lead', 'trail%20', '%C3%A9t%C3%A9', 'a%00b']) {
          expectError(await s.call('GET', `/namespaces/_/${c}/${name}`), 400, 'The name of the entity contains illegal characters.');
          expectError(await s.call('PUT', `/namespaces/_/${c}/${name}`, { body: validBody(c) }), 400, 'The name of the entity contains illegal characters.');
        }
      }
      expectError(await s.call('GET', '/namespaces/_/actions/%24pkg/a'), 400, 'The name of the entity contains illegal characters.');
      expectError(await s.call('GET', '/namespaces/_/actions/pkg/%24a'), 400, 'The name of the entity contains illegal characters.');
      expectError(await s.call('DELETE', '/namespaces/_/actions/%24a'), 400);
      expectError(await s.call('POST', '/namespaces/_/actions/%24a', { body: {} }), 400);
      expectError(await s.call('POST', '/namespaces/_/triggers/%24a', { body: {} }), 400);
    });

    it('refuses 257-character names and accepts 256 (21)', async () => {
      for (const c of COLLECTIONS) {
        const long = 'n'.repeat(257);
        expectError(await s.call('PUT', `/namespaces/_/${c}/${long}`, { body: validBody(c) }), 400, 'Name segement longer than allowed: 257 > 256.');
        expectError(await s.call('GET', `/namespaces/_/${c}/${long}`), 400, 'Name segement longer than allowed: 257 > 256.');
      }
      const max = `${s.uniq('m')}`.padEnd(256, 'x');
      expect(expectOk(await s.call('PUT', `/namespaces/_/triggers/${max}`, { body: {} })).name).toBe(max);
    });

    it('refuses names far past the limit, and undecodable ones, with the same 400s', async () => {
      const huge = 'n'.repeat(3000);
      for (const path of [`/namespaces/_/triggers/${huge}`, `/namespaces/_/actions/${huge}`, `/namespaces/_/actions/pkg/${huge}`, `/namespaces/_/rules/${huge}`]) {
        expectError(await s.call('GET', path), 400, 'Name segement longer than allowed: 3000 > 256.');
      }
      expectError(await s.call('GET', `/namespaces/${huge}/triggers`), 400);
      for (const path of ['/namespaces/_/triggers/%E0%A4%A', '/namespaces/_/actions/%E0%A4%A', '/namespaces/_/actions/a%ZZ']) {
        const res = await s.call('GET', path);
        expectError(res, 400, 'The name of the entity contains illegal characters.');
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
      }
    });

    it('ignores unknown body fields, as the Go CLI sends them', async () => {
      const name = s.uniq('extra');
      const noise = { namespace: 'other', name: 'wrong', updated: 1, entityType: 'rule', status: 'x', error: 'e', code: 'c', rules: { x: 1 }, bogus: true };
      const a = expectOk(await s.call('PUT', `/namespaces/_/actions/${name}`, { body: { ...noise, exec: nodeExec() } }));
      expect(a).toMatchObject({ namespace: 'guest', name });
      expect(a.updated).toBeGreaterThan(1);
      for (const k of ['entityType', 'status', 'error', 'code', 'rules', 'bogus']) expect(a).not.toHaveProperty(k);
      const t = expectOk(await s.call('PUT', `/namespaces/_/triggers/${name}-t`, { body: noise }));
      expect(t).toMatchObject({ namespace: 'guest', name: `${name}-t` });
      for (const k of ['entityType', 'status', 'error', 'code', 'rules', 'bogus']) expect(t).not.toHaveProperty(k);
      const p = expectOk(await s.call('PUT', `/namespaces/_/packages/${name}-p`, { body: noise }));
      expect(p).toMatchObject({ namespace: 'guest', name: `${name}-p`, binding: {} });
      expect(p).not.toHaveProperty('bogus');
      // The stored documents kept their real type.
      expectOk(await s.call('GET', `/namespaces/_/actions/${name}`));
      expectOk(await s.call('GET', `/namespaces/_/triggers/${name}-t`));
    });

    it('refuses malformed fields with 400', async () => {
      const cases: [string, unknown][] = [
        ['actions', { exec: nodeExec(), parameters: { a: 1 } }],
        ['actions', { exec: nodeExec(), parameters: [{ value: 1 }] }],
        ['actions', { exec: nodeExec(), parameters: [1] }],
        ['actions', { exec: nodeExec(), annotations: 'x' }],
        ['actions', { exec: nodeExec(), publish: 'yes' }],
        ['actions', { exec: nodeExec(), version: 'one' }],
        ['actions', { exec: nodeExec(), version: '1.2.3.4' }],
        ['actions', { exec: nodeExec(), version: true }],
        ['actions', { exec: nodeExec(), delAnnotations: 'x' }],
        ['actions', { exec: { kind: 'sequence', components: 'x' } }],
        ['actions', { exec: { kind: 'sequence', components: ['/_/a/b/c'] } }],
        ['actions', { exec: { kind: 'nodejs:20', code: 'x', main: 5 } }],
        ['triggers', { parameters: { a: 1 } }],
        ['triggers', { annotations: [{ key: 5, value: 1 }] }],
        ['triggers', { publish: 1 }],
        ['packages', { parameters: 'x' }],
        ['packages', { binding: 5 }],
        ['packages', { binding: { namespace: 5, name: 'x' } }],
        ['packages', { version: '1.x' }],
        ['rules', { trigger: ['/_/t'], action: '/_/a' }],
        ['rules', { trigger: '/_/t', action: '/_/a', annotations: {} }],
      ];
      for (const [c, body] of cases) {
        const res = await s.call('PUT', `/namespaces/_/${c}/${s.uniq('mf')}`, { body });
        expect(res.status, `${c} ${JSON.stringify(body)}: ${res.text}`).toBe(400);
        expectError(res, 400);
      }
      expectError(await s.call('PUT', `/namespaces/_/actions/${s.uniq('mf')}`, { body: { exec: nodeExec(), parameters: { a: 1 } } }), 400, 'parameters malformed!');
    });

    it('refuses parameters or annotations over 1 MB with 413 (24)', async () => {
      const big = bigParameters(1024 * 1024);
      const size = Buffer.byteLength(JSON.stringify(big));
      for (const c of ['actions', 'triggers', 'packages'] as const) {
        const res = await s.call('PUT', `/namespaces/_/${c}/${s.uniq('big')}`, { body: { ...validBody(c), parameters: big } });
        expectError(res, 413, `parameters larger than allowed: ${size} > 1048576 bytes.`);
        const ann = await s.call('PUT', `/namespaces/_/${c}/${s.uniq('big')}`, { body: { ...validBody(c), annotations: big } });
        expectError(ann, 413, /^annotations larger than allowed: \d+ > 1048576 bytes\.$/);
      }
      const rule = await s.call('PUT', `/namespaces/_/rules/${s.uniq('big')}`, { body: { trigger: '/_/t', action: '/_/a', annotations: big } });
      expectError(rule, 413);
      // Just under the limit is fine.
      expectOk(await s.call('PUT', `/namespaces/_/triggers/${s.uniq('big')}`, { body: { parameters: bigParameters(1024 * 1000) } }));
    });

    it('validates list queries on every collection (26)', async () => {
      for (const c of COLLECTIONS) {
        expectError(await s.call('GET', `/namespaces/_/${c}?limit=201`), 400, `The value '201' is not in the range of 0 to 200 for ${c}.`);
        expectError(await s.call('GET', `/namespaces/_/${c}?skip=-1`), 400, `The value '-1' is not greater than or equal to 0 for ${c}.`);
        expectError(await s.call('GET', `/namespaces/_/${c}?limit=x`), 400, `The value 'x' is not an integer for ${c}.`);
        expectError(await s.call('GET', `/namespaces/_/${c}?skip=1.5`), 400, `The value '1.5' is not an integer for ${c}.`);
        expectError(await s.call('GET', `/namespaces/_/${c}?limit=-1`), 400);
        // Like OpenWhisk's JVM Int: past 32 bits is not an integer.
        expectError(await s.call('GET', `/namespaces/_/${c}?skip=2147483648`), 400, `The value '2147483648' is not an integer for ${c}.`);
        expectError(await s.call('GET', `/namespaces/_/${c}?skip=99999999999999999999`), 400);
        expect(expectOk(await s.call('GET', `/namespaces/_/${c}?skip=2147483647`))).toEqual([]);
        expect(Array.isArray(expectOk(await s.call('GET', `/namespaces/_/${c}?limit=200&skip=0`)))).toBe(true);
      }
    });
  });

  describe("another namespace's entities (7)", () => {
    it("refuses guest access to other's default-package entities, naming other/x", async () => {
      const name = s.uniq('x');
      await s.createAction('_', name, {}, s.running.other);
      await s.put(`/namespaces/_/triggers/${name}-t`, {}, s.running.other);
      for (const [c, n] of [['actions', name], ['triggers', `${name}-t`], ['rules', `${name}-r`], ['actions', `${name}-missing`]] as const) {
        const msg = forbiddenText(`other/${n}`);
        expectError(await s.call('GET', `/namespaces/other/${c}/${n}`), 403, msg);
        expectError(await s.call('PUT', `/namespaces/other/${c}/${n}?overwrite=true`, { body: validBody(c) }), 403, msg);
        expectError(await s.call('DELETE', `/namespaces/other/${c}/${n}`), 403, msg);
      }
      expectError(await s.call('POST', `/namespaces/other/rules/${name}-r`, { body: { status: 'active' } }), 403, forbiddenText(`other/${name}-r`));
      for (const c of ['actions', 'triggers', 'rules', 'activations'] as const) {
        expectError(await s.call('GET', `/namespaces/other/${c}`), 403, forbiddenText('other'));
      }
      // Nothing changed on the owner's side.
      expect(expectOk(await s.asOther('GET', `/namespaces/_/actions/${name}`)).version).toBe('0.0.1');
    });

    it("refuses other's key on guest's entities", async () => {
      const name = s.uniq('mine');
      await s.createAction('_', name);
      expectError(await s.asOther('GET', `/namespaces/guest/actions/${name}`), 403, forbiddenText(`guest/${name}`));
      expectError(await s.asOther('DELETE', `/namespaces/guest/actions/${name}`), 403, forbiddenText(`guest/${name}`));
      expectError(await s.asOther('GET', '/namespaces/guest/triggers'), 403, forbiddenText('guest'));
      expectError(await s.asOther('GET', `/namespaces/_/actions/${name}`), 404);
      expectOk(await s.call('GET', `/namespaces/_/actions/${name}`));
    });
  });

  describe('never a 500', () => {
    it('answers odd requests with a 4xx error body', async () => {
      const odd: [string, string, { rawBody?: string; body?: unknown; contentType?: string }?][] = [
        ['GET', '/namespaces/_/actions/a/b/c'],
        ['GET', '/namespaces/_/actions/%2F'],
        ['GET', '/namespaces/_/actions/a%2Fb%2Fc'],
        ['GET', '/namespaces/_/actions/%E0%A4%A'],
        ['GET', '/namespaces/_/actions//x'],
        ['GET', '/namespaces/_/activations/%ZZ'],
        ['GET', '/namespaces/_/actions?limit=1&limit=2'],
        ['GET', '/namespaces/_/activations?since=1&since=2'],
        ['GET', '/namespaces/_/activations?name=a&name=b'],
        ['PUT', '/namespaces/_/actions/x', { rawBody: '' }],
        ['PUT', '/namespaces/_/rules/x', { rawBody: 'null' }],
        ['PUT', '/namespaces/_/actions/x', { body: { exec: { kind: 'sequence', components: [null] } } }],
        ['PUT', '/namespaces/_/actions/x', { body: { exec: { kind: 'sequence', components: [{}] } } }],
        ['PUT', '/namespaces/_/actions/x', { body: { exec: nodeExec(), limits: { timeout: 1e400 } } }],
        ['PUT', '/namespaces/_/actions/x', { rawBody: '{"exec": {"kind": "nodejs:20", "code": "x"}, "limits": {"timeout": 1e400}}' }],
        ['PUT', '/namespaces/_/packages/x', { body: { binding: { namespace: '_', name: 'x' } } }],
        ['PUT', '/namespaces/_/packages/x', { body: { binding: [] } }],
        ['PUT', '/namespaces/_/rules/x', { body: { trigger: { path: 'a/b/c', name: 't' }, action: '/_/a' } }],
        ['PUT', '/namespaces/_/rules/x', { body: { trigger: '/_/t', action: { path: '_', name: {} } } }],
        ['PUT', '/namespaces/_/triggers/x', { body: { annotations: [{ key: 'feed', value: null }] } }],
        ['POST', '/namespaces/_/rules/x', { body: { status: ['active'] } }],
        ['POST', '/namespaces/_/actions/x', { rawBody: '[1,2]' }],
        ['POST', '/namespaces/_/triggers/x', { rawBody: '"x"' }],
        ['POST', '/namespaces/_/actions/x?timeout=abc', { body: {} }],
        ['DELETE', '/namespaces/_/packages/x?force=true'],
        ['PATCH', '/namespaces/_/actions/x', { body: {} }],
        ['GET', '/namespaces/_/limits/x'],
        ['GET', '/namespaces/_/packages/a/b'],
      ];
      for (const [method, path, opts] of odd) {
        const res = await s.call(method, path, opts ?? {});
        expect(res.status, `${method} ${path} -> ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path} -> ${res.text}`).toBeLessThan(500);
        expectError(res, res.status);
      }
    });
  });
}
