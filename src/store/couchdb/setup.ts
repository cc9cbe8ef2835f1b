import { isDeepStrictEqual } from 'node:util';
import type { ServerScope } from 'nano';
import { StoreConflictError } from '../artifact-store.js';
import { isDatabaseExists, statusOf } from './couch-errors.js';
import { DESIGN_DOC, type DesignDoc } from './design-docs.js';
import { DocAccess } from './doc-access.js';
import type { StoreLogger } from './logger.js';

/**
 * Creates a database unless it exists. Looks first so that a deployment whose CouchDB user may
 * not create databases still starts when they were created beforehand; tolerates 412 because
 * several replicas run init() at the same time.
 */
export async function ensureDatabase(server: ServerScope, name: string, logger: StoreLogger): Promise<void> {
  try {
    await server.db.get(name);
    return;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  try {
    await server.db.create(name);
    logger.info({ db: name }, 'created CouchDB database');
  } catch (err) {
    if (!isDatabaseExists(err)) throw err;
  }
}

/**
 * Puts the design document if it is missing or differs from `wanted`. A concurrent writer makes
 * the put fail with a conflict; then the comparison is redone against what it wrote.
 */
export async function ensureDesignDoc(server: ServerScope, db: string, wanted: DesignDoc, logger: StoreLogger): Promise<void> {
  const docs = new DocAccess(server, db);
  const id = `_design/${DESIGN_DOC}`;
  for (let attempt = 0; ; attempt++) {
    const current = await docs.get(id);
    if (current && isDeepStrictEqual({ language: current.language, views: current.views }, wanted)) return;
    try {
      await docs.put(id, wanted, current?._rev);
      logger.info({ db, designDoc: id, replaced: current !== undefined }, 'wrote CouchDB design document');
      return;
    } catch (err) {
      if (attempt >= 4 || !(err instanceof StoreConflictError)) throw err;
    }
  }
}
