import { randomBytes } from 'node:crypto';
import nano from 'nano';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { couchDbNames, createCouchDbStore, CouchDbArtifactStore } from '../../src/store/couchdb/couchdb-store.js';
import { DESIGN_DOC, entitiesDesign } from '../../src/store/couchdb/design-docs.js';
import { describeArtifactStore } from './artifact-store.contract.js';

// No skipping: this file runs after deploy/dev/services-up.sh, which exports the URL. A missing
// URL means the services were not started, and that must show as a failure.
const url = process.env.WHISKHUB_COUCHDB_URL;
if (!url) {
  throw new Error('WHISKHUB_COUCHDB_URL is not set: start the services with deploy/dev/services-up.sh (it exports the URL) before running the contract-services tests');
}

// Each test group gets its own databases: the "location" of a CouchDB store is its db prefix.
const prefixes: string[] = [];
const newPrefix = () => {
  const prefix = `t${Date.now()}_${randomBytes(4).toString('hex')}_`;
  prefixes.push(prefix);
  return prefix;
};
const server = nano(url);

beforeAll(async () => {
  try {
    await server.info();
  } catch (err) {
    throw new Error(`no CouchDB answers at WHISKHUB_COUCHDB_URL (${new URL(url).host}): ${String(err)}`);
  }
});

afterAll(async () => {
  const names = prefixes.flatMap((p) => Object.values(couchDbNames(p)));
  await Promise.all(names.map((n) => server.db.destroy(n).catch(() => undefined)));
});

describeArtifactStore('couchdb', {
  newLocation: newPrefix,
  async open(location) {
    const store = createCouchDbStore({ url, dbPrefix: location });
    await store.init();
    return store;
  },
});

describe('CouchDbArtifactStore specifics', () => {
  let store: CouchDbArtifactStore;
  let prefix: string;

  beforeAll(async () => {
    prefix = newPrefix();
    store = createCouchDbStore({ url, dbPrefix: prefix });
    await store.init();
  });

  it('init() is idempotent and leaves the design documents alone when they match', async () => {
    const ddocs = server.use(couchDbNames(prefix).entities);
    const before = await ddocs.get(`_design/${DESIGN_DOC}`);
    await store.init();
    await createCouchDbStore({ url, dbPrefix: prefix }).init();
    const after = await ddocs.get(`_design/${DESIGN_DOC}`);
    expect(after._rev).toBe(before._rev);
  });

  it('init() replaces a design document whose views changed', async () => {
    const db = server.use<Record<string, unknown>>(couchDbNames(prefix).entities);
    const id = `_design/${DESIGN_DOC}`;
    const old = await db.get(id);
    // An older deployment's design doc: one view missing, another with a different map.
    await db.insert({
      _id: id,
      _rev: old._rev,
      language: 'javascript',
      views: { by_namespace: { map: 'function (doc) { emit(doc._id, null); }' } },
    });
    await store.putEntity('up/a', {
      entityType: 'trigger', namespace: 'up', name: 'a', version: '0.0.1', publish: false, annotations: [], updated: 7, parameters: [], limits: {},
    });

    await store.init();
    const now = await db.get(id);
    expect(now.views).toEqual(entitiesDesign.views);
    expect((await store.listEntities({ type: 'trigger', namespace: 'up', includePackages: true, limit: 10, skip: 0 })).map((d) => d.name)).toEqual(['a']);
    expect(await store.countEntities({ type: 'trigger', namespace: 'up' })).toBe(1);
  });

  it('creates the databases when another instance races it', async () => {
    const p = newPrefix();
    await Promise.all([1, 2, 3].map(() => createCouchDbStore({ url, dbPrefix: p }).init()));
    const dbs = await server.db.list();
    for (const n of Object.values(couchDbNames(p))) expect(dbs).toContain(n);
  });

  it('keeps ids nano would not encode (containing _local) and strips _id/_rev', async () => {
    const id = 'ns1/pkg_local/job_local';
    await store.putDoc('registrations', 'a_local/b', { n: 1 });
    expect((await store.getDoc('registrations', 'a_local/b'))?.doc).toEqual({ n: 1 });
    await store.putEntity(id, {
      entityType: 'trigger', namespace: 'ns1/pkg_local', name: 'job_local', version: '0.0.1', publish: false, annotations: [], updated: 1, parameters: [], limits: {},
    });
    const got = await store.getEntity(id);
    expect(got?.id).toBe(id);
    expect(Object.keys(got!.doc).filter((k) => k.startsWith('_'))).toEqual([]);
  });

  it('treats a re-sent identical activation as written, a different one as a failure', async () => {
    const a = {
      namespace: 'dup', name: 'x', version: '0.0.1', subject: 's', publish: false, activationId: 'a'.repeat(32),
      start: 1, end: 2, response: { statusCode: 0 }, logs: [], annotations: [], entityPaths: ['x'],
    };
    await store.putActivations([a]);
    await store.putActivations([a, { ...a, activationId: 'b'.repeat(32) }]);
    expect(await store.countActivations({ namespace: 'dup' })).toBe(2);
    await expect(store.putActivations([{ ...a, start: 99 }])).rejects.toThrow(/bulk write .* failed/);
  });

  it('refuses an invalid db prefix or collection', async () => {
    expect(() => createCouchDbStore({ url, dbPrefix: 'Bad Prefix' })).toThrow(/invalid CouchDB database prefix/);
    await expect(store.getDoc('a/b', 'x')).rejects.toThrow(/invalid document collection/);
  });

  it('refuses record and document writes to a database that is gone with CouchDB\'s reason, never silently', async () => {
    const p = newPrefix();
    const gone = createCouchDbStore({ url, dbPrefix: p });
    await gone.init();
    await server.db.destroy(couchDbNames(p).activations);
    await server.db.destroy(couchDbNames(p).docs);
    const record = { namespace: 'ns', name: 'a', version: '0.0.1', subject: 's', publish: false, activationId: 'a'.repeat(32), start: 1, end: 2, duration: 1, response: { statusCode: 0, status: 'success', success: true, result: {} }, logs: [], annotations: [], entityPaths: ['a'] };
    await expect(gone.putActivations([record as never])).rejects.toMatchObject({ statusCode: 404 });
    await expect(gone.putDoc('c', 'x', { v: 1 })).rejects.toMatchObject({ statusCode: 404 });
    await expect(gone.getDoc('c', 'x')).rejects.toMatchObject({ statusCode: 404 });
  });
});
