import type { ActivationDoc } from '../entities/documents.js';
import type { Logger } from '../logging/logger.js';
import type { ArtifactStore } from './artifact-store.js';

interface Queued {
  doc: ActivationDoc;
  stored: () => void;
  done: Promise<void>;
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
 * one round trip for many records. A batch leaves `maxDelayMs` after its first record, or at once
 * when `maxBatch` records wait. One batch is written at a time: batches that fall due while one is
 * being written leave together after it, as one request, so a store that slows down under load
 * gets fewer, larger writes (on the CouchDB stand-in a request costs about ten records' worth of
 * CPU on its own) instead of a queue of small ones. A failed batch is retried; records are never
 * dropped silently.
 */
export class ActivationWriter {
  private queued: Queued[] = [];
  private inFlight: Queued[] = [];
  private timer?: NodeJS.Timeout;
  /** The records queued are due: their delay ran out, the batch filled, or flush() asked. */
  private due = false;
  private writing = false;

  constructor(
    private readonly store: ArtifactStore,
    private readonly logger: Logger,
    private readonly maxBatch = 200,
    private readonly maxDelayMs = 20,
  ) {}

  /** Queues a record; resolves once it is stored (or found recorded already). */
  write(doc: ActivationDoc): Promise<void> {
    let stored!: () => void;
    const done = new Promise<void>((resolve) => (stored = resolve));
    this.queued.push({ doc, stored, done });
    if (this.queued.length >= this.maxBatch) this.makeDue();
    else this.timer ??= setTimeout(() => this.makeDue(), this.maxDelayMs);
    return done;
  }

  /** Writes what is queued now; resolves when everything queued so far is stored. */
  flush(): Promise<void> {
    const all = [...this.inFlight, ...this.queued].map((q) => q.done);
    if (this.queued.length) this.makeDue();
    return Promise.all(all).then(() => undefined);
  }

  private makeDue(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = true;
    if (!this.writing) void this.drain();
  }

  /** Writes due records, one batch at a time, until none are due. */
  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.due && this.queued.length) {
        this.due = false;
        this.inFlight = this.queued;
        // Records queued from here on wait for their own delay (write() starts its timer again),
        // unless they fall due while this batch is out: then they go together after it.
        this.queued = [];
        await this.writeWithRetry(this.inFlight.map((q) => q.doc));
        for (const q of this.inFlight) q.stored();
        this.inFlight = [];
      }
    } finally {
      this.writing = false;
    }
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
