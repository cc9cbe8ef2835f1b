import type { ServerScope } from 'nano';
import { StoreConflictError, StoreNotFoundError } from '../artifact-store.js';
import { isMissingDocument, isWellFormedRev, mapWriteError } from './couch-errors.js';

/**
 * Single-document reads and writes against one database, by id.
 *
 * These go through nano's raw `request` with a path we encode ourselves rather than through
 * `db.get/insert/destroy`: nano skips encoding any id that contains `_local` anywhere (its check is
 * `/^_design|_local/`), so an entity named `my_local_job` in a package would be sent as a path with
 * raw slashes and be read as an attachment. Ids here contain `/`, spaces, `@` and `&`.
 */

export interface RawDoc {
  _id: string;
  _rev: string;
  [key: string]: unknown;
}

/** The caller's document without CouchDB's reserved top-level members (`_id`, `_rev`, …). */
export function stripReserved<T>(raw: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('_')) out[k] = v;
  return out as T;
}

export class DocAccess {
  constructor(
    private readonly server: ServerScope,
    readonly db: string,
  ) {}

  private path(id: string): string {
    // CouchDB answers a GET of `_design%2Fname` with a redirect (which nano refuses to follow), so
    // the slash after `_design` stays literal.
    if (id.startsWith('_design/')) return `_design/${encodeURIComponent(id.slice('_design/'.length))}`;
    return encodeURIComponent(id);
  }

  async get(id: string): Promise<RawDoc | undefined> {
    try {
      return (await this.server.request({ db: this.db, path: this.path(id) })) as RawDoc;
    } catch (err) {
      if (isMissingDocument(err)) return undefined;
      throw err;
    }
  }

  /** Creates (no rev) or replaces (rev) a document; returns the new rev. */
  async put(id: string, doc: object, rev?: string): Promise<string> {
    if (rev !== undefined && !isWellFormedRev(rev)) throw new StoreConflictError(id);
    const body: Record<string, unknown> = { ...doc };
    delete body._id;
    delete body._rev;
    if (rev !== undefined) body._rev = rev;
    try {
      const res = (await this.server.request({ db: this.db, path: this.path(id), method: 'PUT', body })) as { rev: string };
      return res.rev;
    } catch (err) {
      throw mapWriteError(err, id);
    }
  }

  async delete(id: string, rev: string): Promise<void> {
    if (!isWellFormedRev(rev)) throw new StoreConflictError(id);
    try {
      await this.server.request({ db: this.db, path: this.path(id), method: 'DELETE', qs: { rev } });
    } catch (err) {
      // pouchdb-server answers 404 to a stale rev where CouchDB answers 409; a read tells the two
      // cases apart the same way on both servers.
      if (isMissingDocument(err)) {
        if (await this.get(id)) throw new StoreConflictError(id);
        throw new StoreNotFoundError(id);
      }
      throw mapWriteError(err, id);
    }
  }
}
