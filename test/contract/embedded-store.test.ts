import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { describeArtifactStore } from './artifact-store.contract.js';

describeArtifactStore('embedded', {
  newLocation: () => mkdtempSync(join(tmpdir(), 'whiskhub-store-')),
  open: (dir) => createEmbeddedStore(dir),
});
