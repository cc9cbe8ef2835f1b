import type { Throttles } from '../../config/config.js';
import type { Identity } from '../../entities/documents.js';
import { throttled } from '../../entities/errors.js';

/**
 * Per-namespace rate limits in fixed one-minute windows, as OpenWhisk counts them. The cluster's
 * counters will live in Redis so every controller sees the same count; this in-memory version
 * serves standalone and a single controller.
 */
export interface NamespaceThrottles {
  /** Counts one action invocation; 429 past the namespace's per-minute allowance. */
  checkInvoke(identity: Identity): Promise<void>;
  /** Counts one trigger fire; 429 past the namespace's per-minute allowance. */
  checkFire(identity: Identity): Promise<void>;
  /** The allowances that apply to this namespace (its own overrides, else the defaults). */
  limitsFor(identity: Identity): Throttles;
}

interface Window {
  minute: number;
  count: number;
}

export class InMemoryThrottles implements NamespaceThrottles {
  private readonly invokes = new Map<string, Window>();
  private readonly fires = new Map<string, Window>();

  constructor(
    private readonly defaults: Throttles,
    private readonly now: () => number = Date.now,
  ) {}

  limitsFor(identity: Identity): Throttles {
    return {
      invocationsPerMinute: identity.limits.invocationsPerMinute ?? this.defaults.invocationsPerMinute,
      concurrentInvocations: identity.limits.concurrentInvocations ?? this.defaults.concurrentInvocations,
      firesPerMinute: identity.limits.firesPerMinute ?? this.defaults.firesPerMinute,
    };
  }

  async checkInvoke(identity: Identity): Promise<void> {
    this.count(this.invokes, identity.namespace, this.limitsFor(identity).invocationsPerMinute);
  }

  async checkFire(identity: Identity): Promise<void> {
    this.count(this.fires, identity.namespace, this.limitsFor(identity).firesPerMinute);
  }

  /**
   * Every check charges one request, refused or not, as OpenWhisk's RateThrottler does: a caller
   * who keeps retrying stays over the limit, and the 429 shows how many it tried this minute.
   */
  private count(windows: Map<string, Window>, namespace: string, allowed: number): void {
    const minute = Math.floor(this.now() / 60_000);
    let w = windows.get(namespace);
    if (!w || w.minute !== minute) windows.set(namespace, (w = { minute, count: 0 }));
    w.count++;
    if (w.count > allowed) throw throttled(`Too many requests in the last minute (count: ${w.count}, allowed: ${allowed}).`);
  }
}
