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
  {
    env: 'WHISKHUB_ACTIVATION_RETENTION_S',
    kind: 'int',
    standalone: '604800',
    cluster: '604800',
    doc: 'Embedded store: activation records whose start is older than this are dropped (checked every minute, and at start), so a long-running standalone with busy triggers does not grow without end; `0` keeps them forever. CouchDB keeps every record: purge old ones there.',
  },
  { env: 'WHISKHUB_COUCHDB_URL', kind: 'url', cluster: 'http://127.0.0.1:5984', doc: 'CouchDB URL, credentials included (`http://user:pass@host:5984`).' },
  { env: 'WHISKHUB_COUCHDB_PREFIX', kind: 'string', standalone: 'whiskhub_', cluster: 'whiskhub_', doc: 'Prefix of the CouchDB database names.' },
  { env: 'WHISKHUB_LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], standalone: 'info', cluster: 'info', doc: 'pino log level; logs are JSON lines on stdout.' },
  { env: 'WHISKHUB_AUTH_CACHE_MS', kind: 'int', standalone: '5000', cluster: '5000', doc: 'How long a verified key is cached (and the identity of a namespace, read by the fan-out of each fire); a revoked key or a blocked namespace takes effect at most this long after `admin` changes it.' },
  {
    env: 'WHISKHUB_ENTITY_CACHE_MS',
    kind: 'int',
    standalone: '5000',
    cluster: '5000',
    doc: 'Cluster (`whiskhub controller`): how long a controller serves actions, packages, triggers and rules from memory. Its own changes apply at once; other controllers\' arrive over the bus, and at the latest after this long. 0: no cache.',
  },
  { env: 'WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE', kind: 'int', standalone: '6000', cluster: '60', doc: 'Default per-namespace action invocations per minute (OpenWhisk: 60).' },
  { env: 'WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS', kind: 'int', standalone: '500', cluster: '30', doc: 'Default per-namespace activations in flight (OpenWhisk: 30).' },
  { env: 'WHISKHUB_LIMIT_FIRES_PER_MINUTE', kind: 'int', standalone: '6000', cluster: '60', doc: 'Default per-namespace trigger fires per minute (OpenWhisk: 60).' },
  { env: 'WHISKHUB_LIMIT_SEQUENCE_LENGTH', kind: 'int', standalone: '50', cluster: '50', doc: 'Most atomic actions a sequence may contain.' },
  { env: 'WHISKHUB_LIMIT_ACTION_MAX_MEMORY', kind: 'int', standalone: '512', cluster: '512', doc: 'Largest `limits.memory` (MB) an action may ask for.' },
  { env: 'WHISKHUB_LIMIT_ACTION_MAX_TIMEOUT', kind: 'int', standalone: '300000', cluster: '300000', doc: 'Largest `limits.timeout` (ms) an action may ask for.' },
  { env: 'WHISKHUB_LIMIT_ACTION_MAX_CONCURRENCY', kind: 'int', standalone: '1', cluster: '1', doc: 'Largest `limits.concurrency` (activations per container).' },
  {
    env: 'WHISKHUB_API_HOST',
    kind: 'url',
    doc: 'The API host actions see as `__OW_API_HOST`. Default: `http://<WHISKHUB_HOST>:<WHISKHUB_PORT>` (127.0.0.1 when listening on all addresses).',
  },
  { env: 'WHISKHUB_KAFKA_BROKERS', kind: 'string', cluster: '127.0.0.1:9092', doc: 'Cluster: Kafka bootstrap brokers, comma-separated.' },
  {
    env: 'WHISKHUB_KAFKA_PREFIX',
    kind: 'string',
    doc: 'Cluster: prefix of every Kafka topic and consumer group whiskhub uses (`<prefix>health`, `<prefix>invoker0`, …), so several clusters can share one Kafka. Also labels the invokers\' containers. Default: none.',
  },
  { env: 'WHISKHUB_CONTROLLER_INDEX', kind: 'int', standalone: '0', cluster: '0', doc: 'Cluster: this controller\'s number; its completions arrive on topic `completed<N>`.' },
  { env: 'WHISKHUB_INVOKER_INDEX', kind: 'int', standalone: '0', cluster: '0', doc: 'Cluster (`whiskhub invoker`): this invoker\'s number; it consumes topic `invoker<N>`.' },
  {
    env: 'WHISKHUB_CONTAINER_FACTORY',
    kind: 'enum',
    values: ['auto', 'docker', 'process'],
    standalone: 'auto',
    cluster: 'docker',
    doc: 'Where actions run: `docker`, `process` (local Node processes running the same proxy), or `auto` (Docker when it answers and the runtime image exists, else processes).',
  },
  { env: 'WHISKHUB_DOCKER_HOST', kind: 'string', doc: 'Docker engine address (`unix:///run/whiskhub-docker.sock`). Unset: DOCKER_HOST, else the default socket.' },
  {
    env: 'WHISKHUB_DOCKER_NETWORK',
    kind: 'enum',
    values: ['host', 'bridge'],
    standalone: 'host',
    cluster: 'bridge',
    doc: '`host`: action containers share the host network and listen on 127.0.0.1 on assigned ports; `bridge`: the invoker calls each container on its own address, port 8080.',
  },
  { env: 'WHISKHUB_INVOKER_MEMORY_MB', kind: 'int', standalone: '2048', cluster: '4096', doc: 'Memory (MB) an invoker gives its containers; the least recently used idle ones are evicted past it.' },
  { env: 'WHISKHUB_INVOKER_PREWARM', kind: 'int', standalone: '1', cluster: '2', doc: 'Prewarmed `nodejs:20` containers (256 MB) each invoker keeps ready.' },
  { env: 'WHISKHUB_INVOKER_PAUSE_MS', kind: 'int', standalone: '500', cluster: '500', doc: 'An idle container is paused after this long.' },
  { env: 'WHISKHUB_INVOKER_IDLE_MS', kind: 'int', standalone: '600000', cluster: '600000', doc: 'An idle container is destroyed after this long.' },
  { env: 'WHISKHUB_INVOKER_MAX_INFLIGHT', kind: 'int', standalone: '256', cluster: '256', doc: 'Activations an invoker runs at once; the rest wait in the queue. Up to 8 times as many may be done running with their records still being stored.' },
  { env: 'WHISKHUB_INVOKER_TIMEOUT_MS', kind: 'int', standalone: '10000', cluster: '10000', doc: 'An invoker silent (no health ping) this long is marked down and its activations end as whisk internal errors.' },
  { env: 'WHISKHUB_REDIS_URL', kind: 'url', cluster: 'redis://127.0.0.1:6379', doc: 'Cluster: Redis, for the durable fire queue (BullMQ).' },
  {
    env: 'WHISKHUB_FIRE_IDEMPOTENCY_WINDOW_S',
    kind: 'int',
    standalone: '86400',
    cluster: '86400',
    doc: 'How long a fire\'s `X-Idempotency-Key` is remembered: a repeat within it returns the first fire\'s activation id and fires nothing.',
  },
  {
    env: 'WHISKHUB_FIRE_WORKER_CONCURRENCY',
    kind: 'int',
    standalone: '512',
    cluster: '512',
    doc: 'Cluster: fires one controller fans out at once (standalone has its own embedded queue and ignores it). A fire holds its slot until its trigger record is stored, so this bounds the fan-out rate at about this many divided by the store\'s write latency.',
  },
  { env: 'WHISKHUB_FIRE_MAX_ATTEMPTS', kind: 'int', standalone: '8', cluster: '8', doc: 'Attempts of a rule invocation that is throttled or meets a system error before it is dead-lettered.' },
  { env: 'WHISKHUB_FIRE_MAX_ATTEMPTS_NONRETRYABLE', kind: 'int', standalone: '3', cluster: '3', doc: 'Attempts of a rule invocation refused for good (missing action, forbidden) before it is dead-lettered.' },
  { env: 'WHISKHUB_FIRE_RETRY_BASE_MS', kind: 'int', standalone: '250', cluster: '1000', doc: 'First retry delay of a failed rule invocation; doubles per attempt.' },
  { env: 'WHISKHUB_FIRE_RETRY_MAX_MS', kind: 'int', standalone: '30000', cluster: '60000', doc: 'Longest delay between two attempts of a rule invocation.' },
  {
    env: 'WHISKHUB_SYSTEM_AUTH',
    kind: 'string',
    doc: 'The `uuid:key` of the `whisk.system` namespace, which owns the catalog packages (`/whisk.system/alarms`). Standalone creates the namespace on first start with it (unset: a generated key, kept in the store); `whiskhub catalog install` authenticates with it.',
  },
  {
    env: 'WHISKHUB_FEEDS_PROVIDER_URL',
    kind: 'url',
    doc: 'Where feed actions reach the feed providers\' API (`<url>/feeds/v1/<provider>/…`); `whiskhub catalog install` binds it as the packages\' `providerUrl`. Unset: the API host (standalone serves the provider API on the controller\'s port).',
  },
  { env: 'WHISKHUB_FEEDS_PORT', kind: 'int', standalone: '3240', cluster: '3240', doc: 'Cluster (`whiskhub provider alarms`): port of the provider API (`/feeds/v1`, health, metrics).' },
  { env: 'WHISKHUB_FEEDS_CONTROLLER_URL', kind: 'url', doc: 'Where feed providers check triggers and fire them (the controller\'s REST API). Default: the API host.' },
  {
    env: 'WHISKHUB_FEEDS_QUEUE_PREFIX',
    kind: 'string',
    standalone: 'whiskhub',
    cluster: 'whiskhub',
    doc: 'Cluster: prefix of the feed providers\' BullMQ queues on WHISKHUB_REDIS_URL (`<prefix>-feed-fires` and `<prefix>-alarms` for alarms, `<prefix>-github-feed-fires`, `<prefix>-slack-feed-fires`); replicas of one provider share them.',
  },
  {
    env: 'WHISKHUB_FEEDS_STORE',
    kind: 'enum',
    values: ['redis', 'store'],
    standalone: 'store',
    cluster: 'redis',
    doc: 'Cluster: where feed providers keep their documents (registrations with their counters and claimed ticks, delivery claims, dead letters): `redis` (WHISKHUB_REDIS_URL, keys `whiskhub:docs:<queue prefix>:…`; an alarm tick is a compare-and-set on its registration, and Redis takes tens of thousands a second) or `store` (the ArtifactStore, CouchDB: a few hundred a second). Standalone keeps them in its embedded store whatever this says. Give Redis an append-only file in production: the fire queues live there too.',
  },
  { env: 'WHISKHUB_FEEDS_FIRE_MAX_ATTEMPTS', kind: 'int', standalone: '10', cluster: '10', doc: 'Attempts of a feed fire answered 408, 409, 429 or 5xx (or not at all) before it is dead-lettered (READ shows it).' },
  { env: 'WHISKHUB_FEEDS_RETRY_BASE_MS', kind: 'int', standalone: '1000', cluster: '1000', doc: 'First retry delay of a feed fire; doubles per attempt, with jitter, never sooner than Retry-After.' },
  { env: 'WHISKHUB_FEEDS_RETRY_MAX_MS', kind: 'int', standalone: '60000', cluster: '60000', doc: 'Longest delay between two attempts of a feed fire.' },
  {
    env: 'WHISKHUB_PUBLIC_URL',
    kind: 'url',
    doc: 'The public base URL GitHub and Slack deliver events to: hooks are `<url>/hooks/v1/github/<namespace>/<trigger>` and `<url>/hooks/v1/slack/<namespace>/<trigger>` (served by standalone on the controller\'s port, by `whiskhub provider github` or `slack` on WHISKHUB_FEEDS_PORT). Unset: the API host.',
  },
  {
    env: 'WHISKHUB_HOOKS_MAX_BODY_BYTES',
    kind: 'int',
    standalone: '1048576',
    cluster: '1048576',
    doc: 'Largest GitHub or Slack delivery accepted at `/hooks/v1` (bytes); larger ones are answered 413 and not fired.',
  },
  {
    env: 'WHISKHUB_HOOKS_DELIVERY_RETENTION_S',
    kind: 'int',
    standalone: '604800',
    cluster: '604800',
    doc: 'How long a GitHub delivery id or Slack event_id is remembered: seen again within it, it fires nothing (GitHub redelivers by hand for a few days, Slack retries within the hour). Older claims are swept away hourly, so a busy hook does not grow the store without end.',
  },
  {
    env: 'WHISKHUB_KAFKA_FEED_MAX_BATCH_BYTES',
    kind: 'int',
    standalone: '900000',
    cluster: '900000',
    doc: 'Kafka feed: the largest fire body (JSON bytes of `{"messages": […]}`) and the default of a feed\'s `maxBatchBytes`; the controller takes fires up to 1 MiB. A single message over it is dead-lettered (READ shows its offset), never dropped.',
  },
  { env: 'WHISKHUB_KAFKA_FEED_BATCH_MESSAGES', kind: 'int', standalone: '10000', cluster: '10000', doc: 'Kafka feed: default of a feed\'s `maxBatchMessages`, the most messages in one fire.' },
  {
    env: 'WHISKHUB_KAFKA_FEED_RECONCILE_MS',
    kind: 'int',
    standalone: '2000',
    cluster: '2000',
    doc: 'Kafka feed: how often a provider replica compares its consumers with the registrations, to start what another replica created or unpaused and stop what it paused or deleted.',
  },
  {
    env: 'WHISKHUB_KAFKA_FEED_THROTTLE_MAX_DELAY_MS',
    kind: 'int',
    standalone: '5000',
    cluster: '5000',
    doc: 'Kafka feed: longest pause of a partition whose fire was throttled (429) before it tries again. Throttled fires are retried for as long as it takes, never skipped.',
  },
  {
    env: 'WHISKHUB_KAFKA_FEED_FIRES_IN_FLIGHT',
    kind: 'int',
    standalone: '4',
    cluster: '4',
    doc: 'Kafka feed: fires of one partition sent before the earlier ones are answered. Offsets are still committed in order; a fire is retried with the ones after it, under the same idempotency keys.',
  },
  { env: 'WHISKHUB_KAFKA_FEED_WATCHDOG_MS', kind: 'int', standalone: '60000', cluster: '60000', doc: 'Kafka feed: a consumer that has not fetched for this long, while not backing off on purpose, is restarted.' },
  {
    env: 'WHISKHUB_KAFKA_FEED_MAX_FAILURES',
    kind: 'int',
    standalone: '10',
    cluster: '10',
    doc: 'Kafka feed: consecutive failures to connect or consume (brokers away, credentials refused, topic deleted) before the registration is disabled; READ shows the last error.',
  },
  {
    env: 'WHISKHUB_KAFKA_FEED_SESSION_TIMEOUT_MS',
    kind: 'int',
    standalone: '10000',
    cluster: '10000',
    doc: 'Kafka feed: a provider replica silent this long leaves its consumer groups, and Kafka gives its partitions to the other replicas (the broker allows 6000 and up by default).',
  },
  {
    env: 'WHISKHUB_ALARMS_LIMIT_CRON_FIELDS',
    kind: 'enum',
    values: ['true', 'false'],
    standalone: 'false',
    cluster: 'false',
    doc: '`true`: alarm cron patterns with a seconds field other than `0` are refused (1 minute is the finest granularity).',
  },
  {
    env: 'WHISKHUB_ALARMS_DELAY_LIMIT_S',
    kind: 'int',
    standalone: '0',
    cluster: '0',
    doc: '0–59. Above 0, a 5-field cron alarm not created with `strict=true` fires at a stable second 0..N of its minute (derived from the trigger name), so alarms do not all fire at :00.',
  },
  {
    env: 'WHISKHUB_ALARMS_PREPARE_MS',
    kind: 'int',
    standalone: '100',
    cluster: '100',
    doc: 'Standalone\'s in-process alarm scheduler hands each tick out this long before its time: the tick is claimed and its fire made durable ahead, and the fire itself waits for the exact time, so a second when thousands of alarms fall due starts their fires on time. 0: ticks are handed out at their time. (The cluster\'s BullMQ scheduler hands ticks out at their time.)',
  },
  {
    env: 'WHISKHUB_ALARMS_LATE_TOLERANCE_MS',
    kind: 'int',
    standalone: '10000',
    cluster: '10000',
    doc: 'An alarm tick handled later than this after its time counts as missed: fired late only under the trigger\'s catch-up policy (`catchUp`), else skipped and counted.',
  },
] as const satisfies readonly SettingSpec[];

export type SettingName = (typeof SETTINGS)[number]['env'];
