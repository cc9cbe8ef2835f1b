import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/standalone-process.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface ChildServer {
  url: string;
  child: ChildProcess;
  stop(): void;
}

/**
 * One of the benches' bare servers (`bare-webhooks.js`, `floor-webhooks.js`, `floor-sink.js`, next
 * to this file) in a process of its own on a free loopback port: `args` follow the port, `stdin`
 * (a secret) is written to it; resolves once it says it is ready.
 */
export async function startChildServer(script: string, args: string[] = [], stdin = ''): Promise<ChildServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(HERE, script), String(port), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.end(stdin);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`bench: ${script} exited (${code}) before it was ready`)));
  });
  return { url: `http://127.0.0.1:${port}/`, child, stop: () => child.kill() };
}
