// The slice of autocannon's API the benchmarks use (it ships no types).
declare module 'autocannon' {
  interface Histogram {
    average: number;
    p50: number;
    p99: number;
    total: number;
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    errors: number;
    non2xx: number;
  }
  interface Options {
    url: string;
    duration?: number;
    connections?: number;
    pipelining?: number;
    headers?: Record<string, string>;
    method?: string;
    body?: string;
    /** Per-request hooks; setupRequest may change each request before it is sent. */
    requests?: { setupRequest?: (req: Record<string, any>) => Record<string, any> }[];
  }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
