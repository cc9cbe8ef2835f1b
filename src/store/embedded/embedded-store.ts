import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ActivationDoc, EntityDoc, SubjectDoc } from '../../entities/documents.js';
import { rootNamespace } from '../../entities/names.js';
import {
  activationDocId,
  StoreConflictError,
  type ActivationQuery,
  type ArtifactStore,
  type DocQuery,
  type EntityQuery,
  type Stored,
} from '../artifact-store.js';
import { stringifyDoc } from '../../entities/json-text.js';
import { newRevSuffix } from '../rev-suffix.js';
import { DurableLog } from './durable-log.js';
import { lockDataDir } from './dir-lock.js';
import { SortedActivations } from './sorted-activations.js';

/** One line of the log: a put or a delete in one of the store's tables. */
type LogRecord =
  | { t: 'subject' | 'entity'; op: 'put'; id: string; rev: string; doc: object }
  | { t: 'subject' | 'entity'; op: 'del'; id: string }
  | { t: 'doc'; op: 'put'; c: string; id: string; rev: string; doc: object }
  | { t: 'doc'; op: 'del'; c: string; id: string }
  | { t: 'activation'; op: 'put'; doc: ActivationDoc };

interface Row<T> {
  rev: string;
  held: Held<T>;
  /** The length of its line in the log, when written by this process. */
  bytes?: number;
}

/**
 * A stored document as the JSON it was committed as, parsed (and frozen) the first time it is
 * read. Many documents are written and never read back in this process: trigger records, fire
 * jobs taken straight from memory, delivery claims. For them the write costs one stringify and
 * no parse, and a 6 KB webhook payload or a 900 KB Kafka batch is not walked twice more.
 */
class Held<T> {
  private json?: string;
  private value?: T;

  private constructor(json: string | undefined, value: T | undefined) {
    this.json = json;
    this.value = value;
  }

  static fromJson<T>(json: string): Held<T> {
    return new Held<T>(json, undefined);
  }

  /** A value parsed from the log at start: already our own copy. */
  static fromParsed<T>(value: T): Held<T> {
    return new Held<T>(undefined, value);
  }

  /** The document's JSON (as committed, or made again from the parsed value). */
  text(): string {
    return this.json ?? JSON.stringify(this.value);
  }

  get doc(): T {
    if (this.value === undefined) {
      this.value = JSON.parse(this.json!) as T;
      this.json = undefined;
    }
    return deepFreeze(this.value);
  }
}

/**
 * The standalone store: every table lives in memory and every write is appended to one durable
 * log before its promise resolves, so it survives restarts and crashes. The log is compacted at
 * start when dead records outnumber live ones, and while running once the lines of documents
 * replaced or deleted since are half of it and past 64 MB: fire jobs and delivery batches of up to
 * a megabyte are written and deleted all day long, and a log that only grew would fill the disk.
 */
