import type { ActivationDoc } from '../../entities/documents.js';

interface Filter {
  name?: string;
  since?: number;
  upto?: number;
}

/**
 * One namespace's activations kept in `start` order. Records mostly arrive in time order, so an
 * insert is usually an append; a binary search places the rest.
 */
export class SortedActivations {
  private readonly items: ActivationDoc[] = [];

  insert(doc: ActivationDoc): void {
    const a = this.items;
    if (a.length === 0 || a[a.length - 1].start <= doc.start) {
      a.push(doc);
      return;
    }
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid].start <= doc.start) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, doc);
  }

  newestFirst(f: Filter, skip: number, limit: number): ActivationDoc[] {
    const out: ActivationDoc[] = [];
    let skipped = 0;
    for (let i = this.items.length - 1; i >= 0 && out.length < limit; i--) {
      const d = this.items[i];
      if (f.upto !== undefined && d.start > f.upto) continue;
      if (f.since !== undefined && d.start < f.since) break;
      if (f.name !== undefined && !d.entityPaths?.includes(f.name)) continue;
      if (skipped < skip) skipped++;
      else out.push(d);
    }
    return out;
  }

  count(f: Filter): number {
    return this.newestFirst(f, 0, Number.MAX_SAFE_INTEGER).length;
  }
}
