import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Drives one URL with autocannon for `seconds` and returns requests/s and latency percentiles. */
export async function load(
  url: string,
  opts: { seconds: number; connections: number; headers?: Record<string, string>; method?: string; body?: string },
): Promise<LoadResult> {
  const r = await autocannon({
    url,
    duration: opts.seconds,
    connections: opts.connections,
    pipelining: 1,
    headers: opts.headers,
    // autocannon refuses an explicit undefined method
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The value at percentile `p` of an ascending list (NaN when it is empty). */
export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** Namespace limits high enough that a benchmark measures the platform, not its throttles. */
export const LIMITS = { WHISKHUB_LIMIT_FIRES_PER_MINUTE: '100000000', WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE: '100000000', WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS: '100000' };