export class EmbeddedArtifactStore implements ArtifactStore {
  private readonly subjects = new Map<string, Row<SubjectDoc>>();
  private readonly entities = new Map<string, Row<EntityDoc>>();
  /** Root namespace → entity ids, so listing one namespace does not scan all. */
  private readonly entitiesByRoot = new Map<string, Set<string>>();
  private readonly activations = new Map<string, Held<ActivationDoc>>();
  private readonly activationsByNs = new Map<string, SortedActivations>();
  private readonly docs = new Map<string, Map<string, Row<object>>>();
  private readonly log: DurableLog<LogRecord>;
  private unlock?: () => void;
  private compacting?: Promise<void>;
  /** Log bytes (UTF-16 units) of lines that a compaction would drop, written by this process. */
  private deadBytes = 0;
  private readonly minCompactBytes: number;
  private readonly onCompactError: (err: unknown) => void;
  private readonly retentionMs: number;
  private readonly clock: () => number;
  private expiry?: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    options: {
      minCompactBytes?: number;
      onCompactError?: (err: unknown) => void;
      /** Activation records whose start is older than this are dropped (0: kept forever). */
      activationRetentionMs?: number;
      clock?: () => number;
    } = {},
  ) {
    this.log = new DurableLog(join(dir, 'store.log'));
    this.minCompactBytes = options.minCompactBytes ?? 64 * 1024 * 1024;
    // A failed compaction leaves the old log in use (nothing is lost); it is tried again once as much again has died.
    this.onCompactError = options.onCompactError ?? (() => undefined);
    this.retentionMs = options.activationRetentionMs ?? 0;
    this.clock = options.clock ?? Date.now;
  }

  async init(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.unlock = lockDataDir(this.dir);
    const records = await this.log.open((r, size) => this.apply(r, undefined, size));
    this.dropExpired();
    if (this.retentionMs > 0) {
      this.expiry = setInterval(() => this.expireActivations(), Math.min(60_000, Math.max(1_000, this.retentionMs / 10)));
      this.expiry.unref();
    }
    const live = this.subjects.size + this.entities.size + this.activations.size + this.countDocs();
    if (records > 2 * live + 10_000) await this.log.rewriteLines(this.snapshotLines());
  }

  async close(): Promise<void> {
    clearInterval(this.expiry);
    await this.compacting;
    await this.log.close();
    this.unlock?.();
    this.unlock = undefined;
  }

  // ---- subjects -------------------------------------------------------------------------------

  async getSubject(subject: string): Promise<Stored<SubjectDoc> | undefined> {
    return wrap(subject, this.subjects.get(subject));
  }

  async putSubject(doc: SubjectDoc, rev?: string): Promise<string> {
    const next = nextRev(checkRev(subject(doc), this.subjects.get(doc.subject), rev));
    await this.commit({ t: 'subject', op: 'put', id: doc.subject, rev: next, doc });
    return next;
  }

  async deleteSubject(id: string, rev: string): Promise<void> {
    checkDelete(id, this.subjects.get(id), rev);
    await this.commit({ t: 'subject', op: 'del', id });
  }

  async listSubjects(): Promise<SubjectDoc[]> {
    return [...this.subjects.values()].map((r) => r.held.doc);
  }

  async findSubjectByUuid(uuid: string): Promise<SubjectDoc | undefined> {
    for (const { held: { doc } } of this.subjects.values()) if (doc.namespaces.some((n) => n.uuid === uuid)) return doc;
    return undefined;
  }

  async findSubjectByNamespace(namespace: string): Promise<SubjectDoc | undefined> {
    for (const { held: { doc } } of this.subjects.values()) if (doc.namespaces.some((n) => n.name === namespace)) return doc;
    return undefined;
  }

  // ---- entities -------------------------------------------------------------------------------

  async getEntity(id: string): Promise<Stored<EntityDoc> | undefined> {
    return wrap(id, this.entities.get(id));
  }

  async putEntity(id: string, doc: EntityDoc, rev?: string): Promise<string> {
    const next = nextRev(checkRev(id, this.entities.get(id), rev));
    await this.commit({ t: 'entity', op: 'put', id, rev: next, doc });
    return next;
  }

  async deleteEntity(id: string, rev: string): Promise<void> {
    checkDelete(id, this.entities.get(id), rev);
    await this.commit({ t: 'entity', op: 'del', id });
  }

  async listEntities(q: EntityQuery): Promise<EntityDoc[]> {
    return this.matchEntities(q)
      .slice(q.skip, q.skip + q.limit);
  }

  async countEntities(q: Omit<EntityQuery, 'limit' | 'skip'>): Promise<number> {
    return this.matchEntities(q).length;
  }

  private matchEntities(q: Omit<EntityQuery, 'limit' | 'skip'>): EntityDoc[] {
    const ids = this.entitiesByRoot.get(rootNamespace(q.namespace)) ?? new Set<string>();
    const out: EntityDoc[] = [];
    for (const id of ids) {
      const doc = this.entities.get(id)!.held.doc;
      if (doc.entityType !== q.type) continue;
      const inScope = doc.namespace === q.namespace || (q.includePackages && rootNamespace(doc.namespace) === q.namespace);
      if (inScope) out.push(doc);
    }
    return out.sort((a, b) => b.updated - a.updated);
  }

  // ---- activations ----------------------------------------------------------------------------

  async putActivations(docs: ActivationDoc[]): Promise<void> {
    if (docs.length === 0) return;
    await this.commitAll(docs.map((doc) => ({ t: 'activation', op: 'put', doc }) as const));
  }

  async getActivation(namespace: string, activationId: string): Promise<ActivationDoc | undefined> {
    return this.activations.get(activationDocId(namespace, activationId))?.doc;
  }

  async listActivations(q: ActivationQuery): Promise<ActivationDoc[]> {
    const list = this.activationsByNs.get(q.namespace);
    if (!list) return [];
    return list.newestFirst(q, q.skip, q.limit);
  }

  async countActivations(q: Omit<ActivationQuery, 'limit' | 'skip'>): Promise<number> {
    return this.activationsByNs.get(q.namespace)?.count(q) ?? 0;
  }

  // ---- generic documents ----------------------------------------------------------------------

  async getDoc<T extends object>(collection: string, id: string): Promise<Stored<T> | undefined> {
    return wrap(id, this.docs.get(collection)?.get(id) as Row<T> | undefined);
  }

  async putDoc<T extends object>(collection: string, id: string, doc: T, rev?: string): Promise<string> {
    const next = nextRev(checkRev(`${collection}/${id}`, this.docs.get(collection)?.get(id), rev));
    await this.commit({ t: 'doc', op: 'put', c: collection, id, rev: next, doc });
    return next;
  }

  async deleteDoc(collection: string, id: string, rev: string): Promise<void> {
    checkDelete(`${collection}/${id}`, this.docs.get(collection)?.get(id), rev);
    await this.commit({ t: 'doc', op: 'del', c: collection, id });
  }

  async listDocs<T extends object>(collection: string, q: DocQuery): Promise<Stored<T>[]> {
    const table = this.docs.get(collection);
    if (!table) return [];
    const ids = [...table.keys()].filter((id) => !q.prefix || id.startsWith(q.prefix)).sort();
    return ids.slice(q.skip, q.skip + q.limit).map((id) => wrap(id, table.get(id) as Row<T>)!);
  }

  // ---- log ------------------------------------------------------------------------------------

  /**
   * Applies in memory first (so a read right after sees the write and a concurrent writer sees
   * the new rev), then waits for the log to be durable before the caller is answered.
   */
  private commit(record: LogRecord): Promise<void> {
    const done = this.log.appendLines(this.applyNew(record));
    this.compactIfDue();
    return done;
  }

  private commitAll(records: LogRecord[]): Promise<void> {
    let lines = '';
    for (const r of records) lines += this.applyNew(r);
    const done = this.log.appendLines(lines);
    this.compactIfDue();
    return done;
  }

  /**
   * Drops the activation records past their retention from memory. Their lines die with them:
   * the log is compacted once enough has died, and a restart skips them meanwhile.
   */
  expireActivations(): void {
    this.dropExpired();
    this.compactIfDue();
  }

  private dropExpired(): void {
    if (this.retentionMs <= 0) return;
    const cutoff = this.clock() - this.retentionMs;
    for (const [ns, list] of this.activationsByNs) {
      for (const gone of list.dropBefore(cutoff)) {
        this.activations.delete(gone.key);
        this.deadBytes += gone.bytes;
      }
      if (list.size === 0) this.activationsByNs.delete(ns);
    }
  }

  /**
   * Rewrites the log with the live documents only, in the background, once dead lines (documents
   * replaced or deleted since) are at least half of it and past `minCompactBytes`. So a rewrite
   * always frees at least as much as it writes again, and a log of mostly live records (activations,
   * which stay) is not rewritten for nothing.
   */
  private compactIfDue(): void {
    if (this.compacting || this.deadBytes < this.minCompactBytes || this.deadBytes * 2 < this.log.size) return;
    const deadBefore = this.deadBytes;
    this.compacting = this.log
      .rewriteLines(this.snapshotLines())
      .then(
        // What died while the rewrite ran was written after it, so it is still in the log.
        () => void (this.deadBytes -= deadBefore),
        (err: unknown) => {
          // Not again before as much again has died.
          this.deadBytes -= deadBefore / 2;
          this.onCompactError(err);
        },
      )
      .finally(() => (this.compacting = undefined));
  }

  /**
   * Serializes a new record once and applies it. The line goes to the log; the tables keep the
   * document's JSON out of that line, parsed when first read. So the writer's object never leaks
   * in, and what is kept is exactly what a restart reads back (JSON, not a structured clone that
   * keeps what JSON drops). An activation's index fields (start, names) come from the writer's
   * object now, while it is certainly as written.
   */
  private applyNew(r: LogRecord): string {
    const replaced = r.t === 'activation' ? undefined : this.rowOf(r);
    let line: string;
    if (r.op === 'del') {
      this.apply(r);
      line = JSON.stringify(r) + '\n';
      // A delete kills the line it deletes and is itself dead once compacted.
      this.deadBytes += line.length;
    } else {
      const json = stringifyDoc(r.doc);
      const { doc: _doc, ...head } = r;
      line = logLine(head, json);
      this.apply(r, Held.fromJson(json), line.length);
    }
    // A document read back at start has no length noted: its new line is near enough.
    if (replaced) this.deadBytes += replaced.bytes ?? line.length;
    return line;
  }

  private rowOf(r: Exclude<LogRecord, { t: 'activation' }>): Row<unknown> | undefined {
    if (r.t === 'doc') return this.docs.get(r.c)?.get(r.id);
    return r.t === 'subject' ? this.subjects.get(r.id) : this.entities.get(r.id);
  }

  /** Applies a record: a new one with its document `held` as JSON, or one read back from the log. */
  private apply(r: LogRecord, held?: Held<any>, bytes?: number): void {
    switch (r.t) {
      case 'subject':
        if (r.op === 'put') this.subjects.set(r.id, { rev: r.rev, held: held ?? Held.fromParsed(r.doc), bytes });
        else this.subjects.delete(r.id);
        return;
      case 'entity': {
        const root = rootNamespace(r.id);
        if (r.op === 'put') {
          this.entities.set(r.id, { rev: r.rev, held: held ?? Held.fromParsed(r.doc), bytes });
          let ids = this.entitiesByRoot.get(root);
          if (!ids) this.entitiesByRoot.set(root, (ids = new Set()));
          ids.add(r.id);
        } else {
          this.entities.delete(r.id);
          this.entitiesByRoot.get(root)?.delete(r.id);
        }
        return;
      }
      case 'doc': {
        let table = this.docs.get(r.c);
        if (!table) this.docs.set(r.c, (table = new Map()));
        if (r.op === 'put') table.set(r.id, { rev: r.rev, held: held ?? Held.fromParsed(r.doc), bytes });
        else table.delete(r.id);
        return;
      }
      case 'activation': {
        const key = activationDocId(r.doc.namespace, r.doc.activationId);
        if (this.activations.has(key)) return;
        const kept: Held<ActivationDoc> = held ?? Held.fromParsed(r.doc);
        this.activations.set(key, kept);
        let list = this.activationsByNs.get(r.doc.namespace);
        if (!list) this.activationsByNs.set(r.doc.namespace, (list = new SortedActivations()));
        list.insert(r.doc.start, r.doc.entityPaths, kept, key, bytes);
        return;
      }
    }
  }

  private countDocs(): number {
    let n = 0;
    for (const t of this.docs.values()) n += t.size;
    return n;
  }

  /**
   * The live documents as log lines, made as they are read (documents kept as JSON are not
   * parsed for it). Changes made while this is read are fine: see DurableLog.rewriteLines.
   */
  private *snapshotLines(): Generator<string> {
    const line = (head: object, held: Held<unknown>) => logLine(head, held.text());
    for (const [id, r] of this.subjects) yield line({ t: 'subject', op: 'put', id, rev: r.rev }, r.held);
    for (const [id, r] of this.entities) yield line({ t: 'entity', op: 'put', id, rev: r.rev }, r.held);
    for (const [c, table] of this.docs) for (const [id, r] of table) yield line({ t: 'doc', op: 'put', c, id, rev: r.rev }, r.held);
    for (const held of this.activations.values()) yield line({ t: 'activation', op: 'put' }, held);
  }
}

