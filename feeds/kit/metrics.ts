/**
 * Counters and a latency summary per provider, rendered in Prometheus' text format at
 * `/feeds/v1/metrics`. Per replica (each process counts what it did).
 */
export class FeedMetrics {
  private readonly counters = new Map<string, number>();
  private readonly latency = new Map<string, { sum: number; count: number; max: number }>();

  inc(name: string, labels: Record<string, string>, by = 1): void {
    const key = `${name}${render(labels)}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  /** Records how long after its event a fire was accepted, in ms. */
  observeLatency(provider: string, ms: number): void {
    const l = this.latency.get(provider) ?? { sum: 0, count: 0, max: 0 };
    l.sum += ms;
    l.count++;
    l.max = Math.max(l.max, ms);
    this.latency.set(provider, l);
  }

  get(name: string, labels: Record<string, string>): number {
    return this.counters.get(`${name}${render(labels)}`) ?? 0;
  }

  render(gauges: Record<string, number> = {}): string {
    const lines: string[] = [];
    for (const [k, v] of [...this.counters].sort()) lines.push(`${k} ${v}`);
    for (const [p, l] of this.latency) {
      lines.push(`whiskhub_feed_fire_latency_ms_sum{provider="${p}"} ${l.sum}`);
      lines.push(`whiskhub_feed_fire_latency_ms_count{provider="${p}"} ${l.count}`);
      lines.push(`whiskhub_feed_fire_latency_ms_max{provider="${p}"} ${l.max}`);
    }
    for (const [k, v] of Object.entries(gauges)) lines.push(`${k} ${v}`);
    return lines.join('\n') + '\n';
  }
}

function render(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
