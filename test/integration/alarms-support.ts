import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BIN, REPO, freePort } from '../support/standalone-process.js';

/**
 * What the alarms provider replicas need around them in the reliability tests: a controller that
 * records every fire it gets (and dedupes nothing, so a double fire shows), and the replicas as
 * real `whiskhub provider alarms` processes on the real CouchDB and Redis.
 */
export const OWNER_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:' + 'a'.repeat(64);

export interface RecordedFire {
  trigger: string;
  key: string;
  body: Record<string, any>;
  at: number;
}

export interface FakeController {
  url: string;
  fires: RecordedFire[];
  triggers: Set<string>;
  /** Fire answers to use instead of 202, consumed in order. */
  answers: number[];
  close(): Promise<void>;
}

export async function startFakeController(): Promise<FakeController> {
  const fires: RecordedFire[] = [];
  const triggers = new Set<string>();
  const answers: number[] = [];
  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      if (auth !== OWNER_KEY) return send(res, 401, { error: 'The supplied authentication is invalid' });
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/api/v1/namespaces') return send(res, 200, ['guest']);
      const m = /^\/api\/v1\/namespaces\/(guest|_)\/triggers\/([^/]+)$/.exec(url.pathname);
      if (!m) return send(res, 404, { error: 'no route' });
      const name = decodeURIComponent(m[2]);
      if (!triggers.has(name)) return send(res, 404, { error: 'The requested resource does not exist.' });
      if (req.method === 'GET') return send(res, 200, { name, namespace: 'guest', rules: {} });
      if (req.method === 'DELETE') {
        triggers.delete(name);
        return send(res, 200, { name });
      }
      if (req.method === 'POST') {
        fires.push({ trigger: name, key: String(req.headers['x-idempotency-key']), body: raw ? JSON.parse(raw) : {}, at: Date.now() });
        const status = answers.shift() ?? 202;
        return send(res, status, status === 202 ? { activationId: `a${fires.length}` } : { error: `answered ${status}` });
      }
      send(res, 405, { error: 'method' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, fires, triggers, answers, close: () => new Promise((r) => server.close(() => r())) };
}

export interface Replica {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** One `whiskhub provider alarms` replica; resolves once its API answers. */
export async function startReplica(env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'provider', 'alarms'], {
    cwd: REPO,
    env: { ...process.env, WHISKHUB_HOST: '127.0.0.1', WHISKHUB_FEEDS_PORT: String(port), WHISKHUB_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`provider exited with ${child.exitCode}:\n${out}`);
    const ok = await fetch(`${url}/ping`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`provider did not answer in 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A lifecycle call on a replica's provider API, with the owner's key. */
export async function feedApi(replica: Replica, method: string, trigger: string, body?: unknown, suffix = '') {
  const res = await fetch(`${replica.url}/feeds/v1/alarms/triggers/guest/${encodeURIComponent(trigger)}${suffix}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(OWNER_KEY).toString('base64')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Fires per trigger, and the idempotency keys seen more than once. */
export function tally(fires: RecordedFire[]) {
  const per = new Map<string, string[]>();
  for (const f of fires) per.set(f.trigger, [...(per.get(f.trigger) ?? []), f.key]);
  const duplicates = [...per.entries()].flatMap(([t, keys]) => keys.filter((k, i) => keys.indexOf(k) !== i).map((k) => `${t} ${k}`));
  return { per, duplicates };
}
