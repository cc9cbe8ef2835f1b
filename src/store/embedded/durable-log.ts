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
  lineCount = 0;

  constructor(private readonly path: string) {}

  /** Reads every intact record; a torn last line (a crash mid-write) is ignored. */
  async open(): Promise<R[]> {
    await mkdir(dirname(this.path), { recursive: true });
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const records: R[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as R);
      } catch (err) {
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.length > 0)) {
          throw new Error(`corrupt record at line ${i + 1} of ${this.path}: ${(err as Error).message}`);
        }
      }
    }
    this.lineCount = records.length;
    this.fh = await open(this.path, 'a');
    return records;
  }

  append(records: R[]): Promise<void> {
    let lines = '';
    for (const r of records) lines += JSON.stringify(r) + '\n';
    return this.appendLines(lines, records.length);
  }

  /** Appends records the caller serialized already: `count` JSON lines, each ending in a newline. */
  appendLines(lines: string, count: number): Promise<void> {
    if (!this.fh) return Promise.reject(new Error('log is closed'));
    this.lineCount += count;
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
          await this.fh!.write(batch.map((b) => b.lines).join(''));
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

  /** Replaces the log with `records` atomically (write aside, fsync, rename). */
  async rewrite(records: R[]): Promise<void> {
    await this.drain();
    const tmp = `${this.path}.compact`;
    const fh = await open(tmp, 'w');
    const chunk: string[] = [];
    for (const r of records) {
      chunk.push(JSON.stringify(r));
      if (chunk.length >= 1000) {
        await fh.write(chunk.join('\n') + '\n');
        chunk.length = 0;
      }
    }
    if (chunk.length) await fh.write(chunk.join('\n') + '\n');
    await fh.sync();
    await fh.close();
    await this.fh?.close();
    await rename(tmp, this.path);
    this.fh = await open(this.path, 'a');
    this.lineCount = records.length;
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
