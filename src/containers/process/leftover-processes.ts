import { readdirSync, readFileSync } from 'node:fs';

/**
 * Process containers carry their identity on their command line (`--whiskhub-container`,
 * `--whiskhub-label=k=v`, `--whiskhub-tmpdir=…`), so that a later invoker can find the ones an
 * earlier run left behind, the way Docker finds containers by label. Linux only (/proc); on
 * other systems nothing is found.
 */
export const CONTAINER_FLAG = '--whiskhub-container';
const LABEL_PREFIX = '--whiskhub-label=';
const TMPDIR_PREFIX = '--whiskhub-tmpdir=';

export function identityArgs(labels: Record<string, string>, tmpDir: string): string[] {
  return [CONTAINER_FLAG, `${TMPDIR_PREFIX}${tmpDir}`, ...Object.entries(labels).map(([k, v]) => `${LABEL_PREFIX}${k}=${v}`)];
}

export interface LeftoverProcess {
  pid: number;
  tmpDir?: string;
}

/** Processes that are our containers and carry every one of the given labels. */
export function findLeftoverProcesses(labels: Record<string, string>): LeftoverProcess[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const wanted = Object.entries(labels).map(([k, v]) => `${LABEL_PREFIX}${k}=${v}`);
  const found: LeftoverProcess[] = [];
  for (const pid of pids) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    if (!args.includes(CONTAINER_FLAG) || !wanted.every((w) => args.includes(w))) continue;
    const tmp = args.find((a) => a.startsWith(TMPDIR_PREFIX));
    found.push({ pid: Number(pid), tmpDir: tmp?.slice(TMPDIR_PREFIX.length) });
  }
  return found;
}

/** Kills a leftover and waits (a little) until it is gone or a zombie: its command line empties. */
export async function killLeftover(pid: number, waitMs = 2000): Promise<boolean> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return false; // already gone, or not ours
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      break;
    }
    if (!cmdline) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}
