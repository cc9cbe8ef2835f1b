import type { ActivationQuery, EntityQuery } from '../artifact-store.js';
import { ActivationViews, EntityViews } from './design-docs.js';

/**
 * View ranges for the list and count queries. Lists read newest first, so ranges are given for
 * `descending=true`: startkey is the high end. `{}` sorts after every number and string in
 * CouchDB's collation, and a shorter array sorts before any longer one with the same prefix, so
 * `[a, b]` .. `[a, b, {}]` covers every `[a, b, x]`.
 */
export interface ViewRange {
  view: string;
  startkey: unknown[];
  endkey: unknown[];
}

const HIGH = {};

export function entityRange(q: Omit<EntityQuery, 'limit' | 'skip'>): ViewRange {
  // `ns/pkg` has no packages of its own, so includePackages only widens a top-level namespace.
  const root = q.includePackages === true && !q.namespace.includes('/');
  return {
    view: root ? EntityViews.byRootNamespace : EntityViews.byNamespace,
    startkey: [q.namespace, q.type, HIGH],
    endkey: [q.namespace, q.type],
  };
}

/** Undefined when the time bounds exclude everything (CouchDB rejects such a range with a 400). */
export function activationRange(q: Omit<ActivationQuery, 'limit' | 'skip'>): ViewRange | undefined {
  if (q.since !== undefined && q.upto !== undefined && q.since > q.upto) return undefined;
  const head = q.name !== undefined ? [q.namespace, q.name] : [q.namespace];
  return {
    view: q.name !== undefined ? ActivationViews.byEntityPath : ActivationViews.byNamespace,
    startkey: [...head, q.upto ?? HIGH],
    endkey: q.since !== undefined ? [...head, q.since] : head,
  };
}

/**
 * An `_all_docs` range for ids starting with `prefix`, to use with `inclusive_end=false`.
 *
 * `_all_docs` is ordered by raw id (bytes in CouchDB, UTF-16 units in PouchDB), not by the ICU
 * collation views use, so the usual `prefix + "\ufff0"` high key is not safe across both. The
 * prefix with its last character bumped by one is the first id past every id with that prefix in
 * both orders, as long as that character is below the surrogate range.
 */
export function prefixRange(prefix: string): { startkey: string; endkey: string; inclusive_end: boolean } {
  const last = prefix.codePointAt(prefix.length - 1);
  if (last !== undefined && last < 0xd7ff) {
    return { startkey: prefix, endkey: prefix.slice(0, -1) + String.fromCodePoint(last + 1), inclusive_end: false };
  }
  // Exotic last character: fall back to the highest BMP unit, which misses only ids continuing with
  // characters outside the BMP on CouchDB.
  return { startkey: prefix, endkey: `${prefix}\uffff`, inclusive_end: true };
}
