import { StoreConflictError } from '../artifact-store.js';

/** The parts of a nano RequestError this store looks at. */
interface CouchError {
  statusCode?: number;
  error?: string;
  reason?: string;
}

const asCouchError = (err: unknown): CouchError => (typeof err === 'object' && err !== null ? (err as CouchError) : {});

export const statusOf = (err: unknown): number | undefined => asCouchError(err).statusCode;

/**
 * A 404 can mean the document or its whole database is missing. Only the first is an answer
 * ("no such document"); the second is a deployment fault and must surface, not read as empty.
 * CouchDB says "Database does not exist.", pouchdb-server says "no_db_file".
 */
export const isMissingDatabase = (err: unknown): boolean => {
  const e = asCouchError(err);
  return e.statusCode === 404 && /no_db_file|database does not exist/i.test(e.reason ?? '');
};

export const isMissingDocument = (err: unknown): boolean => statusOf(err) === 404 && !isMissingDatabase(err);

/** 412 on PUT /db: someone else created it first, which is what we wanted. */
export const isDatabaseExists = (err: unknown): boolean => statusOf(err) === 412;

/**
 * CouchDB answers 400 "Invalid rev format" for a rev it cannot parse. A rev that cannot be parsed
 * can never be the current one, so for our callers it is the same as a stale rev.
 */
const isBadRev = (err: unknown): boolean => {
  const e = asCouchError(err);
  return e.statusCode === 400 && /invalid rev/i.test(e.reason ?? '');
};

/** CouchDB's own parse rule (couch_doc:parse_rev): a decimal generation, a dash, an id. */
export const isWellFormedRev = (rev: string): boolean => /^[0-9]+-\S+$/.test(rev);

/** Translates a failed document write (PUT) into the store's errors; anything else is rethrown. */
export function mapWriteError(err: unknown, id: string): Error {
  // A replace with a rev of a document that is gone: CouchDB says 409, pouchdb-server 404.
  if (statusOf(err) === 409 || isBadRev(err) || isMissingDocument(err)) return new StoreConflictError(id);
  return err instanceof Error ? err : new Error(String(err));
}

/** Per-document failures of a `_bulk_docs` write that were not already-written duplicates. */
export class BulkWriteError extends Error {
  constructor(
    readonly db: string,
    readonly failures: { id: string; error: string; reason?: string }[],
  ) {
    const sample = failures
      .slice(0, 3)
      .map((f) => `${f.id}: ${f.error}${f.reason ? ` (${f.reason})` : ''}`)
      .join('; ');
    super(`bulk write to ${db} failed for ${failures.length} document(s): ${sample}`);
    this.name = 'BulkWriteError';
  }
}
