import type { ConnectionOptions } from 'bullmq';

/** BullMQ connection options from a `redis://[user:pass@]host:port[/db]` URL. */
export function redisConnection(redisUrl: string): ConnectionOptions {
  const u = new URL(redisUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // Workers block on Redis; bullmq requires this for them.
    maxRetriesPerRequest: null,
  };
}
