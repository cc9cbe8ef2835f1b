import { Redis } from 'ioredis';
import type { Throttles } from '../../../config/config.js';
import type { Identity } from '../../../entities/documents.js';
import { throttled } from '../../../entities/errors.js';
import type { NamespaceThrottles } from '../namespace-throttles.js';

/** Most requests one lease admits; see leaseSize(). */
const MAX_LEASE = 64;

/**
 * How many requests to take from Redis at once for a minute that allows `allowed`. Leasing
 * saves a Redis round trip per request (about a quarter of a millisecond, and a write in the
 * controller) at high limits. The tokens a controller leased and did not use are lost to the
 * others for that minute, so a lease is at most 1/64 of the allowance: with the default limits
 * (OpenWhisk's 60 a minute) every request is counted on its own, exactly as before.
 */
export function leaseSize(allowed: number): number {
  return Math.max(1, Math.min(MAX_LEASE, Math.floor(allowed / 64)));
}

interface Window {
  minute: number;
  /** Requests this controller may still admit from its leases this minute. */
  tokens: number;
  /** Set once a lease came back short: the minute's allowance is spent, count one by one. */
  exhausted: boolean;
  /** The lease being asked for; requests that find no token wait for it. */
  leasing?: Promise<void>;
}

/**
 * Per-minute throttles shared by every controller of a cluster: one Redis counter per namespace,
 * kind and minute (INCRBY, expiring after two minutes). Like OpenWhisk, every request counts,
 * refused ones included, so the message's count is the caller's true rate. At high limits a
 * controller leases a few requests at a time (leaseSize) and admits them without asking Redis;
 * no minute ever admits more than its allowance across all controllers.
 */
export class RedisThrottles implements NamespaceThrottles {
  private readonly redis: Redis;
  private readonly windows = new Map<string, Window>();
  /** The minute `windows` was last swept of older ones. */
  private sweptMinute = 0;

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
    this.sweep(minute);
    const name = `${kind}:${namespace}`;
    const key = `${this.prefix}${name}:${minute}`;
    for (;;) {
      let w = this.windows.get(name);
      if (!w || w.minute !== minute) {
        w = { minute, tokens: 0, exhausted: false };
        this.windows.set(name, w);
      }
      if (w.tokens > 0) {
        w.tokens--;
        return;
      }
      const size = w.exhausted ? 1 : leaseSize(allowed);
      if (size === 1) return this.countOne(key, allowed);
      if (!w.leasing) w.leasing = this.lease(w, key, size, allowed);
      await w.leasing;
    }
  }

  /** Takes `size` requests of the minute from Redis; a short lease marks the minute spent. */
  private async lease(w: Window, key: string, size: number, allowed: number): Promise<void> {
    try {
      const total = await this.incrBy(key, size);
      const granted = Math.max(0, Math.min(size, allowed - (total - size)));
      w.tokens += granted;
      if (granted < size) w.exhausted = true;
    } finally {
      w.leasing = undefined;
    }
  }

  private async countOne(key: string, allowed: number): Promise<void> {
    const n = await this.incrBy(key, 1);
    if (n > allowed) throw throttled(`Too many requests in the last minute (count: ${n}, allowed: ${allowed}).`);
  }

  private async incrBy(key: string, by: number): Promise<number> {
    const [[, n]] = (await this.redis.multi().incrby(key, by).expire(key, 120).exec()) as [[Error | null, number], unknown];
    return n;
  }

  /**
   * Forgets windows of past minutes (a namespace that stopped calling leaves one behind), once
   * per minute: sweeping on every call walked every namespace's window on the request path.
   */
  private sweep(minute: number): void {
    if (minute === this.sweptMinute) return;
    this.sweptMinute = minute;
    for (const [name, w] of this.windows) if (w.minute !== minute) this.windows.delete(name);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
