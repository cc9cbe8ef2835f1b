import { open, type FileHandle } from 'node:fs/promises';

/**
 * The least a durable accept can cost, for the benches' floors: buffers appended to a file, those
 * that arrive while a write and fdatasync are under way sharing the next ones (group commit), each
 * append resolving once its bytes are synced. No records, no index, no recovery: only the disk
 * flush that an answer meaning "this will not be lost" has to wait for.
 */
export class FloorLog {
  private waiting: { bufs: Buffer[]; done: () => void }[] = [];
  private flushing = false;

  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<FloorLog> {
    return new FloorLog(await open(path, 'a'));
  }

  append(...bufs: Buffer[]): Promise<void> {
    return new Promise((done) => {
      this.waiting.push({ bufs, done });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.waiting.length) {
      const batch = this.waiting;
      this.waiting = [];
      await this.fh.writev(batch.flatMap((w) => w.bufs));
      await this.fh.datasync();
      for (const w of batch) w.done();
    }
    this.flushing = false;
  }
}
