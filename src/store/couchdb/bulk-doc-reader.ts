import type { CouchPost } from './couch-post.js';
import { RequestBatcher } from './request-batcher.js';
import type { DocAccess, RawDoc } from './doc-access.js';

interface Read {
  id: string;
  resolve: (doc: RawDoc | undefined) => void;
  reject: (err: unknown) => void;
}

interface AllDocsRow {
  key: string;
  id?: string;
  error?: string;
  value?: { rev: string; deleted?: boolean };
  doc?: RawDoc | null;
}

/** Most documents asked for in one `_all_docs` request. */
const MAX_BATCH = 500;

/** Requests out at once (see RequestBatcher). */
const MAX_IN_FLIGHT = 4;

/**
 * Single-document reads of one database, asked together: the reads issued in the same turn of the
 * event loop go out as one `POST _all_docs?include_docs=true` with their ids, and each caller gets
 * its own document (or `undefined` for one that is missing or deleted), as a single GET would
 * answer. The alarms provider reads a registration several times per tick and the fan-out reads
 * idempotency keys; with hundreds of those a second, one request per read is what bounds a
 * CouchDB-compatible server (pouchdb-server here answers a few hundred requests a second, but
 * hundreds of documents per request). A batch that fails as a whole is asked again one by one, so
 * each caller sees the error a single GET would give.
 */
export class BulkDocReader {
  private readonly batches = new RequestBatcher<Read>((batch) => this.send(batch), MAX_BATCH, MAX_IN_FLIGHT);

  constructor(
    private readonly posts: CouchPost,
    private readonly single: DocAccess,
  ) {}

  get(id: string): Promise<RawDoc | undefined> {
    // Design documents are read rarely and live under a path of their own.
    if (id.startsWith('_')) return this.single.get(id);
    return new Promise((resolve, reject) => {
      this.batches.add({ id, resolve, reject });
    });
  }

  private async send(batch: Read[]): Promise<void> {
    if (batch.length === 1) {
      await this.single.get(batch[0].id).then(batch[0].resolve, batch[0].reject);
      return;
    }
    let rows: AllDocsRow[];
    try {
      const keys = [...new Set(batch.map((r) => r.id))];
      const res = await this.posts.post<{ rows: AllDocsRow[] }>(this.single.db, '_all_docs?include_docs=true', { keys });
      rows = res.rows;
    } catch {
      for (const r of batch) this.single.get(r.id).then(r.resolve, r.reject);
      return;
    }
    const byId = new Map<string, AllDocsRow>();
    for (const row of rows) byId.set(row.key, row);
    const given = new Set<string>();
    for (const r of batch) {
      const row = byId.get(r.id);
      // No row, or an error other than not_found (the dev stand-in's read race): asked alone.
      if (!row || (row.error && row.error !== 'not_found')) this.single.get(r.id).then(r.resolve, r.reject);
      else if (row.error || row.value?.deleted || !row.doc) r.resolve(undefined);
      // The same document asked twice: each caller gets a copy of its own, as callers may change what they read.
      else if (given.has(r.id)) r.resolve(structuredClone(row.doc));
      else {
        given.add(r.id);
        r.resolve(row.doc);
      }
    }
  }
}
