import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logging/logger.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { EmbeddedFireQueue } from '../../src/triggers/embedded/embedded-fire-queue.js';
import { describeFireQueue } from './fire-queue.contract.js';

const stores = new Map<string, ArtifactStore>();

describeFireQueue('embedded store', {
  newLocation: () => mkdtempSync(join(tmpdir(), 'whiskhub-fires-')),
  open: async (dir) => {
    // One process per data directory: a "restart" closes the old store first.
    await stores.get(dir)?.close();
    const store = await createEmbeddedStore(dir);
    stores.set(dir, store);
    return new EmbeddedFireQueue(store, createLogger('silent'));
  },
  release: async (dir) => {
    await stores.get(dir)?.close();
    stores.delete(dir);
  },
});
