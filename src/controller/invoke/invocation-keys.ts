import { newActivationId } from '../../entities/ids.js';
import { StoreConflictError, type DocStore } from '../../store/artifact-store.js';

interface KeyDoc {
  activationId: string;
  /** False between claiming the key and publishing the activation. */
  published: boolean;
  at: number;
}

const COLLECTION = 'invocation-keys';

/**
 * At most one activation per idempotency key (a fire's rule invocations use fire id + rule): the
 * first caller claims the key with a fresh activation id; a repeat gets that id back and
 * invokes nothing. A key claimed but not marked published (a crash in between) is published
 * again with the same activation id. Kept in the store in standalone, in Redis in the cluster
 * (three writes per rule invocation: a CouchDB-compatible server would bound the fan-out).
 */
export class InvocationKeys {
  constructor(private readonly store: DocStore) {}

  /** The activation id to use, and whether it still has to be published. */
  async claim(key: string): Promise<{ activationId: string; publish: boolean; rev: string }> {
    for (;;) {
      const got = await this.store.getDoc<KeyDoc>(COLLECTION, key);
      if (got) return { activationId: got.doc.activationId, publish: !got.doc.published, rev: got.rev };
      const doc: KeyDoc = { activationId: newActivationId(), published: false, at: Date.now() };
      try {
        const rev = await this.store.putDoc(COLLECTION, key, doc);
        return { activationId: doc.activationId, publish: true, rev };
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err;
      }
    }
  }

  async published(key: string, activationId: string, rev: string): Promise<void> {
    await this.store.putDoc(COLLECTION, key, { activationId, published: true, at: Date.now() }, rev);
  }

  /** Drops keys whose fire is done (nothing will ask for them again). */
  async forget(keys: string[]): Promise<void> {
    for (const key of keys) {
      const got = await this.store.getDoc(COLLECTION, key);
      if (got) await this.store.deleteDoc(COLLECTION, key, got.rev).catch(() => undefined);
    }
  }
}
