import type { DocStore } from '../store/artifact-store.js';

export interface HeldJob<J> {
  job: J;
  rev: string;
}

const PAGE = 500;

/**
 * A durable queue's jobs as the documents of one store collection (standalone's fire queues).
 * The jobs this process wrote are also kept in hand as they were handed over: running one skips
 * reading back (parsing) its stored copy, which for a webhook payload or a Kafka batch is most
 * of what a fire costs. After a restart the store is read instead.
 */
export class StoredJobs<J extends object> {
  private readonly inHand = new Map<string, HeldJob<J>>();

  constructor(
    private readonly store: DocStore,
    private readonly collection: string,
  ) {}

  /** Writes a new job (StoreConflictError when one with this id exists) and takes it over: the caller must not change it afterwards. */
  async add(id: string, job: J): Promise<void> {
    this.inHand.set(id, { job, rev: await this.store.putDoc(this.collection, id, job) });
  }

  async get(id: string): Promise<HeldJob<J> | undefined> {
    const held = this.inHand.get(id);
    if (held) return held;
    const got = await this.store.getDoc<J>(this.collection, id);
    return got && { job: got.doc, rev: got.rev };
  }

  /** Writes the job's next state over revision `rev`. */
  async replace(id: string, job: J, rev: string): Promise<void> {
    this.inHand.delete(id);
    this.inHand.set(id, { job, rev: await this.store.putDoc(this.collection, id, job, rev) });
  }

  /** Deletes a finished job. */
  async remove(id: string, rev: string): Promise<void> {
    this.inHand.delete(id);
    await this.store.deleteDoc(this.collection, id, rev);
  }

  /** Drops the copy in hand (after a failure: the store says what holds). */
  forget(id: string): void {
    this.inHand.delete(id);
  }

  /** Every stored job, page by page (at start, to resume what an earlier process accepted). */
  async *stored(): AsyncGenerator<{ id: string; job: J }> {
    for (let skip = 0; ; skip += PAGE) {
      const page = await this.store.listDocs<J>(this.collection, { limit: PAGE, skip });
      for (const row of page) yield { id: row.id, job: row.doc };
      if (page.length < PAGE) return;
    }
  }

  /** How many jobs are stored (not done yet). */
  async count(): Promise<number> {
    let n = 0;
    for await (const _ of this.stored()) n++;
    return n;
  }

  clear(): void {
    this.inHand.clear();
  }
}
