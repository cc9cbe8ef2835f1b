import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminService, authString } from '../../src/admin/admin-service.js';
import { Authenticator } from '../../src/controller/auth/authenticator.js';
import { InMemoryThrottles } from '../../src/controller/throttles/namespace-throttles.js';
import type { Identity } from '../../src/entities/documents.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';

const who = (limits = {}): Identity => ({ subject: 's', namespace: 'ns', uuid: 'u', key: 'k', limits });

describe('namespace throttles', () => {
  it('counts per fixed minute and words the 429 as OpenWhisk does', async () => {
    let now = 60_000 * 10;
    const t = new InMemoryThrottles({ invocationsPerMinute: 2, concurrentInvocations: 1, firesPerMinute: 1 }, () => now);
    await t.checkInvoke(who());
    await t.checkInvoke(who());
    await expect(t.checkInvoke(who())).rejects.toThrow('Too many requests in the last minute (count: 3, allowed: 2).');
    await t.checkFire(who());
    await expect(t.checkFire(who())).rejects.toMatchObject({ status: 429 });
    now += 60_000;
    await t.checkInvoke(who());
  });

  it('lets a namespace override the defaults', async () => {
    const t = new InMemoryThrottles({ invocationsPerMinute: 1, concurrentInvocations: 1, firesPerMinute: 1 });
    await t.checkInvoke(who({ invocationsPerMinute: 5 }));
    await t.checkInvoke(who({ invocationsPerMinute: 5 }));
    expect(t.limitsFor(who({ firesPerMinute: 9 })).firesPerMinute).toBe(9);
  });
});

describe('authenticator and admin', () => {
  it('accepts a created key, refuses wrong, short, blocked and deleted ones', async () => {
    const store = await createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-auth-')));
    const admin = new AdminService(store);
    const key = await admin.createUser('alice-subject', { namespace: 'alice' });
    const auth = new Authenticator(store, 0);
    const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect((await auth.authenticate(header(authString(key)))).namespace).toBe('alice');
    await expect(auth.authenticate(undefined)).rejects.toThrow('The resource requires authentication, which was not supplied with the request');
    await expect(auth.authenticate(header(`${key.uuid}:${'x'.repeat(64)}`))).rejects.toThrow('The supplied authentication is invalid');
    await expect(auth.authenticate(header(`${key.uuid}:${key.key.slice(1)}`))).rejects.toMatchObject({ status: 401 });
    await expect(auth.authenticate('Bearer abc')).rejects.toMatchObject({ status: 401 });
    await admin.setBlocked('alice-subject', true);
    await expect(auth.authenticate(header(authString(key)))).rejects.toMatchObject({ status: 401 });
    await admin.setBlocked('alice-subject', false);
    await admin.deleteUser('alice-subject');
    await expect(auth.authenticate(header(authString(key)))).rejects.toMatchObject({ status: 401 });
    await store.close();
  });

  it('keeps one namespace per subject and refuses taken namespaces and uuids', async () => {
    const store = await createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-admin-')));
    const admin = new AdminService(store);
    const a = await admin.createUser('alice-subject', { namespace: 'alice' });
    await admin.createUser('alice-subject', { namespace: 'alice_dev' });
    expect((await admin.getUser('alice-subject')).namespaces.map((n) => n.name)).toEqual(['alice', 'alice_dev']);
    await expect(admin.createUser('bobby-subject', { namespace: 'alice' })).rejects.toMatchObject({ status: 409 });
    await expect(admin.createUser('bobby-subject', { auth: authString(a) })).rejects.toMatchObject({ status: 409 });
    await expect(admin.createUser('bob', {})).rejects.toMatchObject({ status: 400 });
    await admin.deleteUser('alice-subject', 'alice_dev');
    expect((await admin.getUser('alice-subject')).namespaces.map((n) => n.name)).toEqual(['alice']);
    await admin.setLimits('alice', { firesPerMinute: 7 });
    expect((await admin.getUser('alice-subject')).limits).toEqual({ firesPerMinute: 7 });
    await store.close();
  });
});
