import type { ActivationDoc } from '../entities/documents.js';
import type { Logger } from '../logging/logger.js';
import type { ArtifactStore } from './artifact-store.js';

interface Queued {
  doc: ActivationDoc;
  stored: () => void;
}

/**
 * True when a batch write failed only because some records exist already with other content
 * (the store's bulk error lists each failure; CouchDB calls these `conflict`). That happens when
 * the load balancer gave up on an invoker and recorded its activations as failed, and the
 * invoker, merely slow, finishes them anyway: the first record stands.
 */
export function onlyConflicts(err: unknown): boolean {
  const failures = (err as { failures?: { error?: string }[] } | undefined)?.failures;
  return Array.isArray(failures) && failures.length > 0 && failures.every((f) => f.error === 'conflict');
}

/**
 * Activation records go to the store in batches (CouchDB `_bulk_docs`), as OpenWhisk writes them:
 * one round trip for many records. A failed batch is retried; records are never dropped silently.
 */
export class ActivationWriter {
  private batch: Queued[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ArtifactStore,
    private readonly logger: Logger,
    private readonly maxBatch = 200,
    private readonly maxDelayMs = 20,
  ) {}

  /** Queues a record; resolves once it is stored (or found recorded already). */
  write(doc: ActivationDoc): Promise<void> {
    return new Promise((stored) => {
      this.batch.push({ doc, stored });
      if (this.batch.length >= this.maxBatch) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
    });
  }

  /** Writes what is queued; resolves when everything queued so far is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const queued = this.batch;
    this.batch = [];
    this.flushing = this.flushing.then(async () => {
      if (queued.length === 0) return;
      await this.writeWithRetry(queued.map((q) => q.doc));
      for (const q of queued) q.stored();
    });
    return this.flushing;
  }

  private async writeWithRetry(docs: ActivationDoc[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.putActivations(docs);
        return;
      } catch (err) {
        if (onlyConflicts(err)) {
          // The rest of the batch is written; what conflicts was recorded by the load balancer.
          this.logger.warn({ err }, 'some activations were recorded already (as failed by the controller); kept those records');
          return;
        }
        this.logger.error({ err, count: docs.length, attempt }, 'writing activation records failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }
}
