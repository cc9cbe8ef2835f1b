import { mkdtempSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logging/logger.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { EmbeddedFireQueue } from '../../src/triggers/embedded/embedded-fire-queue.js';
import type { FireJob } from '../../src/triggers/fire-job.js';
import { fireJob } from '../support/fire-job.js';
import { describeFireQueue } from './fire-queue.contract.js';

const stores = new Map<string, ArtifactStore>();

describeFireQueue('embedded store', {
  newLocation: () => mkdtempSync(join(tmpdir(), 'whiskhub-fires-')),
  open: async (dir) => {
    // One process per data directory: a "restart" closes the old store first.
    await stores.get(dir)?.close();
    const store = await createEmbeddedStore(dir);
    stores.set(dir, store);
    return new EmbeddedFireQueue(store, createLogger('silent'));
  },
  release: async (dir) => {
    await stores.get(dir)?.close();
    stores.delete(dir);
  },
});

describe('the embedded fire queue under a burst', () => {
  const job = (i: number): FireJob => fireJob({ fireId: `burst-${i}`, transactionId: `tx${i}` });

  it('runs few fan-outs while fires pour in, every accepted fire afterwards, and full width at a steady rate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-fires-burst-'));
    const store = await createEmbeddedStore(dir);
    const queue = new EmbeddedFireQueue(store, createLogger('silent'), 128, 8);
    let active = 0;
    let widest = 0;
    const done = new Set<string>();
    await queue.start(async (j) => {
      widest = Math.max(widest, ++active);
      await new Promise((r) => setTimeout(r, 20));
      active--;
      done.add(j.fireId);
      return { job: j, done: true };
    });
    try {
      // A burst: 1,000 fires at once, far above 2,000 a second.
      await Promise.all(Array.from({ length: 1000 }, (_, i) => queue.enqueue(job(i))));
      expect(widest).toBeLessThanOrEqual(8);
      for (let i = 0; i < 300 && done.size < 1000; i++) await new Promise((r) => setTimeout(r, 20));
      expect(done.size).toBe(1000); // nothing accepted is left behind
      expect(await queue.pending()).toBe(0);
      // Once the burst is over the backlog drained at full width: far more than 8 at a time.
      expect(widest).toBeGreaterThan(8);

      // A steady trickle (100 fires in a second, well under the burst rate) runs at full width.
      widest = 0;
      for (let i = 0; i < 10; i++) {
        await Promise.all(Array.from({ length: 10 }, (_, k) => queue.enqueue(job(2000 + i * 10 + k))));
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(widest).toBeGreaterThan(8);
    } finally {
      await queue.stop();
      await store.close();
    }
  });
});

describe('the embedded fire queue, retries due at once', () => {
  it('runs a job again when its retry is due before its run has ended (none is lost)', async () => {
    const store = await createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-fires-again-')));
    const queue = new EmbeddedFireQueue(store, createLogger('silent'));
    const runs: number[] = [];
    await queue.start(async (j) => {
      runs.push(Date.now());
      return runs.length < 3 ? { job: j, done: false, retryInMs: 0 } : { job: j, done: true };
    });
    try {
      await queue.enqueue(fireJob({ fireId: 'again-1' }));
      for (let i = 0; i < 100 && (await queue.pending()) > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(runs).toHaveLength(3);
      expect(await queue.pending()).toBe(0);
    } finally {
      await queue.stop();
      await store.close();
    }
  });
});
