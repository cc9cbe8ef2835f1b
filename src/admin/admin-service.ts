import { randomUUID } from 'node:crypto';
import type { NamespaceKey, NamespaceLimits, SubjectDoc } from '../entities/documents.js';
import { badRequest, conflict, notFound } from '../entities/errors.js';
import { newSecret } from '../entities/ids.js';
import { validateNamespace } from '../entities/names.js';
import type { ArtifactStore } from '../store/artifact-store.js';

/**
 * Subjects, namespaces and keys, as wskadmin manages them. A subject owns one or more
 * namespaces; each namespace has exactly one `uuid:key`, and a namespace belongs to one subject.
 */
export class AdminService {
  constructor(private readonly store: ArtifactStore) {}

  /** Creates the subject (and its first namespace, named after it unless given), or adds a namespace. */
  async createUser(subject: string, opts: { namespace?: string; auth?: string } = {}): Promise<NamespaceKey> {
    if (subject.length < 5) throw badRequest('Subject name must be at least 5 characters.');
    if (subject.startsWith('_')) throw badRequest("Subject name must not start with '_'.");
    const namespace = validateNamespace(opts.namespace ?? subject);
    if (namespace === '_' || namespace.startsWith('_')) throw badRequest("Namespace must not start with '_'.");
    const key = opts.auth ? parseAuth(opts.auth) : { uuid: randomUUID(), key: newSecret() };
    const owner = await this.store.findSubjectByNamespace(namespace);
    if (owner && owner.subject !== subject) throw conflict(`Namespace '${namespace}' already belongs to another subject.`);
    if (await this.store.findSubjectByUuid(key.uuid)) throw conflict('That uuid is already in use.');
    const entry = { name: namespace, ...key };
    const existing = await this.store.getSubject(subject);
    if (existing) {
      if (existing.doc.namespaces.some((n) => n.name === namespace)) throw conflict(`Namespace '${namespace}' already exists for '${subject}'.`);
      await this.store.putSubject({ ...existing.doc, namespaces: [...existing.doc.namespaces, entry] }, existing.rev);
    } else {
      await this.store.putSubject({ subject, namespaces: [entry] });
    }
    return entry;
  }

  async getUser(subject: string): Promise<SubjectDoc> {
    const got = await this.store.getSubject(subject);
    if (!got) throw notFound(`Subject '${subject}' does not exist.`);
    return got.doc;
  }

  /** Every subject, or those owning `namespace`. */
  async listUsers(namespace?: string): Promise<SubjectDoc[]> {
    const all = await this.store.listSubjects();
    const out = namespace ? all.filter((s) => s.namespaces.some((n) => n.name === namespace)) : all;
    return out.sort((a, b) => a.subject.localeCompare(b.subject));
  }

  /** Deletes one namespace of a subject, or the subject with all its keys. */
  async deleteUser(subject: string, namespace?: string): Promise<void> {
    const got = await this.store.getSubject(subject);
    if (!got) throw notFound(`Subject '${subject}' does not exist.`);
    if (!namespace) return this.store.deleteSubject(subject, got.rev);
    const remaining = got.doc.namespaces.filter((n) => n.name !== namespace);
    if (remaining.length === got.doc.namespaces.length) throw notFound(`Namespace '${namespace}' does not exist for '${subject}'.`);
    if (remaining.length === 0) return this.store.deleteSubject(subject, got.rev);
    await this.store.putSubject({ ...got.doc, namespaces: remaining }, got.rev);
  }

  async setBlocked(subject: string, blocked: boolean): Promise<void> {
    const got = await this.store.getSubject(subject);
    if (!got) throw notFound(`Subject '${subject}' does not exist.`);
    await this.store.putSubject({ ...got.doc, blocked }, got.rev);
  }

  /** Per-namespace throttle overrides live on the subject owning the namespace. */
  async setLimits(namespace: string, limits: NamespaceLimits | undefined): Promise<SubjectDoc> {
    const owner = await this.store.findSubjectByNamespace(namespace);
    if (!owner) throw notFound(`Namespace '${namespace}' does not exist.`);
    const got = (await this.store.getSubject(owner.subject))!;
    const doc = { ...got.doc };
    if (limits && Object.keys(limits).length) doc.limits = { ...(doc.limits ?? {}), ...limits };
    else delete doc.limits;
    await this.store.putSubject(doc, got.rev);
    return doc;
  }

  /** Makes sure a namespace exists with this key (or any key when none is given); returns its key. */
  async ensureNamespace(subject: string, namespace: string, auth?: string): Promise<{ key: NamespaceKey; created: boolean; changed: boolean }> {
    const owner = await this.store.findSubjectByNamespace(namespace);
    const current = owner?.namespaces.find((n) => n.name === namespace);
    if (!owner || !current) return { key: await this.createUser(subject, { namespace, auth }), created: true, changed: false };
    if (!auth) return { key: current, created: false, changed: false };
    const wanted = parseAuth(auth);
    if (wanted.uuid === current.uuid && wanted.key === current.key) return { key: current, created: false, changed: false };
    const got = (await this.store.getSubject(owner.subject))!;
    const entry = { name: namespace, ...wanted };
    const namespaces = got.doc.namespaces.map((n) => (n.name === namespace ? entry : n));
    await this.store.putSubject({ ...got.doc, namespaces }, got.rev);
    return { key: entry, created: false, changed: true };
  }
}

export function parseAuth(auth: string): { uuid: string; key: string } {
  const i = auth.indexOf(':');
  const uuid = auth.slice(0, i);
  const key = auth.slice(i + 1);
  if (i < 0 || !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(uuid) || key.length !== 64) {
    throw badRequest('The auth key must be `uuid:key` with a UUID and a 64-character key.');
  }
  return { uuid, key };
}

export const authString = (k: NamespaceKey) => `${k.uuid}:${k.key}`;
