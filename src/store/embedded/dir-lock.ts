import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One process per data directory: two writers appending to the same log would corrupt it, so a
 * second whiskhub on the same WHISKHUB_DATA_DIR is refused with a clear message.
 */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'LOCK');
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = Number(readFileSync(file, 'utf8'));
    if (owner && owner !== process.pid && isAlive(owner)) {
      throw new Error(`data directory ${dir} is in use by process ${owner}; stop it or set WHISKHUB_DATA_DIR elsewhere`);
    }
    writeFileSync(file, String(process.pid));
  }
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
