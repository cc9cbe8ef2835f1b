import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivationDoc, ActionDoc, PackageDoc, SubjectDoc, TriggerDoc } from '../../src/entities/documents.js';
import { StoreConflictError, type ArtifactStore } from '../../src/store/artifact-store.js';
import { docStoreCases } from './doc-store.contract.js';

/**
 * The one behaviour suite every ArtifactStore implementation must pass. `open` may be called
 * more than once on the same `location` to check durability across restarts.
 */
export interface StoreHarness {
  /** Opens a store at a location; the same location must see the same data. */
  open(location: string): Promise<ArtifactStore>;
  /** A fresh location for one test group. */
  newLocation(): string;
}

const action = (ns: string, name: string, updated: number): ActionDoc => ({
  entityType: 'action',
  namespace: ns,
  name,
  version: '0.0.1',
  publish: false,
  annotations: [{ key: 'exec', value: 'nodejs:20' }],
  updated,
  exec: { kind: 'nodejs:20', code: 'function main(){return {}}', binary: false },
  parameters: [],
  limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
});

const trigger = (ns: string, name: string, updated: number): TriggerDoc => ({
  entityType: 'trigger',
  namespace: ns,
  name,
  version: '0.0.1',
  publish: false,
  annotations: [],
  updated,
  parameters: [],
  limits: {},
});

const pkg = (ns: string, name: string, updated: number): PackageDoc => ({
  entityType: 'package',
  namespace: ns,
  name,
  version: '0.0.1',
  publish: false,
  annotations: [],
  updated,
  parameters: [],
});

const activation = (ns: string, id: string, start: number, paths: string[]): ActivationDoc => ({
  namespace: ns,
  name: paths[0].split('/').pop()!,
  version: '0.0.1',
  subject: 'subject1',
  publish: false,
  activationId: id,
  start,
  end: start + 5,
  duration: 5,
  response: { statusCode: 0, result: { n: start } },
  logs: [],
  annotations: [],
  entityPaths: paths,
});

const hex = (n: number) => n.toString(16).padStart(32, '0');

