import { StoreConflictError, type ArtifactStore, type Stored } from '../../src/store/artifact-store.js';
import { REGISTRATIONS, type Registration } from './registration.js';

/** What an update function decides: the new document, or `undefined` to leave it as it is. */
export type Change<C> = (current: Registration<C>) => Registration<C> | undefined;

/**
 * Registrations in the store. Every change is a compare-and-set on the document's revision,
 * retried on conflict, so several replicas (or a tick racing a PAUSE) never lose each other's
 * writes: this is also how a tick is claimed exactly once.
 */
export class Registrations {
  constructor(private readonly store: ArtifactStore) {}

  async get<C>(id: string): Promise<Stored<Registration<C>> | undefined> {
    return this.store.getDoc<Registration<C>>(REGISTRATIONS, id);
  }

  /** Creates or replaces the registration (CREATE over an existing one overwrites it). */
  async put<C>(reg: Registration<C>): Promise<Registration<C>> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<C>(reg.id);
      try {
        await this.store.putDoc(REGISTRATIONS, reg.id, reg, current?.rev);
        return reg;
      } catch (err) {
        if (!(err instanceof StoreConflictError) || attempt >= 20) throw err;
      }
    }
  }

  /**
   * Applies `change` to the current document and writes it if it did not change meanwhile;
   * otherwise reads again and re-applies. Resolves with the document written, or `undefined`
   * when the registration is gone or `change` declined. `known`, a copy just read, saves the
   * first read (a stale one only costs a conflict and a read).
   */
  async update<C>(id: string, change: Change<C>, known?: Stored<Registration<C>>): Promise<Registration<C> | undefined> {
    for (let attempt = 0; ; attempt++) {
      const current = attempt === 0 && known ? known : await this.get<C>(id);
      if (!current) return undefined;
      const next = change(current.doc);
      if (!next) return undefined;
      try {
        await this.store.putDoc(REGISTRATIONS, id, { ...next, updated: Date.now() }, current.rev);
        return next;
      } catch (err) {
        if (!(err instanceof StoreConflictError) || attempt >= 50) throw err;
      }
    }
  }

  /** Deletes the registration; false when there was none. */
  async delete(id: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.getDoc(REGISTRATIONS, id);
      if (!current) return false;
      try {
        await this.store.deleteDoc(REGISTRATIONS, id, current.rev);
        return true;
      } catch (err) {
        if (!(err instanceof StoreConflictError) || attempt >= 20) throw err;
      }
    }
  }

  /** Every registration of one provider. */
  async list<C>(provider: string): Promise<Registration<C>[]> {
    const out: Registration<C>[] = [];
    for (let skip = 0; ; skip += 500) {
      const page = await this.store.listDocs<Registration<C>>(REGISTRATIONS, { prefix: `${provider}/`, limit: 500, skip });
      out.push(...page.map((r) => r.doc));
      if (page.length < 500) return out;
    }
  }
}
