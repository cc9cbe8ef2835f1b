import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeImage, startCluster } from '../support/cluster-processes.js';
import { startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';
import { jsonPoster } from './http-loop.js';
import { LIMITS, load, median, percentile } from './measure.js';

/** Where fires go: a standalone process or a cluster's controller, with a namespace's key. */
type Target = Pick<StandaloneProcess, 'apiHost' | 'guestAuth'>;

/** The Authorization header of the namespace's owner. */
const basicAuth = (wh: Target) => `Basic ${Buffer.from(wh.guestAuth).toString('base64')}`;

/** The API as one namespace's owner uses it. */
function client(wh: Target) {
  const auth = basicAuth(wh);
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${wh.apiHost}/api/v1/namespaces/_${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/**
 * Sends fires at a steady rate and measures, per fire, the time from sending it to its rule's
 * action starting (the action record's `start`, stamped by the invoker as it takes a container).
 */
async function fireToActionStart(wh: Target, ratePerSecond: number, seconds: number) {
  const api = client(wh);
  // The fires go out through node:http rather than fetch: at 1,000 a second fetch took about half
  // a core of this 2-core machine from the platform being measured.
  const poster = jsonPoster(wh.apiHost, { authorization: basicAuth(wh) });
  const sent: { at: number; id: Promise<string | undefined> }[] = [];
  let failed = 0;
  const total = ratePerSecond * seconds;
  const t0 = Date.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / ratePerSecond;
    const wait = due - Date.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const at = Date.now();
    // A fire that fails (refused, connection reset) is counted, not left as an unhandled rejection.
    sent.push({
      at,
      id: poster.post('/api/v1/namespaces/_/triggers/bench', { i }).then(
        (r) => (r.status === 202 ? (r.body.activationId as string) : (failed++, undefined)),
        () => (failed++, undefined),
      ),
    });
  }
  const achievedRate = total / ((Date.now() - t0) / 1000);
  const latencies: number[] = [];
  // Only a sample is traced (tracing every fire would load the machine being measured).
  const sample = sent.filter((_, i) => i % Math.max(1, Math.floor(total / 500)) === 0);
  await new Promise((r) => setTimeout(r, 2000));
  for (const s of sample) {
    const id = await s.id;
    if (!id) continue;
    for (let tries = 0; tries < 100; tries++) {
      const t = await api('GET', `/activations/${id}/trace`);
      const act = t.body?.rules?.[0]?.activation;
      if (t.status === 200 && act?.start) {
        latencies.push(act.start - s.at);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  latencies.sort((a, b) => a - b);
  await Promise.all(sent.map((s) => s.id));
  poster.close();
  return { achievedRate, p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length, failed };
}

/**
 * `bench fire` (issue 4): fires accepted per second, durably (each 202 means the fire is in the
 * durable queue: on disk in standalone, in Redis in the cluster), and fire → action start latency
 * p50/p99 at 1,000 fires/s with a warm noop action, in standalone and in the cluster (a
 * controller and an invoker over Kafka, CouchDB, Redis and Docker). Goals: ≥ 10,000 fires/s
 * accepted in standalone; p99 ≤ 50 ms.
 */
export async function benchFire(opts: { rounds: number; seconds: number }) {
  const figures: Record<string, number> = {};
  const wh = await startStandaloneProcess({
    dataDir: mkdtempSync(join(tmpdir(), 'whiskhub-bench-fire-')),
    env: { ...LIMITS, WHISKHUB_LOG_LEVEL: 'warn', WHISKHUB_CONTAINER_FACTORY: 'process' },
  });
  let standalone: Awaited<ReturnType<typeof measureFires>>;
  try {
    standalone = await measureFires(wh, opts);
  } finally {
    await wh.stop();
  }
  for (const [k, v] of Object.entries(standalone)) figures[`standalone: ${k}`] = v;
  let clusterP99 = NaN;
  if (process.env.WHISKHUB_KAFKA_BROKERS && process.env.WHISKHUB_COUCHDB_URL && process.env.WHISKHUB_REDIS_URL && process.env.DOCKER_HOST) {
    await buildRuntimeImage();
    const c = await startCluster({ invokers: 1, env: { ...LIMITS, WHISKHUB_LOG_LEVEL: 'info', WHISKHUB_REDIS_URL: process.env.WHISKHUB_REDIS_URL, WHISKHUB_INVOKER_MEMORY_MB: '2048' } });
    try {
      const target = { apiHost: c.apiHost, guestAuth: c.auth };
      const cluster = await measureFires(target, opts);
      for (const [k, v] of Object.entries(cluster)) figures[`cluster: ${k}`] = v;
      clusterP99 = cluster['fire -> action start p99 (ms)'];
      // Where the cluster stands below the goal's rate: p99 at lower steady rates (each after a
      // pause for what the one before left), to say what rate it sustains within 50 ms here.
      for (const rate of [250, 500]) {
        await new Promise((res) => setTimeout(res, 5000));
        const lower = await fireToActionStart(target, rate, 5);
        figures[`cluster: fire -> action start p99 at ${rate} fires/s (ms)`] = lower.p99;
        console.error(`bench fire: cluster at ${rate} fires/s: p50 ${lower.p50} ms, p99 ${lower.p99} ms`);
      }
    } finally {
      await c.stop();
    }
  } else console.error('bench fire: no Kafka, CouchDB, Redis or Docker in the environment (. .data/services/env): cluster mode skipped');
  figures.rounds = opts.rounds;
  const met = standalone['fires accepted per second, durable (median)'] >= 10_000 && standalone['fire -> action start p99 (ms)'] <= 50 && !(clusterP99 > 50);
  return { name: 'fire', figures, met };
}

/**
 * One platform: the latency run at 1,000 fires/s, acceptance rounds (bursts from 64 connections)
 * with the fan-out of what they queued, then the latency run again with the bursts' records in
 * the store.
 */
async function measureFires(wh: Target, opts: { rounds: number; seconds: number }) {
  const api = client(wh);
  await api('PUT', '/actions/noop', { exec: { kind: 'nodejs:default', code: 'function main() { return {}; }' } });
  await api('PUT', '/triggers/bench');
  await api('PUT', '/rules/bench-rule', { trigger: '/_/bench', action: '/_/noop' });
  await api('POST', '/actions/noop?blocking=true'); // warm

  // Latency at a steady 1,000 fires/s, on the platform as it runs day to day (measured again at
  // the end, after the bursts have left their records in the store).
  // Warm the path and let the invoker grow its pool of warm containers to what 1,000 fires/s needs.
  await fireToActionStart(wh, 1000, 3);
  const steady = await fireToActionStart(wh, 1000, 5);

  // Acceptance: fires with no active rule would answer 204 without touching the queue, so the
  // acceptance run uses a trigger with a rule; its fan-out runs alongside, as it would in use.
  const url = `${wh.apiHost}/api/v1/namespaces/_/triggers/bench`;
  const headers = { authorization: basicAuth(wh), 'content-type': 'application/json' };
  const accepted: number[] = [];
  const ran = async () => (await api('GET', '/activations?count=true&name=noop')).body.activations as number;
  // The fan-out runs from the first burst on; its rate is taken over that whole span, up to the
  // moment the last of the backlog ran (a fast fan-out may finish during the pause after the
  // last round, and a rate taken only after it would read as zero).
  const burstStart = Date.now();
  const startCount = await ran();
  for (let i = 0; i < opts.rounds; i++) {
    const r = await load(url, { seconds: opts.seconds, connections: 64, headers, method: 'POST', body: '{"x":1}' });
    if (r.errors) throw new Error(`fire load saw ${r.errors} errors`);
    accepted.push(r.rps);
    console.error(`bench fire: round ${i + 1}: ${Math.round(r.rps)} fires accepted per second`);
    // Let the fan-out catch up so rounds don't pile onto each other.
    await new Promise((res) => setTimeout(res, 3000));
  }
  // Wait until the backlog has run (the count stops moving), and start the latency run only then.
  let now = await ran();
  let lastChange = Date.now();
  for (let last = -1; now !== last && Date.now() - burstStart < 600_000; ) {
    last = now;
    await new Promise((res) => setTimeout(res, 2000));
    now = await ran();
    if (now !== last) lastChange = Date.now();
  }
  const fanOutSeconds = (lastChange - burstStart) / 1000;
  const after = await fireToActionStart(wh, 1000, 5);
  return {
    'fires accepted per second, durable (median)': Math.round(median(accepted)),
    'fan-out from the first burst until its backlog ran (action runs/s)': Math.round((now - startCount) / Math.max(1, fanOutSeconds)),
    'seconds from the first burst until its backlog ran': Math.round(fanOutSeconds),
    'achieved rate for the latency run (fires/s)': Math.round(steady.achievedRate),
    'fire -> action start p50 (ms)': steady.p50,
    'fire -> action start p99 (ms)': steady.p99,
    'latency samples': steady.samples,
    'fires not accepted during the latency run': steady.failed,
    'after the bursts (their records in the store): fire -> action start p50 (ms)': after.p50,
    'after the bursts: fire -> action start p99 (ms)': after.p99,
  };
}
