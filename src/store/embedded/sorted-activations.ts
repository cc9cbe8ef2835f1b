import type { ActivationDoc } from '../../entities/documents.js';

interface Filter {
  name?: string;
  since?: number;
  upto?: number;
}

/** An activation as the index keeps it: what filters and orders it, and the record, read when listed. */
interface Entry {
  start: number;
  entityPaths?: readonly string[];
  held: { readonly doc: ActivationDoc };
  /** The store's key of the record. */
  key: string;
  /** Its line's length in the log, when known. */
  bytes: number;
}

/**
 * One namespace's activations kept in `start` order. Records mostly arrive in time order, so an
 * insert is usually an append; a binary search places the rest. Only the records a listing
 * returns are read (the store parses a record the first time it is read).
 */
export class SortedActivations {
  private readonly items: Entry[] = [];

  get size(): number {
    return this.items.length;
  }

  insert(start: number, entityPaths: readonly string[] | undefined, held: Entry['held'], key: string, bytes = 0): void {
    const a = this.items;
    const entry: Entry = { start, entityPaths: entityPaths && [...entityPaths], held, key, bytes };
    if (a.length === 0 || a[a.length - 1].start <= start) {
      a.push(entry);
      return;
    }
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid].start <= start) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, entry);
  }

  /** Removes the entries that started before `start`, and returns them. */
  dropBefore(start: number): Entry[] {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid].start < start) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? [] : this.items.splice(0, lo);
  }

  newestFirst(f: Filter, skip: number, limit: number): ActivationDoc[] {
    const out: ActivationDoc[] = [];
    if (limit <= 0) return out;
    let skipped = 0;
    this.scan(f, (d) => {
      if (skipped < skip) skipped++;
      else out.push(d.held.doc);
      return out.length < limit;
    });
    return out;
  }

  count(f: Filter): number {
    let n = 0;
    this.scan(f, () => ++n > 0);
    return n;
  }

  /** Visits the entries that pass the filter, newest first, while `visit` answers true. */
  private scan(f: Filter, visit: (d: Entry) => boolean): void {
    for (let i = this.items.length - 1; i >= 0; i--) {
      const d = this.items[i];
      if (f.upto !== undefined && d.start > f.upto) continue;
      if (f.since !== undefined && d.start < f.since) break;
      if (f.name !== undefined && !d.entityPaths?.includes(f.name)) continue;
      if (!visit(d)) return;
    }
  }
}
