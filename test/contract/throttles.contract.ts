import { afterAll, describe, expect, it } from 'vitest';
import type { NamespaceThrottles } from '../../src/controller/throttles/namespace-throttles.js';
import type { Identity } from '../../src/entities/documents.js';


/** One behaviour for every NamespaceThrottles: `open(now)` gets a clock the test moves. */
export function describeThrottles(name: string, open: (clock: () => number) => NamespaceThrottles & { close?(): Promise<void> }) {
  describe(`NamespaceThrottles contract: ${name}`, () => {
    let t = 60_000 * 1_000_000 + Math.floor(Math.random() * 1_000_000) * 60_000;
    const throttles = open(() => t);
    const ns = `ns${Math.random().toString(36).slice(2, 8)}`;
    const who = (limits = {}): Identity => ({ subject: 's', namespace: ns, uuid: 'u', key: 'k', limits });
    afterAll(async () => throttles.close?.());

    it('allows the per-minute count, refuses the next with OpenWhisk\'s message, and counts refusals too', async () => {
      for (let i = 0; i < 3; i++) await throttles.checkInvoke(who());
      await expect(throttles.checkInvoke(who())).rejects.toThrow('Too many requests in the last minute (count: 4, allowed: 3).');
      await expect(throttles.checkInvoke(who())).rejects.toThrow('(count: 5, allowed: 3)');
    });

    it('counts fires apart from invocations, and starts again the next minute', async () => {
      await throttles.checkFire(who());
      await throttles.checkFire(who());
      await expect(throttles.checkFire(who())).rejects.toMatchObject({ status: 429 });
      t += 60_000;
      await throttles.checkFire(who());
      await throttles.checkInvoke(who());
    });

    it('applies a namespace\'s own limits over the defaults', async () => {
      t += 60_000;
      const generous = who({ invocationsPerMinute: 5 });
      for (let i = 0; i < 5; i++) await throttles.checkInvoke(generous);
      await expect(throttles.checkInvoke(generous)).rejects.toMatchObject({ status: 429 });
      expect(throttles.limitsFor(who({ firesPerMinute: 9 })).firesPerMinute).toBe(9);
    });
  });
}
