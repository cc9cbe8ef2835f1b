import type { ActionDoc } from '../entities/documents.js';
import type { ArtifactStore } from '../store/artifact-store.js';

/** Actions by id and revision: a revision never changes, so a cached one is never stale. */
export class ActionCache {
  private readonly byRev = new Map<string, ActionDoc>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly max = 1000,
  ) {}

  async get(id: string, rev: string): Promise<ActionDoc | undefined> {
    const key = `${id}@${rev}`;
    const hit = this.byRev.get(key);
    if (hit) return hit;
    const got = await this.store.getEntity(id);
    if (!got || got.rev !== rev || got.doc.entityType !== 'action') return undefined;
    if (this.byRev.size >= this.max) this.byRev.delete(this.byRev.keys().next().value!);
    this.byRev.set(key, got.doc);
    return got.doc;
  }
}
