import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { createCouchDbStore } from '../store/couchdb/couchdb-store.js';
import { createEmbeddedStore } from '../store/embedded/embedded-store.js';

/** The one place that picks the ArtifactStore implementation. */
export async function openStore(config: Config, logger: Logger): Promise<ArtifactStore> {
  if (config.store === 'couchdb') {
    const store = createCouchDbStore({ url: config.couchdb.url!, dbPrefix: config.couchdb.prefix, logger });
    await store.init();
    return store;
  }
  return createEmbeddedStore(join(config.dataDir, 'store'), {
    activationRetentionMs: config.activationRetentionMs,
    onCompactError: (err) => logger.error({ err }, 'compacting the store log failed; the log as it was stays in use'),
  });
}
