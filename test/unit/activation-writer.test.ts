import { describe, expect, it } from 'vitest';
import type { ActivationDoc } from '../../src/entities/documents.js';
import { createLogger } from '../../src/logging/logger.js';
import { ActivationWriter } from '../../src/store/activation-writer.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';

/**
 * The batching of activation records, on its own: a store that records each putActivations call
 * and can be held, so that a write is "out" for as long as a test needs. (The stores themselves
 * run their contract suite against the embedded store and a real CouchDB-compatible server.)
 */
function heldStore() {
  const calls: string[][] = [];
  const holds: (() => void)[] = [];
  let hold = false;
  let failures = 0;
  const store = {
    putActivations: async (docs: ActivationDoc[]) => {
      calls.push(docs.map((d) => d.activationId));
      if (failures > 0) {
        failures--;
        throw new Error('store away');
      }
      if (hold) await new Promise<void>((r) => holds.push(r));
    },
  } as unknown as ArtifactStore;
  return {
    store,
    calls,
    /** Writes from now on are held until release(). */
    hold: () => (hold = true),
    /** Lets the held writes finish, and holds no more. */
    release: () => {
      hold = false;
      holds.splice(0).forEach((r) => r());
    },
    failNext: (n: number) => (failures = n),
  };
}

const record = (id: string) => ({ activationId: id, namespace: 'ns' }) as ActivationDoc;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logger = createLogger('silent');

describe('ActivationWriter', () => {
  it('writes the records of one delay together, and each write resolves once its batch is stored', async () => {
    const s = heldStore();
    const w = new ActivationWriter(s.store, logger, 200, 200);
    const stored: string[] = [];
    const writes = ['a', 'b', 'c'].map((id) => w.write(record(id)).then(() => stored.push(id)));
    await sleep(5);
    expect(s.calls).toEqual([]); // still within the delay
    await Promise.all(writes);
    expect(s.calls).toEqual([['a', 'b', 'c']]);
    expect(stored).toEqual(['a', 'b', 'c']);
  });

  it('writes a full batch at once, without waiting for the delay', async () => {
    const s = heldStore();
    const w = new ActivationWriter(s.store, logger, 3, 10_000);
    const t0 = Date.now();
    await Promise.all(['a', 'b', 'c'].map((id) => w.write(record(id))));
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(s.calls).toEqual([['a', 'b', 'c']]);
  });

  it('sends the batches that fall due while one is being written together after it, as one request', async () => {
    const s = heldStore();
    const w = new ActivationWriter(s.store, logger, 200, 10);
    s.hold();
    const first = w.write(record('a'));
    await sleep(30); // 'a' is out, and held
    expect(s.calls).toEqual([['a']]);
    const second = w.write(record('b'));
    await sleep(30); // 'b' fell due while 'a' is out
    const third = w.write(record('c'));
    await sleep(30); // so did 'c', a delay later
    expect(s.calls).toEqual([['a']]);
    s.release();
    await Promise.all([first, second, third]);
    expect(s.calls).toEqual([['a'], ['b', 'c']]);
  });

  it('keeps a record that arrived during a write waiting for its own delay, not sent right after it', async () => {
    const s = heldStore();
    const w = new ActivationWriter(s.store, logger, 200, 200);
    s.hold();
    const first = w.write(record('a'));
    await sleep(230);
    const second = w.write(record('b')); // arrives while 'a' is out, due 200 ms later
    s.release();
    await first;
    await sleep(10);
    expect(s.calls).toEqual([['a']]); // 'b' is not due yet
    const third = w.write(record('c'));
    await Promise.all([second, third]);
    expect(s.calls).toEqual([['a'], ['b', 'c']]);
  });

  it('flush() writes what waits at once and resolves when everything so far is stored, the batch out included', async () => {
    const s = heldStore();
    const w = new ActivationWriter(s.store, logger, 200, 10_000);
    s.hold();
    const first = w.write(record('a'));
    const flushedFirst = w.flush();
    await sleep(10);
    expect(s.calls).toEqual([['a']]);
    const second = w.write(record('b'));
    let flushed = false;
    const flushing = w.flush().then(() => (flushed = true));
    await sleep(10);
    expect(flushed).toBe(false); // 'a' is still out
    s.release();
    await Promise.all([first, second, flushedFirst, flushing]);
    expect(s.calls).toEqual([['a'], ['b']]);
    await w.flush(); // nothing queued: resolves at once
  });

  it('retries a failed batch until it is stored: no record is dropped', async () => {
    const s = heldStore();
    const w = new ActivationWriter(s.store, logger, 200, 5);
    s.failNext(1);
    await Promise.all([w.write(record('a')), w.write(record('b'))]);
    expect(s.calls).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });
});
