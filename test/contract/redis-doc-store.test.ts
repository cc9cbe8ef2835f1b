import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisDocStore } from '../../src/store/redis/redis-doc-store.js';
import { docStoreCases } from './doc-store.contract.js';

const redisUrl = process.env.WHISKHUB_REDIS_URL;
if (!redisUrl) throw new Error('WHISKHUB_REDIS_URL is not set: start the services with deploy/dev/services-up.sh (npm test does)');

// Each run writes under a prefix of its own and removes it afterwards.
const prefix = `whiskhub-test:docs:${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

describe('DocStore contract: redis', () => {
  let store: RedisDocStore;
  beforeAll(() => {
    store = new RedisDocStore(redisUrl, prefix);
  });
  afterAll(async () => {
    await store.close();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  docStoreCases(() => store);

  it('keeps ids with unicode, slashes and colons in byte order, and a prefix never matches past itself', async () => {
    for (const id of ['a/é', 'a/z', 'a/😀', 'a:1', 'ab', 'a/']) await store.putDoc('order', id, { id });
    expect((await store.listDocs('order', { prefix: 'a/', limit: 10, skip: 0 })).map((d) => d.id)).toEqual(['a/', 'a/z', 'a/é', 'a/😀']);
    expect((await store.listDocs('order', { prefix: 'a/', limit: 2, skip: 1 })).map((d) => d.id)).toEqual(['a/z', 'a/é']);
    expect((await store.listDocs('order', { prefix: 'a', limit: 10, skip: 0 })).length).toBe(6);
  });

  it('sees every write from another connection, and after a reopen', async () => {
    const rev = await store.putDoc('shared', 'x', { v: 1 });
    const other = new RedisDocStore(redisUrl, prefix);
    try {
      expect(await other.getDoc('shared', 'x')).toEqual({ id: 'x', rev, doc: { v: 1 } });
      const rev2 = await other.putDoc('shared', 'x', { v: 2 }, rev);
      expect(rev2.startsWith('2-')).toBe(true);
      expect((await store.getDoc<{ v: number }>('shared', 'x'))?.doc.v).toBe(2);
    } finally {
      await other.close();
    }
    await store.close();
    store = new RedisDocStore(redisUrl, prefix);
    expect((await store.getDoc<{ v: number }>('shared', 'x'))?.doc.v).toBe(2);
  });
});
