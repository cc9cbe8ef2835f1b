import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { leaseSize, RedisThrottles } from '../../src/controller/throttles/redis/redis-throttles.js';
import type { Identity } from '../../src/entities/documents.js';
import { describeThrottles } from './throttles.contract.js';

const redisUrl = process.env.WHISKHUB_REDIS_URL;
if (!redisUrl) throw new Error('WHISKHUB_REDIS_URL is not set: start the services with deploy/dev/services-up.sh (npm test does)');

describeThrottles('redis', (clock) => new RedisThrottles(redisUrl, { invocationsPerMinute: 3, concurrentInvocations: 1, firesPerMinute: 2 }, 'whiskhub-test:throttle:', clock));

describe('RedisThrottles: leases at high limits', () => {
  const prefix = `whiskhub-test:lease${Math.random().toString(36).slice(2, 8)}:`;
  const minute = 60_000 * 1_000_000;
  const clock = () => minute;
  const redis = new Redis(redisUrl);
  const opened: RedisThrottles[] = [];
  const open = (invocationsPerMinute: number) => {
    const t = new RedisThrottles(redisUrl, { invocationsPerMinute, concurrentInvocations: 1, firesPerMinute: 1 }, prefix, clock);
    opened.push(t);
    return t;
  };
  const who = (namespace: string): Identity => ({ subject: 's', namespace, uuid: 'u', key: 'k', limits: {} });
  const counter = async (namespace: string) => Number(await redis.get(`${prefix}invoke:${namespace}:${minute / 60_000}`));
  afterAll(async () => {
    await Promise.all(opened.map((t) => t.close()));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('sizes leases at 1/64 of the allowance, at most 64, and 1 at OpenWhisk\'s default 60', () => {
    expect(leaseSize(60)).toBe(1);
    expect(leaseSize(640)).toBe(10);
    expect(leaseSize(1_000_000)).toBe(64);
  });

  it('asks Redis once per lease, not once per request', async () => {
    const t = open(1_000_000);
    for (let i = 0; i < 100; i++) await t.checkInvoke(who('one'));
    expect(await counter('one')).toBe(128); // two leases of 64
  });

  it('two controllers together admit no more than the allowance, and concurrent callers share a lease', async () => {
    const a = open(640);
    const b = open(640);
    const results = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).checkInvoke(who('two'))));
    const admitted = results.filter((r) => r.status === 'fulfilled').length;
    expect(admitted).toBeLessThanOrEqual(640);
    expect(admitted).toBeGreaterThanOrEqual(640 - 2 * leaseSize(640));
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 429 });
    // Past the allowance every request is counted on its own again.
    const before = await counter('two');
    await expect(a.checkInvoke(who('two'))).rejects.toThrow(`(count: ${before + 1}, allowed: 640)`);
  });
});