const subject = (doc: SubjectDoc) => doc.subject;

/** A put record's log line: its head fields, then the document's JSON as made already. */
const logLine = (head: object, docJson: string) => `${JSON.stringify(head).slice(0, -1)},"doc":${docJson}}\n`;

function checkRev<T>(id: string, current: Row<T> | undefined, rev: string | undefined): string | undefined {
  if (current ? current.rev !== rev : rev !== undefined) throw new StoreConflictError(id);
  return current?.rev;
}

function checkDelete<T>(id: string, current: Row<T> | undefined, rev: string): void {
  if (!current || current.rev !== rev) throw new StoreConflictError(id);
}

function nextRev(prev: string | undefined): string {
  const gen = prev ? Number(prev.split('-')[0]) + 1 : 1;
  return `${gen}-${newRevSuffix()}`;
}

function wrap<T>(id: string, row: Row<T> | undefined): Stored<T> | undefined {
  return row && { id, rev: row.rev, doc: row.held.doc };
}

/**
 * Stored documents are frozen and handed to readers as they are: reads are the hot path (every
 * authenticated GET), and a frozen object can't be changed behind the store's back (writing to it
 * throws in our strict-mode modules).
 */
function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

export async function createEmbeddedStore(dir: string, options: ConstructorParameters<typeof EmbeddedArtifactStore>[1] = {}): Promise<EmbeddedArtifactStore> {
  const store = new EmbeddedArtifactStore(dir, options);
  await store.init();
  return store;
}
