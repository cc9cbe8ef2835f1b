import { isDeepStrictEqual } from 'node:util';
import nano, { type DocumentScope, type ServerScope } from 'nano';
import type { ActivationDoc, EntityDoc, SubjectDoc } from '../../entities/documents.js';
import {
  activationDocId,
  type ActivationQuery,
  type ArtifactStore,
  type DocQuery,
  type EntityQuery,
  type Stored,
} from '../artifact-store.js';
import { BulkWriteError } from './couch-errors.js';
import { CouchPost } from './couch-post.js';
import { activationsDesign, DESIGN_DOC, entitiesDesign, SubjectViews, subjectsDesign } from './design-docs.js';
import { BulkDocReader } from './bulk-doc-reader.js';
import { BulkDocWriter } from './bulk-doc-writer.js';
import { DocAccess, stripReserved, type RawDoc } from './doc-access.js';
import { silentLogger, type StoreLogger } from './logger.js';
import { activationRange, entityRange, prefixRange, type ViewRange } from './queries.js';
import { ensureDatabase, ensureDesignDoc } from './setup.js';

export const DEFAULT_DB_PREFIX = 'whiskhub_';

export interface CouchDbStoreOptions {
  /** Server URL, credentials included if needed: `http://user:pass@host:5984`. */
  url: string;
  /** Prepended to every database name; lets several deployments (or test runs) share a server. */
  dbPrefix?: string;
  logger?: StoreLogger;
  /** Documents per `_bulk_docs` request, so one huge batch is not one huge request body. */
  bulkBatchSize?: number;
}

export interface CouchDbNames {
  subjects: string;
  entities: string;
  activations: string;
  docs: string;
}

export const couchDbNames = (prefix: string = DEFAULT_DB_PREFIX): CouchDbNames => ({
  subjects: `${prefix}subjects`,
  entities: `${prefix}entities`,
  activations: `${prefix}activations`,
  docs: `${prefix}docs`,
});

// CouchDB's rule for database names; checked up front so a bad prefix fails at construction with
// a message naming the prefix, not at the first request.
const DB_PREFIX_PATTERN = /^[a-z][a-z0-9_$()+/-]*$/;

interface Row {
  id: string;
  doc?: RawDoc | null;
}

interface CountResult {
  rows: { value: number }[];
}

export class CouchDbArtifactStore implements ArtifactStore {
  readonly dbNames: CouchDbNames;
  private readonly server: ServerScope;
  private readonly logger: StoreLogger;
  private readonly bulkBatchSize: number;
  private readonly subjects: DocAccess;
  private readonly entities: DocAccess;
  private readonly activations: DocAccess;
  private readonly docs: DocAccess;
  /** Generic documents are written in batches (claims, idempotency keys: many small concurrent writes). */
  private readonly docWrites: BulkDocWriter;
  /** The hot `_bulk_docs` writes go through this rather than nano (see CouchPost). */
  private readonly posts: CouchPost;
  private readonly docReads: BulkDocReader;
  private closed = false;

  constructor(options: CouchDbStoreOptions) {
    const prefix = options.dbPrefix ?? DEFAULT_DB_PREFIX;
    if (!DB_PREFIX_PATTERN.test(prefix)) {
      throw new Error(`invalid CouchDB database prefix ${JSON.stringify(prefix)}: must match ${DB_PREFIX_PATTERN}`);
    }
    this.server = nano({ url: options.url });
    this.posts = new CouchPost(options.url);
    this.logger = options.logger ?? silentLogger;
    this.bulkBatchSize = Math.max(1, options.bulkBatchSize ?? 500);
    this.dbNames = couchDbNames(prefix);
    this.subjects = new DocAccess(this.server, this.dbNames.subjects);
    this.entities = new DocAccess(this.server, this.dbNames.entities);
    this.activations = new DocAccess(this.server, this.dbNames.activations);
    this.docs = new DocAccess(this.server, this.dbNames.docs);
    this.docWrites = new BulkDocWriter(this.posts, this.docs);
    this.docReads = new BulkDocReader(this.posts, this.docs);
  }

  async init(): Promise<void> {
    this.open();
    for (const name of Object.values(this.dbNames)) await ensureDatabase(this.server, name, this.logger);
    await ensureDesignDoc(this.server, this.dbNames.subjects, subjectsDesign, this.logger);
    await ensureDesignDoc(this.server, this.dbNames.entities, entitiesDesign, this.logger);
    await ensureDesignDoc(this.server, this.dbNames.activations, activationsDesign, this.logger);
  }

