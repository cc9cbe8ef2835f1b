import { expect, it } from 'vitest';
import { StoreConflictError, type DocStore } from '../../src/store/artifact-store.js';

/**
 * The generic-document cases every DocStore passes: each ArtifactStore (in its contract) and the
 * RedisDocStore the cluster's feed providers keep their documents in. `store` answers the store
 * under test when a case runs (a suite may reopen it between cases).
 */
export function docStoreCases(store: () => DocStore): void {
  it('puts, gets, lists by prefix in id order, and deletes', async () => {
    const r1 = await store().putDoc('registrations', 'alarms:ns1/t2', { n: 2 });
    await store().putDoc('registrations', 'alarms:ns1/t1', { n: 1 });
    await store().putDoc('registrations', 'github:ns1/t1', { n: 3 });
    await store().putDoc('deadletters', 'alarms:ns1/t9', { n: 9 });
    await expect(store().putDoc('registrations', 'alarms:ns1/t2', { n: 5 })).rejects.toBeInstanceOf(StoreConflictError);
    const r2 = await store().putDoc('registrations', 'alarms:ns1/t2', { n: 22 }, r1);
    expect((await store().getDoc<{ n: number }>('registrations', 'alarms:ns1/t2'))?.doc.n).toBe(22);
    const listed = await store().listDocs<{ n: number }>('registrations', { prefix: 'alarms:', limit: 100, skip: 0 });
    expect(listed.map((d) => [d.id, d.doc.n])).toEqual([
      ['alarms:ns1/t1', 1],
      ['alarms:ns1/t2', 22],
    ]);
    expect((await store().listDocs('registrations', { limit: 100, skip: 0 })).length).toBe(3);
    await store().deleteDoc('registrations', 'alarms:ns1/t2', r2);
    expect(await store().getDoc('registrations', 'alarms:ns1/t2')).toBeUndefined();
    expect(await store().getDoc('deadletters', 'alarms:ns1/t9')).toBeDefined();
  });

  it('lets exactly one of many concurrent writers win, and refuses stale revs to puts and deletes', async () => {
    const created = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store().putDoc('claims', 'tick-1', { by: i })));
    expect(created.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of created) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StoreConflictError);
    const cur = (await store().getDoc<{ by: number }>('claims', 'tick-1'))!;
    // Twenty updates from the same rev at once: one wins, the others conflict.
    const updated = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store().putDoc('claims', 'tick-1', { by: 100 + i }, cur.rev)));
    const won = updated.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string>[];
    expect(won).toHaveLength(1);
    const now = (await store().getDoc<{ by: number }>('claims', 'tick-1'))!;
    expect(now.rev).toBe(won[0].value);
    await expect(store().deleteDoc('claims', 'tick-1', cur.rev)).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store().putDoc('claims', 'tick-1', { by: -1 }, cur.rev)).rejects.toBeInstanceOf(StoreConflictError);
    // Writes to different documents at once all go through.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => store().putDoc('claims', `many-${i}`, { i })));
    expect(new Set(many).size).toBeGreaterThan(0);
    expect((await store().listDocs('claims', { prefix: 'many-', limit: 100, skip: 0 })).length).toBe(50);
    await Promise.all(many.map((rev, i) => store().deleteDoc('claims', `many-${i}`, rev)));
    expect(await store().listDocs('claims', { prefix: 'many-', limit: 100, skip: 0 })).toEqual([]);
  });

  it('answers many concurrent reads each with its own document: present, missing, deleted, asked twice', async () => {
    const revs = await Promise.all(Array.from({ length: 30 }, (_, i) => store().putDoc('reads', `r-${i}`, { i, tags: [i] })));
    await store().deleteDoc('reads', 'r-7', revs[7]);
    const asked = [...Array.from({ length: 30 }, (_, i) => `r-${i}`), 'r-3', 'never', 'r-3'];
    const got = await Promise.all(asked.map((id) => store().getDoc<{ i: number; tags: number[] }>('reads', id)));
    got.forEach((g, k) => {
      const id = asked[k];
      if (id === 'never' || id === 'r-7') expect(g).toBeUndefined();
      else {
        const i = Number(id.slice(2));
        expect(g?.doc).toEqual({ i, tags: [i] });
        expect(g?.rev).toBe(revs[i]);
      }
    });
    // A caller changing what it read changes nobody else's copy, nor the stored document.
    try {
      got[3]!.doc.tags.push(99);
    } catch {
      // a store may hand out frozen documents instead of copies
    }
    expect(got[30]!.doc.tags).toEqual([3]);
    expect(got[32]!.doc.tags).toEqual([3]);
    expect((await store().getDoc<{ tags: number[] }>('reads', 'r-3'))?.doc.tags).toEqual([3]);
  });
}
