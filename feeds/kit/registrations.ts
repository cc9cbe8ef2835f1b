import { StoreConflictError, type DocStore, type Stored } from '../../src/store/artifact-store.js';
import { REGISTRATIONS, type Registration } from './registration.js';

/** How long a remembered registration is kept at all (each use asks for its own, shorter, age). */
const REMEMBER_MS = 10_000;

/** What an update function decides: the new document, or `undefined` to leave it as it is. */
export type Change<C> = (current: Registration<C>) => Registration<C> | undefined;

/**
 * Registrations in the store. Every change is a compare-and-set on the document's revision,
 * retried on conflict, so several replicas (or a tick racing a PAUSE) never lose each other's
 * writes: this is also how a tick is claimed exactly once.
 */
export class Registrations {
  /** What this process last read or wrote of each registration, and when. */
  private readonly seen = new Map<string, { got: Stored<Registration<any>>; at: number }>();
  private remembered = 0;

  constructor(
    private readonly store: DocStore,
    private readonly clock: () => number = Date.now,
  ) {}

  async get<C>(id: string): Promise<Stored<Registration<C>> | undefined> {
    const got = await this.store.getDoc<Registration<C>>(REGISTRATIONS, id);
    this.remember(id, got);
    return got;
  }

  /**
   * The registration as this process read or wrote it at most `maxAgeMs` ago, else as the store
   * has it now. For the steps of one event that follow each other closely (an alarm tick claimed,
   * then fired, then counted): each would otherwise read the same document again, and on a
   * CouchDB-compatible server those reads are what bounds how many ticks a second the cluster
   * fires. A change made meanwhile by another replica is seen at most `maxAgeMs` late; writes stay
   * compare-and-set on the revision, so a stale copy only costs a conflict and a read.
   */
  async recent<C>(id: string, maxAgeMs: number): Promise<Stored<Registration<C>> | undefined> {
    const s = this.seen.get(id);
    if (s && this.clock() - s.at <= maxAgeMs) return s.got as Stored<Registration<C>>;
    return this.get<C>(id);
  }

  private remember(id: string, got: Stored<Registration<any>> | undefined): void {
    if (!got) {
      this.seen.delete(id);
      return;
    }
    const now = this.clock();
    this.seen.set(id, { got, at: now });
    // Entries only serve for a moment: drop the old ones now and then, so the map stays small.
    if (++this.remembered % 1000 === 0) for (const [k, v] of this.seen) if (now - v.at > REMEMBER_MS) this.seen.delete(k);
  }

  /** Creates or replaces the registration (CREATE over an existing one overwrites it). */
  async put<C>(reg: Registration<C>): Promise<Registration<C>> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<C>(reg.id);
      try {
        const rev = await this.store.putDoc(REGISTRATIONS, reg.id, reg, current?.rev);
        this.remember(reg.id, { id: reg.id, rev, doc: reg });
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
        const doc = { ...next, updated: Date.now() };
        const rev = await this.store.putDoc(REGISTRATIONS, id, doc, current.rev);
        this.remember(id, { id, rev, doc });
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
        this.seen.delete(id);
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
