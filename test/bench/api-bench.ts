import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startStandaloneProcess } from '../support/standalone-process.js';
import { load, median } from './measure.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CODE = 'function main(params) { return { msg: "hello " + params.name }; }';

/**
 * `bench api`: requests/s of an authenticated GET of an action on `whiskhub standalone`, and of a
 * bare Fastify route answering the same JSON, measured in the same run, alternating rounds so
 * both see the same machine. Goal (issue 2): ratio ≥ 0.5.
 */
export async function benchApi(opts: { rounds: number; seconds: number; connections: number }) {
  const wh = await startStandaloneProcess({ dataDir: mkdtempSync(join(tmpdir(), 'whiskhub-bench-')), env: { WHISKHUB_LOG_LEVEL: 'warn' } });
  const auth = `Basic ${Buffer.from(wh.guestAuth).toString('base64')}`;
  const actionUrl = `${wh.apiHost}/api/v1/namespaces/_/actions/hello?code=false`;
  await fetch(`${wh.apiHost}/api/v1/namespaces/_/actions/hello`, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ exec: { kind: 'nodejs:default', code: CODE }, parameters: [{ key: 'name', value: 'bench' }] }),
  });
  const sample = await (await fetch(actionUrl, { headers: { authorization: auth } })).text();

  const port = await freePort();
  const bare = spawn(process.execPath, [join(HERE, 'bare-fastify.js'), String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  bare.stdin.end(sample);
  await new Promise<void>((resolve) => bare.stdout.once('data', () => resolve()));
  const bareUrl = `http://127.0.0.1:${port}/api/v1/namespaces/_/actions/hello?code=false`;

  try {
    // Warm both (JIT, connection pools) before measuring.
    await load(actionUrl, { seconds: 2, connections: opts.connections, headers: { authorization: auth } });
    await load(bareUrl, { seconds: 2, connections: opts.connections });
    const hub: number[] = [];
    const base: number[] = [];
    const hubP50: number[] = [];
    const baseP50: number[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      const h = await load(actionUrl, { seconds: opts.seconds, connections: opts.connections, headers: { authorization: auth } });
      const b = await load(bareUrl, { seconds: opts.seconds, connections: opts.connections });
      if (h.errors || h.non2xx) throw new Error(`whiskhub answered ${h.non2xx} non-2xx and ${h.errors} errors`);
      hub.push(h.rps);
      base.push(b.rps);
      hubP50.push(h.p50);
      baseP50.push(b.p50);
    }
    const ratio = median(hub) / median(base);
    return {
      name: 'api',
      figures: {
        'authenticated GET action, whiskhub standalone (req/s, median)': Math.round(median(hub)),
        'same JSON from a bare Fastify route (req/s, median)': Math.round(median(base)),
        'ratio (goal >= 0.5)': Number(ratio.toFixed(3)),
        'whiskhub p50 latency (ms, median)': median(hubP50),
        'bare p50 latency (ms, median)': median(baseP50),
        rounds: opts.rounds,
        'seconds per round': opts.seconds,
        connections: opts.connections,
      },
      met: ratio >= 0.5,
    };
  } finally {
    bare.kill('SIGTERM');
    await wh.stop();
  }
}
