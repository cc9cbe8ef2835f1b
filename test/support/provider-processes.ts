import { Redis } from 'ioredis';
import nano from 'nano';
import { startWhiskhub, type RoleProcess } from './cluster-processes.js';

/**
 * Feed provider replicas as the cluster runs them (`whiskhub provider NAME`: registrations and
 * queues in the real Redis, as the cluster defaults to), firing into a running whiskhub. Every name a run
 * makes in CouchDB and Redis starts with its `run` id, so `removeProviderData` leaves nothing.
 */
function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the services with deploy/dev/services-up.sh and \`. .data/services/env\``);
  return v;
}

export function startProvider(
  name: 'alarms' | 'github' | 'slack' | 'kafka',
  o: { run: string; port: number; controllerUrl: string; label?: string; env?: Record<string, string> },
): RoleProcess {
  return startWhiskhub(o.label ?? `${name}-provider`, ['provider', name], {
    WHISKHUB_STORE: 'couchdb',
    WHISKHUB_COUCHDB_URL: required('WHISKHUB_COUCHDB_URL'),
    WHISKHUB_COUCHDB_PREFIX: `${o.run}_`,
    WHISKHUB_REDIS_URL: required('WHISKHUB_REDIS_URL'),
    WHISKHUB_FEEDS_QUEUE_PREFIX: o.run,
    WHISKHUB_FEEDS_CONTROLLER_URL: o.controllerUrl,
    WHISKHUB_FEEDS_PORT: String(o.port),
    WHISKHUB_HOST: '127.0.0.1',
    WHISKHUB_LOG_LEVEL: 'warn',
    ...o.env,
  });
}

/** Drops a run's CouchDB databases and Redis keys (queues, alarm plans). */
export async function removeProviderData(run: string): Promise<void> {
  const couch = nano(required('WHISKHUB_COUCHDB_URL'));
  for (const db of await couch.db.list().catch(() => [] as string[])) if (db.startsWith(`${run}_`)) await couch.db.destroy(db).catch(() => undefined);
  const redis = new Redis(required('WHISKHUB_REDIS_URL'));
  try {
    for (const pattern of [`bull:${run}*`, `whiskhub:alarm-plans:${run}*`, `whiskhub:docs:${run}*`]) {
      const keys = await redis.keys(pattern);
      if (keys.length) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}
