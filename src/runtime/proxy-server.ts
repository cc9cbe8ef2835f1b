import * as http from 'node:http';
import { loadAction, type ActionMain } from './action-loader.js';
import { runAction, setActivationEnv, toEnvString, type ProxyReply } from './run-action.js';
import { writeSentinels } from './sentinel.js';

/**
 * The action proxy's HTTP side: OpenWhisk's runtime protocol (spec §6).
 *
 *   POST /init  {value: {name, main, code, binary, env}}  once per container → 200 {OK: true};
 *               a failure → 502 {error} (and the sentinels); a second /init → 403.
 *   POST /run   {value, namespace, action_name, activation_id, deadline, …} → see run-action.ts.
 *
 * /run requests are served as they come, several at once if the invoker sends them
 * (intra-container concurrency).
 */
const MAX_BODY_BYTES = 128 * 1024 * 1024;

type State = 'uninitialized' | 'initializing' | 'ready' | 'failed';

export function createProxyServer(): http.Server {
  let state: State = 'uninitialized';
  let action: ActionMain | undefined;

  async function init(body: Record<string, unknown>): Promise<ProxyReply> {
    if (state !== 'uninitialized') return json(403, { error: 'Cannot initialize the action more than once.' });
    state = 'initializing';
    const value = asObject(body.value);
    try {
      if (typeof value.code !== 'string' || (value.main !== undefined && typeof value.main !== 'string')) {
        throw new Error('Missing main/no code to execute.');
      }
      for (const [key, v] of Object.entries(asObject(value.env))) process.env[key] = toEnvString(v);
      action = await loadAction({
        name: typeof value.name === 'string' ? value.name : 'action',
        main: typeof value.main === 'string' ? value.main : 'main',
        code: value.code,
        binary: value.binary === true,
      });
      state = 'ready';
      return json(200, { OK: true });
    } catch (err) {
      state = 'failed';
      console.error('Error during initialization:', err);
      writeSentinels();
      return json(502, { error: `Initialization has failed due to: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  async function run(body: Record<string, unknown>): Promise<ProxyReply> {
    if (state !== 'ready' || !action) {
      writeSentinels();
      return json(502, { error: state === 'failed' ? 'The action failed to initialize.' : 'The action was not initialized.' });
    }
    setActivationEnv(body);
    const reply = await runAction(action, asObject(body.value));
    writeSentinels();
    return reply;
  }

  const server = http.createServer((req, res) => {
    const route = req.method === 'POST' ? (req.url === '/init' ? init : req.url === '/run' ? run : undefined) : undefined;
    readJson(req)
      .then((body) => (route ? route(body) : json(404, { error: 'Not found: the proxy serves POST /init and POST /run.' })))
      .catch((err: Error & { status?: number }) => json(err.status ?? 400, { error: err.message }))
      .then((reply) => {
        res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply.body) });
        res.end(reply.body);
      });
  });
  // The invoker keeps connections open (keep-alive) and may call again after minutes paused:
  // never close an idle connection or cut a long activation short from this side.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.timeout = 0;
  return server;
}

function json(status: number, body: unknown): ProxyReply {
  return { status, body: JSON.stringify(body) };
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reject(Object.assign(new Error('The request body is too large.'), { status: 413 }));
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) return resolve({});
      try {
        resolve(asObject(JSON.parse(text)));
      } catch {
        reject(new Error('The request body is not valid JSON.'));
      }
    });
  });
}
