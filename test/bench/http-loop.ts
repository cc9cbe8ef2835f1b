import * as http from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request shape, sent again and again. */
export interface Target {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoopResult {
  /** Completed requests per second. */
  rps: number;
  /** Latency percentiles in ms (sub-millisecond precision). */
  p50: number;
  p99: number;
  requests: number;
  /** Requests that failed or answered other than 200. */
  errors: number;
}

/**
 * A closed loop: `connections` clients, each sending its next request as soon as the last one
 * answered, for `seconds`, over keep-alive connections. Latencies are taken with the
 * high-resolution clock, so sub-millisecond differences show (autocannon's histogram counts
 * whole milliseconds). The same client drives every target, so its own cost cancels out in
 * the differences the benchmark reports.
 */
export async function closedLoop(target: Target, connections: number, seconds: number): Promise<LoopResult> {
  const url = new URL(target.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const body = target.body ?? '';
  const headers = { ...(target.headers ?? {}), ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) };
  const latencies: number[] = [];
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: target.method ?? 'POST', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          if (res.statusCode !== 200) errors++;
          resolve();
        });
        res.on('error', () => {
          errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] : NaN);
  return { rps: latencies.length / elapsed, p50: pct(50), p99: pct(99), requests: latencies.length, errors };
}

/**
 * A JSON poster over keep-alive connections (node:http), for open-loop load: about a third of
 * what `fetch` costs per request here, and the load client shares the machine it measures.
 */
export function jsonPoster(baseUrl: string, headers: Record<string, string>, maxSockets = 64) {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  /** Posts JSON text made already (sent as it is). */
  const postText = (path: string, body: string) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = http.request(
        { host: base.hostname, port: base.port, path, method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
            } catch (err) {
              reject(err);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const post = (path: string, value: unknown) => postText(path, JSON.stringify(value));
  return { post, postText, close: () => agent.destroy() };
}
