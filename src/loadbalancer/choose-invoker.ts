/** An invoker as the balancer sees it. */
export interface InvokerView {
  index: number;
  healthy: boolean;
  /** Memory (MB) it can still give to new activations from this controller. */
  freeMB: number;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * OpenWhisk's sharding choice: the action's home invoker (hash of namespace and action) keeps its
 * containers warm; when it is full or unhealthy, step through the others with a stride co-prime
 * to their number so every invoker is visited once. When all are full, the healthy one with the
 * most room takes it (it queues there). Undefined when none is healthy.
 */
export function chooseInvoker(invokers: InvokerView[], key: string, memoryMB: number): number | undefined {
  const n = invokers.length;
  if (n === 0) return undefined;
  const h = hash(key);
  const home = h % n;
  let step = (h % (n - 1 || 1)) + 1;
  while (n > 1 && gcd(step, n) !== 1) step++;
  for (let i = 0, at = home; i < n; i++, at = (at + step) % n) {
    const inv = invokers[at];
    if (inv.healthy && inv.freeMB >= memoryMB) return inv.index;
  }
  const healthy = invokers.filter((i) => i.healthy);
  if (healthy.length === 0) return undefined;
  return healthy.reduce((best, i) => (i.freeMB > best.freeMB ? i : best)).index;
}