export function describeArtifactStore(name: string, harness: StoreHarness) {
  describe(`ArtifactStore contract: ${name}`, () => {
    let location: string;
    let store: ArtifactStore;

    beforeAll(async () => {
      location = harness.newLocation();
      store = await harness.open(location);
    });
    afterAll(async () => {
      await store?.close();
    });

    describe('subjects', () => {
      const subject: SubjectDoc = {
        subject: 'alice-subject',
        namespaces: [
          { name: 'alice', uuid: 'aaaaaaaa-0000-4000-8000-000000000001', key: 'k'.repeat(64) },
          { name: 'alice_dev', uuid: 'aaaaaaaa-0000-4000-8000-000000000002', key: 'd'.repeat(64) },
        ],
      };

      it('creates, reads and finds a subject by uuid and by namespace', async () => {
        const rev = await store.putSubject(subject);
        expect(typeof rev).toBe('string');
        const got = await store.getSubject('alice-subject');
        expect(got?.doc).toEqual(subject);
        expect(got?.rev).toBe(rev);
        expect((await store.findSubjectByUuid('aaaaaaaa-0000-4000-8000-000000000002'))?.subject).toBe('alice-subject');
        expect((await store.findSubjectByNamespace('alice_dev'))?.subject).toBe('alice-subject');
        expect(await store.findSubjectByUuid('aaaaaaaa-0000-4000-8000-00000000ffff')).toBeUndefined();
        expect(await store.findSubjectByNamespace('nobody')).toBeUndefined();
      });

      it('refuses a create over an existing subject and a stale rev', async () => {
        await expect(store.putSubject(subject)).rejects.toBeInstanceOf(StoreConflictError);
        const cur = (await store.getSubject('alice-subject'))!;
        const next = await store.putSubject({ ...subject, blocked: true }, cur.rev);
        expect(next).not.toBe(cur.rev);
        await expect(store.putSubject(subject, cur.rev)).rejects.toBeInstanceOf(StoreConflictError);
      });

      it('lists and deletes subjects, and the indexes follow', async () => {
        expect((await store.listSubjects()).map((s) => s.subject)).toContain('alice-subject');
        const cur = (await store.getSubject('alice-subject'))!;
        await expect(store.deleteSubject('alice-subject', 'bogus-rev')).rejects.toBeInstanceOf(StoreConflictError);
        await store.deleteSubject('alice-subject', cur.rev);
        expect(await store.getSubject('alice-subject')).toBeUndefined();
        expect(await store.findSubjectByUuid('aaaaaaaa-0000-4000-8000-000000000001')).toBeUndefined();
      });
    });

    describe('entities', () => {
      it('puts, gets, updates with the right rev and refuses a stale one', async () => {
        const rev1 = await store.putEntity('ns1/a1', action('ns1', 'a1', 1000));
        await expect(store.putEntity('ns1/a1', action('ns1', 'a1', 1001))).rejects.toBeInstanceOf(StoreConflictError);
        const rev2 = await store.putEntity('ns1/a1', { ...action('ns1', 'a1', 1002), version: '0.0.2' }, rev1);
        await expect(store.putEntity('ns1/a1', action('ns1', 'a1', 1003), rev1)).rejects.toBeInstanceOf(StoreConflictError);
        const got = await store.getEntity('ns1/a1');
        expect(got?.rev).toBe(rev2);
        expect(got?.doc.version).toBe('0.0.2');
        expect(await store.getEntity('ns1/missing')).toBeUndefined();
      });

      it('never lets a reader change a stored document through what it was given', async () => {
        await store.putEntity('ns1/immutable', action('ns1', 'immutable', 10));
        const got = (await store.getEntity('ns1/immutable'))!;
        try {
          (got.doc as { version: string }).version = '9.9.9';
          got.doc.annotations.push({ key: 'x', value: 1 });
        } catch {
          // a store may hand out frozen documents instead of copies
        }
        const again = (await store.getEntity('ns1/immutable'))!;
        expect(again.doc.version).toBe('0.0.1');
        expect(again.doc.annotations).toEqual([{ key: 'exec', value: 'nodejs:20' }]);
        await store.deleteEntity('ns1/immutable', again.rev);
      });

      it('keeps names with spaces and punctuation intact', async () => {
        const id = 'ns1/a b@c.d&e-f';
        await store.putEntity(id, action('ns1', 'a b@c.d&e-f', 500));
        expect((await store.getEntity(id))?.doc.name).toBe('a b@c.d&e-f');
      });

      it('lists by type and namespace, newest first, with limit and skip', async () => {
        await store.putEntity('ns1/a2', action('ns1', 'a2', 2000));
        await store.putEntity('ns1/a3', action('ns1', 'a3', 3000));
        await store.putEntity('ns1/p1', pkg('ns1', 'p1', 1500));
        await store.putEntity('ns1/p1/pa', action('ns1/p1', 'pa', 2500));
        await store.putEntity('ns1/t1', trigger('ns1', 't1', 1200));
        await store.putEntity('ns2/a1', action('ns2', 'a1', 9000));
        await store.putEntity('ns10/a1', action('ns10', 'a1', 9000));

        const top = await store.listEntities({ type: 'action', namespace: 'ns1', limit: 30, skip: 0 });
        expect(top.map((d) => d.name)).toEqual(['a3', 'a2', 'a1', 'a b@c.d&e-f']);

        const all = await store.listEntities({ type: 'action', namespace: 'ns1', includePackages: true, limit: 30, skip: 0 });
        expect(all.map((d) => `${d.namespace}/${d.name}`)).toEqual([
          'ns1/a3',
          'ns1/p1/pa',
          'ns1/a2',
          'ns1/a1',
          'ns1/a b@c.d&e-f',
        ]);

        const inPkg = await store.listEntities({ type: 'action', namespace: 'ns1/p1', limit: 30, skip: 0 });
        expect(inPkg.map((d) => d.name)).toEqual(['pa']);

        const page = await store.listEntities({ type: 'action', namespace: 'ns1', includePackages: true, limit: 2, skip: 1 });
        expect(page.map((d) => d.name)).toEqual(['pa', 'a2']);

        expect((await store.listEntities({ type: 'package', namespace: 'ns1', limit: 30, skip: 0 })).map((d) => d.name)).toEqual(['p1']);
        expect((await store.listEntities({ type: 'trigger', namespace: 'ns1', limit: 30, skip: 0 })).map((d) => d.name)).toEqual(['t1']);
        expect(await store.countEntities({ type: 'action', namespace: 'ns1', includePackages: true })).toBe(5);
        expect(await store.countEntities({ type: 'action', namespace: 'ns1/p1' })).toBe(1);
        expect(await store.countEntities({ type: 'rule', namespace: 'ns1' })).toBe(0);
      });

      it('deletes with the current rev only, and the lists follow', async () => {
        const cur = (await store.getEntity('ns1/a2'))!;
        await expect(store.deleteEntity('ns1/a2', 'stale')).rejects.toBeInstanceOf(StoreConflictError);
        await store.deleteEntity('ns1/a2', cur.rev);
        expect(await store.getEntity('ns1/a2')).toBeUndefined();
        const names = (await store.listEntities({ type: 'action', namespace: 'ns1', limit: 30, skip: 0 })).map((d) => d.name);
        expect(names).not.toContain('a2');
        // A deleted id can be created anew.
        await store.putEntity('ns1/a2', action('ns1', 'a2', 4000));
        expect((await store.getEntity('ns1/a2'))?.doc.updated).toBe(4000);
      });
    });

    describe('activations', () => {
      it('writes a batch and reads each record back by namespace and id', async () => {
        const docs = [
          activation('ns1', hex(1), 1000, ['hello']),
          activation('ns1', hex(2), 2000, ['pkg/hello', 'bind/hello']),
          activation('ns1', hex(3), 3000, ['other']),
          activation('ns2', hex(4), 4000, ['hello']),
        ];
        await store.putActivations(docs);
        expect((await store.getActivation('ns1', hex(2)))?.response.result).toEqual({ n: 2000 });
        // Visible only in the namespace that was charged.
        expect(await store.getActivation('ns2', hex(2))).toBeUndefined();
        expect(await store.getActivation('ns1', hex(99))).toBeUndefined();
      });

      it('lists newest first, by name, by time, with limit and skip, and counts', async () => {
        const ids = (q: Parameters<ArtifactStore['listActivations']>[0]) =>
          store.listActivations(q).then((l) => l.map((a) => a.activationId));
        expect(await ids({ namespace: 'ns1', limit: 30, skip: 0 })).toEqual([hex(3), hex(2), hex(1)]);
        expect(await ids({ namespace: 'ns1', limit: 1, skip: 1 })).toEqual([hex(2)]);
        expect(await ids({ namespace: 'ns1', name: 'hello', limit: 30, skip: 0 })).toEqual([hex(1)]);
        expect(await ids({ namespace: 'ns1', name: 'pkg/hello', limit: 30, skip: 0 })).toEqual([hex(2)]);
        expect(await ids({ namespace: 'ns1', name: 'bind/hello', limit: 30, skip: 0 })).toEqual([hex(2)]);
        expect(await ids({ namespace: 'ns1', since: 2000, limit: 30, skip: 0 })).toEqual([hex(3), hex(2)]);
        expect(await ids({ namespace: 'ns1', upto: 2000, limit: 30, skip: 0 })).toEqual([hex(2), hex(1)]);
        expect(await ids({ namespace: 'ns1', since: 1500, upto: 2500, limit: 30, skip: 0 })).toEqual([hex(2)]);
        expect(await store.countActivations({ namespace: 'ns1' })).toBe(3);
        expect(await store.countActivations({ namespace: 'ns1', name: 'hello' })).toBe(1);
        expect(await store.countActivations({ namespace: 'ns3' })).toBe(0);
      });

      it('writes a large batch', async () => {
        const batch = Array.from({ length: 500 }, (_, i) => activation('bulk', hex(10_000 + i), 10_000 + i, ['noop']));
        await store.putActivations(batch);
        expect(await store.countActivations({ namespace: 'bulk', name: 'noop' })).toBe(500);
        const newest = await store.listActivations({ namespace: 'bulk', limit: 2, skip: 0 });
        expect(newest.map((a) => a.start)).toEqual([10_499, 10_498]);
      });
    });

    describe('generic documents', () => {
      docStoreCases(() => store);
    });

    describe('durability', () => {
      it('sees every write after a close and reopen', async () => {
        await store.putEntity('dur/a', action('dur', 'a', 1));
        const rev = (await store.getEntity('dur/a'))!.rev;
        await store.putEntity('dur/a', { ...action('dur', 'a', 2), version: '0.0.9' }, rev);
        await store.putEntity('dur/gone', action('dur', 'gone', 1));
        await store.deleteEntity('dur/gone', (await store.getEntity('dur/gone'))!.rev);
        await store.putActivations([activation('dur', hex(77), 77, ['a'])]);
        await store.close();

        store = await harness.open(location);
        const got = await store.getEntity('dur/a');
        expect(got?.doc.version).toBe('0.0.9');
        expect(got?.rev).not.toBe(rev);
        expect(await store.getEntity('dur/gone')).toBeUndefined();
        expect((await store.getActivation('dur', hex(77)))?.start).toBe(77);
        expect(await store.countActivations({ namespace: 'bulk' })).toBe(500);
        expect((await store.getDoc('deadletters', 'alarms:ns1/t9'))?.doc).toEqual({ n: 9 });
      });
    });
  });
}
