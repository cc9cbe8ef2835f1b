import { afterEach, describe, expect, it } from 'vitest';
import type { FireJob, FireStep } from '../../src/triggers/fire-job.js';
import type { FireQueue } from '../../src/triggers/fire-queue.js';
import { fireJob } from '../support/fire-job.js';

/** One behaviour suite for every FireQueue. `open(location)` twice on one location = a restart. */
export interface FireQueueHarness {
  newLocation(): string;
  open(location: string): Promise<FireQueue>;
  /** Releases what `open` took (stores, connections) after the queue is stopped. */
  release?(location: string): Promise<void>;
}

const job = (fireId: string): FireJob =>
  fireJob({ fireId, namespace: 'ns', subject: 'subject', rules: [{ ruleId: 'ns/r', action: { path: 'ns', name: 'a' }, status: 'active' }], baseArgs: { a: 1 }, payload: { a: 1 } });

const hex = () => Array.from({ length: 32 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function describeFireQueue(name: string, harness: FireQueueHarness) {
  describe(`FireQueue contract: ${name}`, () => {
    const open: { q: FireQueue; location: string }[] = [];
    const start = async (location: string, process: (j: FireJob) => Promise<FireStep>) => {
      const q = await harness.open(location);
      open.push({ q, location });
      await q.start(process);
      return q;
    };
    afterEach(async () => {
      for (const { q, location } of open.splice(0)) {
        await q.stop();
        await harness.release?.(location);
      }
    });

    it('hands every enqueued job to the processor once, and forgets it when done', async () => {
      const seen: string[] = [];
      const q = await start(harness.newLocation(), async (j) => {
        seen.push(j.fireId);
        return { job: j, done: true };
      });
      const ids = Array.from({ length: 20 }, hex);
      for (const id of ids) await q.enqueue(job(id));
      await until('all processed', () => seen.length >= 20);
      await until('nothing pending', async () => (await q.pending()) === 0);
      await new Promise((r) => setTimeout(r, 200));
      expect(seen.sort()).toEqual([...ids].sort());
    });

    it('retries a job that is not done, with its progress kept, after the delay it asked for', async () => {
      const calls: { at: number; attempts: number }[] = [];
      const q = await start(harness.newLocation(), async (j) => {
        const attempts = (j.attempts['ns/r'] ?? 0) + 1;
        calls.push({ at: Date.now(), attempts });
        const next = { ...j, attempts: { 'ns/r': attempts } };
        return attempts < 3 ? { job: next, done: false, retryInMs: 150 } : { job: next, done: true };
      });
      await q.enqueue(job(hex()));
      await until('three passes', () => calls.length >= 3);
      expect(calls.map((c) => c.attempts)).toEqual([1, 2, 3]);
      expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(140);
      await until('nothing pending', async () => (await q.pending()) === 0);
    });

    it('retries a job whose processor throws', async () => {
      let calls = 0;
      const q = await start(harness.newLocation(), async (j) => {
        calls++;
        if (calls === 1) throw new Error('store briefly down');
        return { job: j, done: true };
      });
      await q.enqueue(job(hex()));
      await until('the retry', () => calls >= 2, 20_000);
      await until('nothing pending', async () => (await q.pending()) === 0);
    });

    it('releases a done job only after it is gone from the queue', async () => {
      const pendingAtRelease: number[] = [];
      let q: FireQueue | undefined;
      q = await start(harness.newLocation(), async (j) => ({
        job: j,
        done: true,
        afterDone: async () => {
          pendingAtRelease.push(await q!.pending());
        },
      }));
      await q.enqueue(job(hex()));
      await until('the release', () => pendingAtRelease.length === 1);
      expect(pendingAtRelease).toEqual([0]);
    });

    it('keeps jobs across a restart and works them off in the new process', async () => {
      const location = harness.newLocation();
      const first = await harness.open(location);
      const ids = Array.from({ length: 5 }, hex);
      for (const id of ids) await first.enqueue(job(id));
      await first.stop(); // never started: nothing processed
      const seen: string[] = [];
      await start(location, async (j) => {
        seen.push(j.fireId);
        return { job: j, done: true };
      });
      await until('the jobs of the first process', () => seen.length >= 5);
      expect(seen.sort()).toEqual([...ids].sort());
    });

    it('treats a second enqueue of the same fire id as a no-op', async () => {
      const seen: string[] = [];
      const location = harness.newLocation();
      const q = await harness.open(location);
      open.push({ q, location });
      const id = hex();
      await q.enqueue(job(id));
      await q.enqueue(job(id));
      await q.start(async (j) => {
        seen.push(j.fireId);
        return { job: j, done: true };
      });
      await until('processed', () => seen.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toEqual([id]);
    });
  });
}
