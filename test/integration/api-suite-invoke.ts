import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awayFromMinuteEdge, ApiSession, expectError, expectOk, forbiddenText, NOT_FOUND } from './api-support.js';

const ONE_MB = 1024 * 1024;
/** A JSON object body whose encoding is a little over 1 MB. */
const oversizeBody = () => JSON.stringify({ big: 'x'.repeat(ONE_MB) });

/**
 * Invoke and fire: everything checked before the hand-off to the invocation pipeline (query,
 * size, throttle, existence, entitlement). The hand-off itself answers 501 until that pipeline
 * lands, so a successful check shows as a 501.
 */
export function describeInvokeAndFire(s: ApiSession): void {
  describe('invoke and fire (before the pipeline)', () => {
    it('hands a valid invoke on (501 for now), with or without a body', async () => {
      const name = s.uniq('inv');
      await s.createAction('_', name);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}?blocking=true&result=true`, { body: { name: 'x' } }), 501);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}?blocking=false&result=false`, { body: {} }), 501);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}`), 501);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}`, { rawBody: '' }), 501);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}`, { rawBody: '{"a":1}\n' }), 501);
    });

    it('checks the query, the body and the action first', async () => {
      const name = s.uniq('invq');
      await s.createAction('_', name);
      const timeoutText = 'Timeout must be number of milliseconds up to 60000.';
      expectError(await s.call('POST', `/namespaces/_/actions/${name}?blocking=true&timeout=0`, { body: {} }), 400, timeoutText);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}?blocking=true&timeout=65000`, { body: {} }), 400, timeoutText);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}?blocking=true&timeout=1`, { body: {} }), 501);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}`, { rawBody: '[1]' }), 400);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}`, { rawBody: '{oops' }), 400);
      expectError(await s.call('POST', `/namespaces/_/actions/${name}`, { rawBody: 'a=1', contentType: 'text/plain' }), 415);
      expectError(await s.call('POST', `/namespaces/_/actions/${s.uniq('ghost')}`, { body: {} }), 404, NOT_FOUND);
      const pkg = s.uniq('ipkg');
      await s.put(`/namespaces/_/packages/${pkg}`, {});
      expectError(await s.call('POST', `/namespaces/_/actions/${pkg}/ghost`, { body: {} }), 404);
      const theirs = s.uniq('theirs');
      await s.createAction('_', theirs, {}, s.running.other);
      expectError(await s.call('POST', `/namespaces/other/actions/${theirs}`, { body: {} }), 403, forbiddenText(`other/${theirs}`));
    });

    it('hands on an invoke of a public action of another namespace', async () => {
      const pub = s.uniq('ipub');
      await s.put(`/namespaces/_/packages/${pub}`, { publish: true }, s.running.other);
      await s.createAction('_', `${pub}/act`, {}, s.running.other);
      expectError(await s.call('POST', `/namespaces/other/actions/${pub}/act`, { body: {} }), 501);
    });

    it('refuses an invoke body over 1 MB with 413 (43)', async () => {
      const name = s.uniq('inv413');
      await s.createAction('_', name);
      const raw = oversizeBody();
      const res = await s.call('POST', `/namespaces/_/actions/${name}?blocking=true`, { rawBody: raw });
      expectError(res, 413, `Request larger than allowed: ${Buffer.byteLength(raw)} > ${ONE_MB} bytes.`);
      // Just under the limit gets through to the hand-off.
      const under = JSON.stringify({ big: 'x'.repeat(ONE_MB - 100) });
      expectError(await s.call('POST', `/namespaces/_/actions/${name}`, { rawBody: under }), 501);
    });

    it('hands a valid fire on (501 for now) and refuses bad ones', async () => {
      const name = s.uniq('fire');
      await s.put(`/namespaces/_/triggers/${name}`, {});
      expectError(await s.call('POST', `/namespaces/_/triggers/${name}`, { body: { x: 1 } }), 501);
      expectError(await s.call('POST', `/namespaces/_/triggers/${name}`), 501);
      expectError(await s.call('POST', `/namespaces/_/triggers/${s.uniq('ghost')}`, { body: {} }), 404, NOT_FOUND);
      expectError(await s.call('POST', `/namespaces/_/triggers/${name}`, { rawBody: '[1]' }), 400);
      const raw = oversizeBody();
      expectError(await s.call('POST', `/namespaces/_/triggers/${name}`, { rawBody: raw }), 413, `Request larger than allowed: ${Buffer.byteLength(raw)} > ${ONE_MB} bytes.`);
      const theirs = s.uniq('theirs');
      await s.put(`/namespaces/_/triggers/${theirs}`, {}, s.running.other);
      expectError(await s.call('POST', `/namespaces/other/triggers/${theirs}`, { body: {} }), 403, forbiddenText(`other/${theirs}`));
      const action = s.uniq('fa');
      await s.createAction('_', action);
      expectError(await s.call('POST', `/namespaces/_/triggers/${action}`, { body: {} }), 409);
    });
  });
}

/** Checklist 49 and 62: per-namespace minute windows, counted before existence checks. */
export function describeThrottles(kind: ApiSession['kind']): void {
  describe('throttles (49, 62)', () => {
    const t = new ApiSession(kind);
    beforeAll(() => t.start({ WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE: '3', WHISKHUB_LIMIT_FIRES_PER_MINUTE: '3' }));
    afterAll(() => t.stop());

    it('shows the configured allowances', async () => {
      const limits = expectOk(await t.call('GET', '/namespaces/_/limits'));
      expect(limits).toMatchObject({ invocationsPerMinute: 3, firesPerMinute: 3 });
    });

    it('answers the 4th invoke in a minute with 429, even for a missing action', async () => {
      const name = t.uniq('thr');
      await t.createAction('_', name);
      await t.createAction('_', name, {}, t.running.other);
      await awayFromMinuteEdge();
      for (let i = 0; i < 3; i++) expectError(await t.call('POST', `/namespaces/_/actions/${name}`, { body: {} }), 501);
      expectError(
        await t.call('POST', `/namespaces/_/actions/${t.uniq('ghost')}`, { body: {} }),
        429,
        'Too many requests in the last minute (count: 4, allowed: 3).',
      );
      expectError(
        await t.call('POST', `/namespaces/_/actions/${name}?blocking=true`, { body: {} }),
        429,
        'Too many requests in the last minute (count: 5, allowed: 3).',
      );
      // Another namespace has its own window; fires are counted apart from invokes.
      expectError(await t.asOther('POST', `/namespaces/_/actions/${name}`, { body: {} }), 501);
    });

    it('answers the 4th fire in a minute with 429', async () => {
      const name = t.uniq('thrt');
      await t.put(`/namespaces/_/triggers/${name}`, {});
      await awayFromMinuteEdge();
      for (let i = 0; i < 3; i++) expectError(await t.call('POST', `/namespaces/_/triggers/${name}`, { body: {} }), 501);
      expectError(
        await t.call('POST', `/namespaces/_/triggers/${t.uniq('ghost')}`, { body: {} }),
        429,
        'Too many requests in the last minute (count: 4, allowed: 3).',
      );
    });
  });
}
