/**
 * Every setting whiskhub reads, in one table: the loader validates from it, `whiskhub settings`
 * prints it, and a unit test checks that the README documents each one.
 */
export type Mode = 'standalone' | 'cluster';

export interface SettingSpec {
  env: string;
  kind: 'string' | 'int' | 'url' | 'enum';
  values?: readonly string[];
  /** Default per mode; undefined means unset. */
  standalone?: string;
  cluster?: string;
  doc: string;
}

export const SETTINGS = [
  { env: 'WHISKHUB_HOST', kind: 'string', standalone: '127.0.0.1', cluster: '0.0.0.0', doc: 'Address the controller listens on.' },
  { env: 'WHISKHUB_PORT', kind: 'int', standalone: '3233', cluster: '3233', doc: 'Port of the REST API (`/api/v1`).' },
  {
    env: 'WHISKHUB_DATA_DIR',
    kind: 'string',
    standalone: '.data/standalone',
    doc: 'Standalone: where the embedded store keeps its log and the generated guest key (relative to the working directory).',
  },
  {
    env: 'WHISKHUB_GUEST_AUTH',
    kind: 'string',
    doc: 'Standalone: the `uuid:key` of the `guest` namespace created on first start. Unset: a key is generated once and kept in the data directory.',
  },
  {
    env: 'WHISKHUB_STORE',
    kind: 'enum',
    values: ['embedded', 'couchdb'],
    standalone: 'embedded',
    cluster: 'couchdb',
    doc: 'ArtifactStore implementation: `embedded` (durable, in-process) or `couchdb`.',
  },
  { env: 'WHISKHUB_COUCHDB_URL', kind: 'url', cluster: 'http://127.0.0.1:5984', doc: 'CouchDB URL, credentials included (`http://user:pass@host:5984`).' },
  { env: 'WHISKHUB_COUCHDB_PREFIX', kind: 'string', standalone: 'whiskhub_', cluster: 'whiskhub_', doc: 'Prefix of the CouchDB database names.' },
  { env: 'WHISKHUB_LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], standalone: 'info', cluster: 'info', doc: 'pino log level; logs are JSON lines on stdout.' },
  { env: 'WHISKHUB_AUTH_CACHE_MS', kind: 'int', standalone: '5000', cluster: '5000', doc: 'How long a verified key is cached; a revoked key stops working at most this long after `admin` deletes it.' },
  { env: 'WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE', kind: 'int', standalone: '6000', cluster: '60', doc: 'Default per-namespace action invocations per minute (OpenWhisk: 60).' },
  { env: 'WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS', kind: 'int', standalone: '500', cluster: '30', doc: 'Default per-namespace activations in flight (OpenWhisk: 30).' },
  { env: 'WHISKHUB_LIMIT_FIRES_PER_MINUTE', kind: 'int', standalone: '6000', cluster: '60', doc: 'Default per-namespace trigger fires per minute (OpenWhisk: 60).' },
  { env: 'WHISKHUB_LIMIT_SEQUENCE_LENGTH', kind: 'int', standalone: '50', cluster: '50', doc: 'Most atomic actions a sequence may contain.' },
  { env: 'WHISKHUB_LIMIT_ACTION_MAX_MEMORY', kind: 'int', standalone: '512', cluster: '512', doc: 'Largest `limits.memory` (MB) an action may ask for.' },
  { env: 'WHISKHUB_LIMIT_ACTION_MAX_TIMEOUT', kind: 'int', standalone: '300000', cluster: '300000', doc: 'Largest `limits.timeout` (ms) an action may ask for.' },
  { env: 'WHISKHUB_LIMIT_ACTION_MAX_CONCURRENCY', kind: 'int', standalone: '1', cluster: '1', doc: 'Largest `limits.concurrency` (activations per container).' },
] as const satisfies readonly SettingSpec[];

export type SettingName = (typeof SETTINGS)[number]['env'];