  // nano keeps no connections of its own (it uses the global fetch pool), so closing only stops
  // this instance from being used by mistake after shutdown.
  async close(): Promise<void> {
    this.closed = true;
    this.posts.close();
  }

  // --- subjects ---

  async getSubject(subject: string): Promise<Stored<SubjectDoc> | undefined> {
    return stored<SubjectDoc>(subject, await this.open().subjects.get(subject));
  }

  putSubject(doc: SubjectDoc, rev?: string): Promise<string> {
    return this.open().subjects.put(doc.subject, doc, rev);
  }

  deleteSubject(subject: string, rev: string): Promise<void> {
    return this.open().subjects.delete(subject, rev);
  }

  // Listing every subject is inherently a full read of the (small) subjects database.
  async listSubjects(): Promise<SubjectDoc[]> {
    const res = await this.db(this.dbNames.subjects).list({ include_docs: true });
    return docsOf<SubjectDoc>(res.rows.filter((r) => !r.id.startsWith('_design/')));
  }

  findSubjectByUuid(uuid: string): Promise<SubjectDoc | undefined> {
    return this.findSubject(SubjectViews.byUuid, uuid);
  }

  findSubjectByNamespace(namespace: string): Promise<SubjectDoc | undefined> {
    return this.findSubject(SubjectViews.byNamespace, namespace);
  }

  private async findSubject(view: string, key: string): Promise<SubjectDoc | undefined> {
    const res = await this.db(this.dbNames.subjects).view(DESIGN_DOC, view, { key, include_docs: true, limit: 1 });
    return docsOf<SubjectDoc>(res.rows)[0];
  }

  // --- entities ---

  async getEntity(id: string): Promise<Stored<EntityDoc> | undefined> {
    return stored<EntityDoc>(id, await this.open().entities.get(id));
  }

  putEntity(id: string, doc: EntityDoc, rev?: string): Promise<string> {
    return this.open().entities.put(id, doc, rev);
  }

  deleteEntity(id: string, rev: string): Promise<void> {
    return this.open().entities.delete(id, rev);
  }

  listEntities(query: EntityQuery): Promise<EntityDoc[]> {
    return this.listView<EntityDoc>(this.dbNames.entities, entityRange(query), query.limit, query.skip);
  }

  countEntities(query: Omit<EntityQuery, 'limit' | 'skip'>): Promise<number> {
    return this.countView(this.dbNames.entities, entityRange(query));
  }

  // --- activations ---

  /**
   * Writes in `_bulk_docs` batches. Activation ids are unique, so a conflict means this record was
   * written before (a retried batch); it counts as written if the stored copy is the same record.
   * Any other per-document failure is thrown as a BulkWriteError after the whole batch was tried,
   * and retrying the same batch is then safe.
   */
  async putActivations(docs: ActivationDoc[]): Promise<void> {
    this.open();
    const failures: BulkWriteError['failures'] = [];
    for (let i = 0; i < docs.length; i += this.bulkBatchSize) {
      failures.push(...(await this.bulkInsert(docs.slice(i, i + this.bulkBatchSize))));
    }
    if (failures.length > 0) throw new BulkWriteError(this.dbNames.activations, failures);
  }

  private async bulkInsert(batch: ActivationDoc[]): Promise<BulkWriteError['failures']> {
    const byId = new Map(batch.map((d) => [activationDocId(d.namespace, d.activationId), d]));
    const db = this.db(this.dbNames.activations);
    const results = await this.posts.post<{ id: string; error?: string; reason?: string }[]>(this.dbNames.activations, '_bulk_docs', { docs: [...byId].map(([_id, d]) => ({ ...d, _id })) });
    const failures: BulkWriteError['failures'] = [];
    const conflicts: string[] = [];
    for (const r of results) {
      if (!r.error) continue;
      if (r.error === 'conflict') conflicts.push(r.id);
      else failures.push({ id: r.id, error: r.error, reason: r.reason });
    }
    if (conflicts.length > 0) {
      const existing = await db.fetch({ keys: conflicts });
      const found = new Map<string, RawDoc>();
      for (const row of existing.rows) if ('doc' in row && row.doc) found.set(row.id, row.doc as unknown as RawDoc);
      for (const id of conflicts) {
        const stored = found.get(id);
        // Compare as JSON would store it: undefined members are not written.
        const same = stored !== undefined && isDeepStrictEqual(stripReserved(stored), JSON.parse(JSON.stringify(byId.get(id))));
        if (!same) failures.push({ id, error: 'conflict', reason: 'a different activation with this id exists' });
      }
      if (failures.length < conflicts.length) {
        this.logger.info({ db: this.dbNames.activations, duplicates: conflicts.length }, 'activations already written; skipped');
      }
    }
    return failures;
  }

