import type { ActivationDoc, EntityDoc, EntityType, SubjectDoc } from '../entities/documents.js';

/**
 * ArtifactStore: where whiskhub keeps subjects (namespaces and keys), entities (actions, triggers,
 * rules, packages), activation records, and the feed kit's own documents (registrations and the
 * like). Two implementations: CouchDB through nano for the cluster, and an embedded, durable store
 * for standalone. Both pass test/contract/artifact-store.contract.ts.
 *
 * Revisions follow CouchDB: every stored document has an opaque `rev`; writing with a stale or
 * missing rev over an existing document fails with StoreConflictError.
 */
export interface Stored<T> {
  id: string;
  rev: string;
  doc: T;
}

export class StoreConflictError extends Error {
  constructor(readonly id: string) {
    super(`document update conflict: ${id}`);
    this.name = 'StoreConflictError';
  }
}

export class StoreNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`document not found: ${id}`);
    this.name = 'StoreNotFoundError';
  }
}

export interface Page {
  limit: number;
  skip: number;
}

export interface EntityQuery extends Page {
  type: EntityType;
  /** The namespace path to list: `ns`, or `ns/pkg` for one package. */
  namespace: string;
  /** With `ns`, also list entities of its packages (namespace `ns/*`): how `/actions` lists. */
  includePackages?: boolean;
}

export interface ActivationQuery extends Page {
  namespace: string;
  /** `action` or `pkg/action`, matched against ActivationDoc.entityPaths. */
  name?: string;
  /** Epoch ms bounds on `start`, inclusive. */
  since?: number;
  upto?: number;
}

export interface DocQuery extends Page {
  /** Only ids starting with this prefix. */
  prefix?: string;
}

export interface ArtifactStore extends DocStore {
  /** Creates databases and indexes if missing; idempotent. */
  init(): Promise<void>;

  getSubject(subject: string): Promise<Stored<SubjectDoc> | undefined>;
  /** Creates (rev undefined) or replaces (rev given) a subject. Returns the new rev. */
  putSubject(doc: SubjectDoc, rev?: string): Promise<string>;
  deleteSubject(subject: string, rev: string): Promise<void>;
  listSubjects(): Promise<SubjectDoc[]>;
  /** The subject owning the key with this uuid. */
  findSubjectByUuid(uuid: string): Promise<SubjectDoc | undefined>;
  /** The subject owning this namespace. */
  findSubjectByNamespace(namespace: string): Promise<SubjectDoc | undefined>;

  getEntity(id: string): Promise<Stored<EntityDoc> | undefined>;
  putEntity(id: string, doc: EntityDoc, rev?: string): Promise<string>;
  deleteEntity(id: string, rev: string): Promise<void>;
  /** Newest `updated` first. */
  listEntities(query: EntityQuery): Promise<EntityDoc[]>;
  countEntities(query: Omit<EntityQuery, 'limit' | 'skip'>): Promise<number>;

  /** Batched write of new activation records (CouchDB `_bulk_docs`). */
  putActivations(docs: ActivationDoc[]): Promise<void>;
  getActivation(namespace: string, activationId: string): Promise<ActivationDoc | undefined>;
  /** Newest `start` first. */
  listActivations(query: ActivationQuery): Promise<ActivationDoc[]>;
  countActivations(query: Omit<ActivationQuery, 'limit' | 'skip'>): Promise<number>;
}

/**
 * DocStore: generic documents by collection, with CouchDB's revisions (a write with a stale or
 * missing rev over an existing document fails with StoreConflictError). Every ArtifactStore is
 * one; the feed providers of the cluster keep theirs (registrations, delivery claims, dead
 * letters) in a RedisDocStore instead, because an alarm tick is a compare-and-set on its
 * registration and a CouchDB-compatible server takes a few hundred of those a second.
 */
export interface DocStore {
  getDoc<T extends object>(collection: string, id: string): Promise<Stored<T> | undefined>;
  /** Creates (rev undefined) or replaces (rev current) a document. Returns the new rev. */
  putDoc<T extends object>(collection: string, id: string, doc: T, rev?: string): Promise<string>;
  deleteDoc(collection: string, id: string, rev: string): Promise<void>;
  /** Ordered by id. */
  listDocs<T extends object>(collection: string, query: DocQuery): Promise<Stored<T>[]>;
  close(): Promise<void>;
}

export const activationDocId = (namespace: string, activationId: string) => `${namespace}/${activationId}`;
