import { Redis } from 'ioredis';
import type { Throttles } from '../../../config/config.js';
import type { Identity } from '../../../entities/documents.js';
import { throttled } from '../../../entities/errors.js';
import type { NamespaceThrottles } from '../namespace-throttles.js';

/**
 * Per-minute throttles shared by every controller of a cluster: one Redis counter per namespace,
 * kind and minute (INCR, expiring after two minutes). Like OpenWhisk, every request counts,
 * refused ones included, so the message's count is the caller's true rate.
 */
export class RedisThrottles implements NamespaceThrottles {
  private readonly redis: Redis;

  constructor(
    redisUrl: string,
    private readonly defaults: Throttles,
    private readonly prefix = 'whiskhub:throttle:',
    private readonly now: () => number = Date.now,
  ) {
    this.redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
  }

  limitsFor(identity: Identity): Throttles {
    return {
      invocationsPerMinute: identity.limits.invocationsPerMinute ?? this.defaults.invocationsPerMinute,
      concurrentInvocations: identity.limits.concurrentInvocations ?? this.defaults.concurrentInvocations,
      firesPerMinute: identity.limits.firesPerMinute ?? this.defaults.firesPerMinute,
    };
  }

  checkInvoke(identity: Identity): Promise<void> {
    return this.count('invoke', identity.namespace, this.limitsFor(identity).invocationsPerMinute);
  }

  checkFire(identity: Identity): Promise<void> {
    return this.count('fire', identity.namespace, this.limitsFor(identity).firesPerMinute);
  }

  private async count(kind: string, namespace: string, allowed: number): Promise<void> {
    const minute = Math.floor(this.now() / 60_000);
    const key = `${this.prefix}${kind}:${namespace}:${minute}`;
    const [[, n]] = (await this.redis.multi().incr(key).expire(key, 120).exec()) as [[Error | null, number], unknown];
    if (n > allowed) throw throttled(`Too many requests in the last minute (count: ${n}, allowed: ${allowed}).`);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
