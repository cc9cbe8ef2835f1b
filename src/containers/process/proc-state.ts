import { readFile } from 'node:fs/promises';

/**
 * The scheduler state letter of a process from /proc/<pid>/stat ('R', 'S', 'T', ...), or
 * undefined where there is no /proc (not Linux) or the process is gone. The command name in
 * that file may hold spaces and parentheses, so the state is read after the last ')'.
 */
export async function processState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
    return stat.charAt(stat.lastIndexOf(')') + 2) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the process is, or is not, stopped by a signal. kill() only queues SIGSTOP and
 * SIGCONT; a pause is meant to be done when it returns (as `docker pause` is), so callers that
 * then look at the process, or count on it using no CPU, see what they asked for. Gives up
 * quietly after `limitMs` or when the state cannot be read.
 */
export async function waitStopped(pid: number, stopped: boolean, limitMs = 1000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const state = await processState(pid);
    if (state === undefined || (state === 'T' || state === 't') === stopped) return;
    if (Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}
