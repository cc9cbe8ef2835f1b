import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The embedded store's log while it runs: documents written and deleted all day (fire jobs,
 * delivery batches) must not grow it without bound. Past its threshold it is rewritten with the
 * live documents, in the background, while writes go on, and nothing is lost.
 */
const activation = (n: number, result: Record<string, unknown>) =>
  ({
    namespace: 'guest',
    name: 'a',
    version: '0.0.1',
    subject: 'guest',
    publish: false,
    activationId: `act${String(n).padStart(29, '0')}`,
    start: n,
    end: n,
    duration: 0,
    response: { status: 'success', statusCode: 0, success: true, result },
    logs: [],
    annotations: [],
  }) as never;

describe('embedded store log compaction', () => {
  it('rewrites the log once it has doubled, while writes go on, and a restart reads exactly the live documents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-compact-'));
    const logFile = join(dir, 'store.log');
    const store = await createEmbeddedStore(dir, { minCompactBytes: 256 * 1024 });
    const filler = 'x'.repeat(4000);
    const live = new Map<string, number>();
    let written = 0;
    const sizes: number[] = [];
    // Jobs come and go; a few documents stay and keep changing; activations only accumulate.
    for (let round = 0; round < 60; round++) {
      const jobs = Array.from({ length: 20 }, (_, i) => `job-${round}-${i}`);
      await Promise.all(jobs.map((id) => store.putDoc('jobs', id, { filler, round })));
      written += jobs.length * filler.length;
      const kept = `kept-${round % 7}`;
      const cur = await store.getDoc<{ n: number }>('kept', kept);
      await store.putDoc('kept', kept, { n: round }, cur?.rev);
      live.set(kept, round);
      await store.putActivations([activation(round, { round })]);
      await Promise.all(
        jobs.map(async (id) => {
          const got = await store.getDoc('jobs', id);
          await store.deleteDoc('jobs', id, got!.rev);
        }),
      );
      sizes.push(statSync(logFile).size);
      await sleep(1);
    }
    await store.close();

    // Some 5 MB went through the log; it was cut back whenever it doubled past 256 KB.
    expect(written).toBeGreaterThan(4_000_000);
    expect(Math.max(...sizes)).toBeLessThan(2_000_000);
    expect(sizes.some((s, i) => i > 0 && s < sizes[i - 1])).toBe(true);

    const again = await createEmbeddedStore(dir);
    expect(await again.listDocs('jobs', { limit: 1000, skip: 0 })).toEqual([]);
    const kept = await again.listDocs<{ n: number }>('kept', { limit: 100, skip: 0 });
    expect(Object.fromEntries(kept.map((k) => [k.id, k.doc.n]))).toEqual(Object.fromEntries(live));
    expect(await again.countActivations({ namespace: 'guest' } as never)).toBe(60);
    await again.close();
  });

  it('leaves a log of live records alone: a rewrite must free at least as much as it writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-compact-live-'));
    const logFile = join(dir, 'store.log');
    const store = await createEmbeddedStore(dir, { minCompactBytes: 256 * 1024 });
    const filler = 'y'.repeat(4000);
    let last = 0;
    for (let n = 0; n < 300; n++) {
      await store.putActivations([activation(n, { filler })]);
      // A little dies too, far less than half of the log.
      const cur = await store.getDoc('kept', 'one');
      await store.putDoc('kept', 'one', { n }, cur?.rev);
      const size = statSync(logFile).size;
      expect(size).toBeGreaterThan(last);
      last = size;
    }
    expect(last).toBeGreaterThan(1_200_000);
    await store.close();
  });
});

describe('embedded store activation retention', () => {
  it('drops records older than the retention, from listings and reads, and a restart does not bring them back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-retention-'));
    let now = 1_000_000;
    const options = { activationRetentionMs: 10_000, clock: () => now };
    const store = await createEmbeddedStore(dir, options);
    await store.putActivations([activation(now - 20_000, { old: true }), activation(now - 5_000, { recent: true }), activation(now, { fresh: true })]);
    store.expireActivations();
    const list = async (s: typeof store) => (await s.listActivations({ namespace: 'guest', limit: 10, skip: 0 } as never)).map((a) => a.response.result);
    expect(await list(store)).toEqual([{ fresh: true }, { recent: true }]);
    expect(await store.getActivation('guest', `act${String(now - 20_000).padStart(29, '0')}`)).toBeUndefined();
    expect(await store.countActivations({ namespace: 'guest' } as never)).toBe(2);

    now += 6_000; // the `recent` one is 11 s old now
    store.expireActivations();
    expect(await list(store)).toEqual([{ fresh: true }]);
    await store.close();

    const again = await createEmbeddedStore(dir, options);
    expect(await list(again)).toEqual([{ fresh: true }]);
    await again.close();
    // Retention 0 keeps everything (what the log still holds, until it is compacted).
    const forever = await createEmbeddedStore(dir, { activationRetentionMs: 0, clock: () => now + 1e9 });
    forever.expireActivations();
    expect((await list(forever)).length).toBeGreaterThanOrEqual(1);
    await forever.close();
  });
});
