/**
 * Gathers single-document operations into batches for one request each: what is added in the
 * same turn of the event loop goes out together, at most `maxBatch` per request and at most
 * `maxInFlight` requests at once. Under load, what arrives while those are out waits and goes in
 * the next one: the batches grow with the load instead of the requests (one document per request
 * is what a CouchDB-compatible server can least afford). Shared by BulkDocReader and
 * BulkDocWriter; `send` settles every operation of its batch.
 */
export class RequestBatcher<T> {
  private pending: T[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly send: (batch: T[]) => Promise<void>,
    private readonly maxBatch: number,
    private readonly maxInFlight: number,
  ) {}

  add(op: T): void {
    this.pending.push(op);
    this.kick();
  }

  /** Sends what is waiting on the next turn, unless maxInFlight requests are out: then it waits for one to come back. */
  private kick(): void {
    if (this.scheduled || !this.pending.length || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length && this.inFlight < this.maxInFlight) {
      this.inFlight++;
      void this.send(this.pending.splice(0, this.maxBatch)).finally(() => {
        this.inFlight--;
        this.kick();
      });
    }
  }
}