  async getActivation(namespace: string, activationId: string): Promise<ActivationDoc | undefined> {
    const raw = await this.open().activations.get(activationDocId(namespace, activationId));
    return raw ? stripReserved<ActivationDoc>(raw) : undefined;
  }

  async listActivations(query: ActivationQuery): Promise<ActivationDoc[]> {
    const range = activationRange(query);
    return range ? this.listView<ActivationDoc>(this.dbNames.activations, range, query.limit, query.skip) : [];
  }

  async countActivations(query: Omit<ActivationQuery, 'limit' | 'skip'>): Promise<number> {
    const range = activationRange(query);
    return range ? this.countView(this.dbNames.activations, range) : 0;
  }

  // --- generic documents: id `${collection}/${id}` in one database, listed through _all_docs ---

  async getDoc<T extends object>(collection: string, id: string): Promise<Stored<T> | undefined> {
    this.open();
    return stored<T>(id, await this.docReads.get(docId(collection, id)));
  }

  putDoc<T extends object>(collection: string, id: string, doc: T, rev?: string): Promise<string> {
    this.open();
    return this.docWrites.put(docId(collection, id), doc, rev);
  }

  deleteDoc(collection: string, id: string, rev: string): Promise<void> {
    this.open();
    return this.docWrites.delete(docId(collection, id), rev);
  }

  async listDocs<T extends object>(collection: string, query: DocQuery): Promise<Stored<T>[]> {
    const head = docId(collection, '');
    const res = await this.db(this.dbNames.docs).list({
      ...prefixRange(head + (query.prefix ?? '')),
      include_docs: true,
      limit: query.limit,
      skip: query.skip,
    });
    return res.rows.flatMap((r) => {
      const s = stored<T>(r.id.slice(head.length), r.doc as unknown as RawDoc | undefined);
      return s ? [s] : [];
    });
  }

  // --- plumbing ---

  private open(): this {
    if (this.closed) throw new Error('CouchDbArtifactStore is closed');
    return this;
  }

  private db(name: string): DocumentScope<Record<string, unknown>> {
    return this.open().server.use(name);
  }

  private async listView<T>(db: string, range: ViewRange, limit: number, skip: number): Promise<T[]> {
    const res = await this.db(db).view(DESIGN_DOC, range.view, {
      startkey: range.startkey,
      endkey: range.endkey,
      descending: true,
      reduce: false,
      include_docs: true,
      limit,
      skip,
    });
    return docsOf<T>(res.rows as Row[]);
  }

  private async countView(db: string, range: ViewRange): Promise<number> {
    const res = (await this.db(db).view(DESIGN_DOC, range.view, {
      startkey: range.startkey,
      endkey: range.endkey,
      descending: true,
      reduce: true,
    })) as unknown as CountResult;
    return res.rows[0]?.value ?? 0;
  }
}

export function createCouchDbStore(options: CouchDbStoreOptions): CouchDbArtifactStore {
  return new CouchDbArtifactStore(options);
}

const stored = <T>(id: string, raw: RawDoc | null | undefined): Stored<T> | undefined =>
  raw ? { id, rev: raw._rev, doc: stripReserved<T>(raw) } : undefined;

// A row whose document vanished between index read and document read has doc null; skip it.
const docsOf = <T>(rows: { doc?: unknown }[]): T[] =>
  rows.flatMap((r) => (r.doc ? [stripReserved<T>(r.doc as Record<string, unknown>)] : []));

/**
 * One database holds every collection, so the collection name must not be able to reach into
 * another's id range (`a` + `b/x` vs `a/b` + `x`) or start with CouchDB's reserved `_`.
 */
function docId(collection: string, id: string): string {
  if (collection === '' || collection.includes('/') || collection.startsWith('_')) {
    throw new Error(`invalid document collection ${JSON.stringify(collection)}`);
  }
  return `${collection}/${id}`;
}
