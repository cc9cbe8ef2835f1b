import type { ActivationDoc } from '../entities/documents.js';
import type { Logger } from '../logging/logger.js';
import type { ArtifactStore } from '../store/artifact-store.js';

/**
 * Activation records go to the store in batches (CouchDB `_bulk_docs`), as OpenWhisk writes them:
 * one round trip for many records. A failed batch is retried; records are never dropped silently.
 */
export class ActivationWriter {
  private batch: ActivationDoc[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ArtifactStore,
    private readonly logger: Logger,
    private readonly maxBatch = 200,
    private readonly maxDelayMs = 20,
  ) {}

  write(doc: ActivationDoc): void {
    this.batch.push(doc);
    if (this.batch.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
  }

  /** Writes what is queued; resolves when everything queued so far is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const docs = this.batch;
    this.batch = [];
    this.flushing = this.flushing.then(() => (docs.length ? this.writeWithRetry(docs) : undefined));
    return this.flushing;
  }

  private async writeWithRetry(docs: ActivationDoc[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.putActivations(docs);
        return;
      } catch (err) {
        this.logger.error({ err, count: docs.length, attempt }, 'writing activation records failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }
}
