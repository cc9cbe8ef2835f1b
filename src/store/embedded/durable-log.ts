import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * An append-only log of JSON lines with group commit: appends issued in the same tick (or while
 * the batch before is being written) share one write and one fdatasync, so a caller whose promise
 * resolved can lose nothing to a crash, and many concurrent writers cost one disk flush.
 */
export class DurableLog<R> {
  private fh?: FileHandle;
  private pending: { lines: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** The batch being written, if any. */
  private writing?: Promise<void>;
  /** Batches written or being written and not yet synced. */
  private readonly flushing = new Set<Promise<void>>();
  private scheduled = false;
  private written = 0;
  /** While a rewrite copies its snapshot: the batches written to this log meanwhile, for the new one. */
  private tail?: string[];

  constructor(private readonly path: string) {}

  /** How much the file holds (in UTF-16 code units: near enough to bytes to decide when to rewrite it). */
  get size(): number {
    return this.written;
  }

  /**
   * Reads every intact record, in order, into `each` (with its line's length), and answers how
   * many there were; a torn last line (a crash mid-write) is ignored.
   */
  async open(each: (record: R, size: number) => void): Promise<number> {
    await mkdir(dirname(this.path), { recursive: true });
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let count = 0;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (!line) continue;
      let record: R;
      try {
        record = JSON.parse(line) as R;
      } catch (err) {
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.length > 0)) {
          throw new Error(`corrupt record at line ${i + 1} of ${this.path}: ${(err as Error).message}`);
        }
        continue;
      }
      each(record, line.length + 1);
      count++;
    }
    this.written = text.length;
    this.fh = await open(this.path, 'a');
    return count;
  }

  append(records: R[]): Promise<void> {
    let lines = '';
    for (const r of records) lines += JSON.stringify(r) + '\n';
    return this.appendLines(lines);
  }

  /** Appends records the caller serialized already: JSON lines, each ending in a newline. */
  appendLines(lines: string): Promise<void> {
    if (!this.fh) return Promise.reject(new Error('log is closed'));
    this.written += lines.length;
    return new Promise((resolve, reject) => {
      this.pending.push({ lines, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Writes are one at a time, in order; syncs overlap: once a batch is written, the next one is
   * written while the first is still being synced. Each batch is answered after a sync that began
   * after its write, so it is on disk; appends no longer wait for an earlier batch's sync before
   * theirs can even start (about a millisecond each here, with two durable writes per webhook).
   */
  private async flush(): Promise<void> {
    while (this.writing) await this.writing;
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let written!: () => void;
    this.writing = new Promise<void>((resolve) => (written = resolve));
    const run = (async () => {
      try {
        try {
          const text = batch.map((b) => b.lines).join('');
          this.tail?.push(text);
          await this.fh!.write(text);
        } finally {
          this.writing = undefined;
          written();
        }
        await this.fh!.datasync();
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    })();
    this.flushing.add(run);
    await run;
    this.flushing.delete(run);
  }

  /**
   * Replaces the log, while it is in use, with `lines` (each a JSON record ending in a newline)
   * followed by what was appended meanwhile: written aside, synced, renamed over the log. Appends
   * go on (to this log, durably) while the snapshot is copied, and each batch written meanwhile
   * is kept; they wait only for the switch at the end (the kept batches written after the
   * snapshot, one sync, the rename), not for the copy: a store of tens of MB took writes away
   * for as long as its copy ran. `lines` may be read lazily and reflect changes made while it is
   * read: every record is a whole document put or delete, applied in memory before it is
   * appended, so what a snapshot line misses was written after the copy began and is among the
   * kept batches, which put the documents they touch right whatever the lines held of them. On a
   * failure the old log stays in use.
   */
  async rewriteLines(lines: Iterable<string>): Promise<void> {
    const tmp = `${this.path}.compact`;
    const tail: string[] = [];
    // Batches whose write starts from here on are kept (a batch being written now is in memory
    // already, so in the snapshot).
    this.tail = tail;
    let fh: FileHandle | undefined;
    let switched: (() => void) | undefined;
    try {
      fh = await open(tmp, 'w');
      let size = 0;
      let chunk = '';
      for (const line of lines) {
        chunk += line;
        // Written a megabyte at a time: each write lets the event loop serve requests meanwhile.
        if (chunk.length >= 1 << 20) {
          await fh.write(chunk);
          size += chunk.length;
          chunk = '';
        }
      }
      if (chunk) await fh.write(chunk);
      size += chunk.length;
      // The switch: no batch is written from here until the new log is in place.
      while (this.writing) await this.writing;
      this.writing = new Promise<void>((resolve) => (switched = resolve));
      await Promise.all(this.flushing);
      this.tail = undefined;
      const kept = tail.join('');
      if (kept) await fh.write(kept);
      size += kept.length;
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, this.path);
      await this.syncDir();
      await this.fh?.close();
      this.fh = await open(this.path, 'a');
      const waiting = this.pending.reduce((n, p) => n + p.lines.length, 0);
      this.written = size + waiting;
    } finally {
      this.tail = undefined;
      await fh?.close().catch(() => undefined);
      if (switched) {
        this.writing = undefined;
        switched();
      }
    }
  }

  /** Makes the rename itself durable. */
  private async syncDir(): Promise<void> {
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.length || this.flushing.size) {
      if (this.flushing.size) await Promise.all(this.flushing);
      else await this.flush();
    }
  }

  async close(): Promise<void> {
    await this.drain();
    await this.fh?.close();
    this.fh = undefined;
  }
}
