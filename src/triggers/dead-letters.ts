import { newActivationId } from '../entities/ids.js';
import type { ArtifactStore, Stored } from '../store/artifact-store.js';

/** A rule invocation that failed after its retries, kept with everything needed to replay it. */
export interface DeadLetter {
  id: string;
  namespace: string;
  fireId: string;
  trigger: string;
  rule: string;
  action: { path: string; name: string };
  args: Record<string, unknown>;
  error: string;
  /** HTTP status of the last failure (429, 404, 503, …). */
  status: number;
  attempts: number;
  at: number;
}

const COLLECTION = 'deadletters';

/** Dead letters per namespace, in the store's generic documents (id `ns/<id>`). */
export class DeadLetters {
  constructor(private readonly store: ArtifactStore) {}

  async add(letter: Omit<DeadLetter, 'id'>): Promise<DeadLetter> {
    const doc = { ...letter, id: newActivationId() };
    await this.store.putDoc(COLLECTION, `${letter.namespace}/${doc.id}`, doc);
    return doc;
  }

  async list(namespace: string, limit: number, skip: number): Promise<DeadLetter[]> {
    const rows = await this.store.listDocs<DeadLetter>(COLLECTION, { prefix: `${namespace}/`, limit, skip });
    return rows.map((r) => r.doc).sort((a, b) => b.at - a.at);
  }

  async get(namespace: string, id: string): Promise<Stored<DeadLetter> | undefined> {
    return this.store.getDoc<DeadLetter>(COLLECTION, `${namespace}/${id}`);
  }

  async remove(namespace: string, id: string, rev: string): Promise<void> {
    await this.store.deleteDoc(COLLECTION, `${namespace}/${id}`, rev);
  }
}
