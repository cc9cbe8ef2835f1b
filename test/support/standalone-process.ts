import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found upwards from here (this file also runs compiled, from dist/). */
function findRepo(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'bin/whiskhub.js'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the whiskhub repository root');
    dir = up;
  }
  return dir;
}

export const REPO = findRepo();
export const BIN = join(REPO, 'bin/whiskhub.js');

/** A free loopback port (the kernel picks it; we close and hand it on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface StandaloneProcess {
  apiHost: string;
  guestAuth: string;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `whiskhub standalone` as a user would (the built bin/whiskhub.js), on a free port and a
 * data directory of its own, and waits for the banner.
 */
export async function startStandaloneProcess(opts: { dataDir?: string; env?: Record<string, string> } = {}): Promise<StandaloneProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'whiskhub-e2e-'));
  const port = await freePort();
  const child = spawn(process.execPath, [...(process.env.WHISKHUB_BENCH_NODE_ARGS ? process.env.WHISKHUB_BENCH_NODE_ARGS.split(' ') : []), BIN, 'standalone'], {
    cwd: REPO,
    env: { ...process.env, WHISKHUB_DATA_DIR: dataDir, WHISKHUB_PORT: String(port), WHISKHUB_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + 30_000;
  let guestAuth: string | undefined;
  while (!guestAuth) {
    const m = /wsk property set --apihost (\S+) --auth (\S+)/.exec(out);
    if (m) guestAuth = m[2];
    else if (child.exitCode !== null) throw new Error(`whiskhub standalone exited with ${child.exitCode}:\n${out}`);
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`whiskhub standalone printed no banner in 30 s:\n${out}`);
    }
    else await new Promise((r) => setTimeout(r, 50));
  }
  return {
    apiHost: `http://127.0.0.1:${port}`,
    guestAuth,
    dataDir,
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the whiskhub CLI to completion. */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCommand(process.execPath, [BIN, ...args], env);
}

export function runCommand(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
