import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * An append-only log of JSON lines with group commit: appends issued in the same tick share one
 * write and one fdatasync, so a caller whose promise resolved can lose nothing to a crash, and
 * many concurrent writers cost one disk flush.
 */
export class DurableLog<R> {
  private fh?: FileHandle;
  private pending: { lines: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushing?: Promise<void>;
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

  private async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const run = (async () => {
      try {
        await this.fh!.write(batch.map((b) => b.lines).join(''));
        await this.fh!.datasync();
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    })();
    this.flushing = run;
    await run;
    this.flushing = undefined;
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
    while (this.pending.length || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.flush();
    }
  }

  async close(): Promise<void> {
    await this.drain();
    await this.fh?.close();
    this.fh = undefined;
  }
}
