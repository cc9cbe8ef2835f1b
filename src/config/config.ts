import { resolve } from 'node:path';
import { DEFAULT_BOUNDS, type LimitBounds } from '../entities/limits.js';
import { SETTINGS, type Mode, type SettingName, type SettingSpec } from './settings.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface Throttles {
  invocationsPerMinute: number;
  concurrentInvocations: number;
  firesPerMinute: number;
}

/** The whole configuration, read once at start, validated, frozen, and passed down. */
export interface Config {
  mode: Mode;
  host: string;
  port: number;
  dataDir: string;
  /** Embedded store: activation records older than this are dropped (0: kept forever). */
  activationRetentionMs: number;
  guestAuth?: string;
  store: 'embedded' | 'couchdb';
  couchdb: { url?: string; prefix: string };
  logLevel: string;
  authCacheMs: number;
  /** How long a controller keeps entities in memory (cluster role). */
  entityCacheMs: number;
  throttles: Throttles;
  sequenceMaxLength: number;
  limitBounds: LimitBounds;
  /** What actions see as __OW_API_HOST. */
  apiHost: string;
  kafkaBrokers: string[];
  /** Prefix of Kafka topic and group names ('' for none). */
  kafkaPrefix: string;
  controllerIndex: number;
  redisUrl?: string;
  fires: {
    idempotencyWindowMs: number;
    maxAttempts: number;
    maxAttemptsNonRetryable: number;
    baseDelayMs: number;
    maxDelayMs: number;
    /** Cluster: fires one controller fans out at once (BullMQ worker concurrency). */
    workerConcurrency: number;
  };
  /** Standalone: the whisk.system key (generated when unset); `catalog install`: the key it uses. */
  systemAuth?: string;
  feeds: {
    /** What the catalog binds as `providerUrl`; unset: feed actions use their API host. */
    providerUrl?: string;
    port: number;
    /** Where providers fire (default: the API host). */
    controllerUrl: string;
    queuePrefix: string;
    /** Cluster: where providers keep their documents (WHISKHUB_FEEDS_STORE). */
    store: 'redis' | 'store';
    retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
    alarms: { limitCronFields: boolean; delayLimitSeconds: number; lateToleranceMs: number };
    /** Standalone's alarm scheduler hands ticks out this long before their time (WHISKHUB_ALARMS_PREPARE_MS). */
    alarmsPrepareMs: number;
    kafka: {
      maxBatchBytes: number;
      defaultBatchMessages: number;
      reconcileMs: number;
      throttleMaxDelayMs: number;
      watchdogMs: number;
      maxFailures: number;
      sessionTimeoutMs: number;
      firesInFlight: number;
    };
    /** Where GitHub and Slack deliver (`<publicUrl>/hooks/v1/…`); unset: the API host. */
    publicUrl?: string;
    hooksMaxBodyBytes: number;
    /** How long delivery ids are remembered (deduplication). */
    deliveryRetentionMs: number;
  };
  invoker: {
    index: number;
    factory: 'auto' | 'docker' | 'process';
    dockerHost?: string;
    dockerNetwork: 'host' | 'bridge';
    memoryMB: number;
    prewarm: number;
    pauseMs: number;
    idleMs: number;
    maxInFlight: number;
    /** How long the balancer waits for a silent invoker before marking it down. */
    timeoutMs: number;
  };
}

type Env = Record<string, string | undefined>;

function raw(env: Env, mode: Mode, name: SettingName): string | undefined {
  const spec = SETTINGS.find((s) => s.env === name) as SettingSpec;
  const v = env[name];
  if (v !== undefined && v !== '') return v;
  return mode === 'standalone' ? spec.standalone : spec.cluster;
}

function int(env: Env, mode: Mode, name: SettingName, min = 0): number {
  const v = raw(env, mode, name);
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) {
    throw new ConfigError(`${name} must be a whole number >= ${min} (got '${v}')`);
  }
  return n;
}

function oneOf<T extends string>(env: Env, mode: Mode, name: SettingName): T {
  const spec = SETTINGS.find((s) => s.env === name) as SettingSpec;
  const v = raw(env, mode, name);
  if (!v || !spec.values?.includes(v)) throw new ConfigError(`${name} must be one of ${spec.values?.join(', ')} (got '${v}')`);
  return v as T;
}

function url(env: Env, mode: Mode, name: SettingName): string | undefined {
  const v = raw(env, mode, name);
  if (v === undefined) return undefined;
  try {
    new URL(v);
  } catch {
    throw new ConfigError(`${name} must be a URL (got '${v}')`);
  }
  return v;
}

/** Reads the configuration from an environment map (tests pass their own). */
export function loadConfig(env: Env, mode: Mode): Config {
  const store = oneOf<'embedded' | 'couchdb'>(env, mode, 'WHISKHUB_STORE');
  const couchUrl = url(env, mode, 'WHISKHUB_COUCHDB_URL');
  if (store === 'couchdb' && !couchUrl) throw new ConfigError('WHISKHUB_STORE=couchdb needs WHISKHUB_COUCHDB_URL');
  const guestAuth = raw(env, mode, 'WHISKHUB_GUEST_AUTH');
  if (guestAuth !== undefined && !/^[0-9a-fA-F-]{36}:.{64}$/.test(guestAuth)) {
    throw new ConfigError('WHISKHUB_GUEST_AUTH must be `uuid:key` with a 36-character uuid and a 64-character key');
  }
  const host = raw(env, mode, 'WHISKHUB_HOST') ?? '127.0.0.1';
  const port = int(env, mode, 'WHISKHUB_PORT');
  const config: Config = {
    mode,
    host,
    port,
    ...pipelineSettings(env, mode, host, port),
    dataDir: resolve(raw(env, mode, 'WHISKHUB_DATA_DIR') ?? '.data/standalone'),
    activationRetentionMs: int(env, mode, 'WHISKHUB_ACTIVATION_RETENTION_S') * 1000,
    guestAuth,
    store,
    couchdb: { url: couchUrl, prefix: raw(env, mode, 'WHISKHUB_COUCHDB_PREFIX') ?? 'whiskhub_' },
    logLevel: oneOf(env, mode, 'WHISKHUB_LOG_LEVEL'),
    authCacheMs: int(env, mode, 'WHISKHUB_AUTH_CACHE_MS'),
    entityCacheMs: int(env, mode, 'WHISKHUB_ENTITY_CACHE_MS'),
    throttles: {
      invocationsPerMinute: int(env, mode, 'WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE', 1),
      concurrentInvocations: int(env, mode, 'WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS', 1),
      firesPerMinute: int(env, mode, 'WHISKHUB_LIMIT_FIRES_PER_MINUTE', 1),
    },
    sequenceMaxLength: int(env, mode, 'WHISKHUB_LIMIT_SEQUENCE_LENGTH', 1),
    limitBounds: {
      ...DEFAULT_BOUNDS,
      maxMemory: int(env, mode, 'WHISKHUB_LIMIT_ACTION_MAX_MEMORY', DEFAULT_BOUNDS.minMemory),
      maxTimeout: int(env, mode, 'WHISKHUB_LIMIT_ACTION_MAX_TIMEOUT', DEFAULT_BOUNDS.minTimeout),
      maxConcurrency: int(env, mode, 'WHISKHUB_LIMIT_ACTION_MAX_CONCURRENCY', 1),
    },
  };
  return Object.freeze(config);
}

function pipelineSettings(env: Env, mode: Mode, host: string, port: number) {
  const apiHost = url(env, mode, 'WHISKHUB_API_HOST') ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  return {
    apiHost,
    kafkaBrokers: (raw(env, mode, 'WHISKHUB_KAFKA_BROKERS') ?? '').split(',').map((b) => b.trim()).filter(Boolean),
    kafkaPrefix: kafkaPrefix(raw(env, mode, 'WHISKHUB_KAFKA_PREFIX') ?? ''),
    controllerIndex: int(env, mode, 'WHISKHUB_CONTROLLER_INDEX'),
    redisUrl: url(env, mode, 'WHISKHUB_REDIS_URL'),
    ...feedSettings(env, mode, apiHost),
    fires: {
      idempotencyWindowMs: int(env, mode, 'WHISKHUB_FIRE_IDEMPOTENCY_WINDOW_S') * 1000,
      maxAttempts: int(env, mode, 'WHISKHUB_FIRE_MAX_ATTEMPTS', 1),
      maxAttemptsNonRetryable: int(env, mode, 'WHISKHUB_FIRE_MAX_ATTEMPTS_NONRETRYABLE', 1),
      baseDelayMs: int(env, mode, 'WHISKHUB_FIRE_RETRY_BASE_MS', 1),
      maxDelayMs: int(env, mode, 'WHISKHUB_FIRE_RETRY_MAX_MS', 1),
      workerConcurrency: int(env, mode, 'WHISKHUB_FIRE_WORKER_CONCURRENCY', 1),
    },
    invoker: {
      index: int(env, mode, 'WHISKHUB_INVOKER_INDEX'),
      factory: oneOf<'auto' | 'docker' | 'process'>(env, mode, 'WHISKHUB_CONTAINER_FACTORY'),
      dockerHost: raw(env, mode, 'WHISKHUB_DOCKER_HOST') ?? env.DOCKER_HOST,
      dockerNetwork: oneOf<'host' | 'bridge'>(env, mode, 'WHISKHUB_DOCKER_NETWORK'),
      memoryMB: int(env, mode, 'WHISKHUB_INVOKER_MEMORY_MB', 128),
      prewarm: int(env, mode, 'WHISKHUB_INVOKER_PREWARM'),
      pauseMs: int(env, mode, 'WHISKHUB_INVOKER_PAUSE_MS'),
      idleMs: int(env, mode, 'WHISKHUB_INVOKER_IDLE_MS', 1),
      maxInFlight: int(env, mode, 'WHISKHUB_INVOKER_MAX_INFLIGHT', 1),
      timeoutMs: int(env, mode, 'WHISKHUB_INVOKER_TIMEOUT_MS', 1000),
    },
  };
}

function feedSettings(env: Env, mode: Mode, apiHost: string) {
  const systemAuth = raw(env, mode, 'WHISKHUB_SYSTEM_AUTH');
  if (systemAuth !== undefined && !/^[0-9a-fA-F-]{36}:.{64}$/.test(systemAuth)) {
    throw new ConfigError('WHISKHUB_SYSTEM_AUTH must be `uuid:key` with a 36-character uuid and a 64-character key');
  }
  const delayLimitSeconds = int(env, mode, 'WHISKHUB_ALARMS_DELAY_LIMIT_S');
  if (delayLimitSeconds > 59) throw new ConfigError(`WHISKHUB_ALARMS_DELAY_LIMIT_S must be 0 to 59 (got '${delayLimitSeconds}')`);
  return {
    systemAuth,
    feeds: {
      providerUrl: url(env, mode, 'WHISKHUB_FEEDS_PROVIDER_URL')?.replace(/\/+$/, ''),
      port: int(env, mode, 'WHISKHUB_FEEDS_PORT'),
      controllerUrl: (url(env, mode, 'WHISKHUB_FEEDS_CONTROLLER_URL') ?? apiHost).replace(/\/+$/, ''),
      queuePrefix: raw(env, mode, 'WHISKHUB_FEEDS_QUEUE_PREFIX') ?? 'whiskhub',
      store: oneOf<'redis' | 'store'>(env, mode, 'WHISKHUB_FEEDS_STORE'),
      retry: {
        maxAttempts: int(env, mode, 'WHISKHUB_FEEDS_FIRE_MAX_ATTEMPTS', 1),
        baseDelayMs: int(env, mode, 'WHISKHUB_FEEDS_RETRY_BASE_MS', 1),
        maxDelayMs: int(env, mode, 'WHISKHUB_FEEDS_RETRY_MAX_MS', 1),
      },
      publicUrl: url(env, mode, 'WHISKHUB_PUBLIC_URL')?.replace(/\/+$/, ''),
      hooksMaxBodyBytes: int(env, mode, 'WHISKHUB_HOOKS_MAX_BODY_BYTES', 1024),
      deliveryRetentionMs: int(env, mode, 'WHISKHUB_HOOKS_DELIVERY_RETENTION_S', 60) * 1000,
      alarms: {
        limitCronFields: oneOf<'true' | 'false'>(env, mode, 'WHISKHUB_ALARMS_LIMIT_CRON_FIELDS') === 'true',
        delayLimitSeconds,
        lateToleranceMs: int(env, mode, 'WHISKHUB_ALARMS_LATE_TOLERANCE_MS', 1000),
      },
      alarmsPrepareMs: int(env, mode, 'WHISKHUB_ALARMS_PREPARE_MS'),
      kafka: {
        maxBatchBytes: int(env, mode, 'WHISKHUB_KAFKA_FEED_MAX_BATCH_BYTES', 1024),
        defaultBatchMessages: int(env, mode, 'WHISKHUB_KAFKA_FEED_BATCH_MESSAGES', 1),
        reconcileMs: int(env, mode, 'WHISKHUB_KAFKA_FEED_RECONCILE_MS', 100),
        throttleMaxDelayMs: int(env, mode, 'WHISKHUB_KAFKA_FEED_THROTTLE_MAX_DELAY_MS', 1),
        watchdogMs: int(env, mode, 'WHISKHUB_KAFKA_FEED_WATCHDOG_MS', 1000),
        maxFailures: int(env, mode, 'WHISKHUB_KAFKA_FEED_MAX_FAILURES', 1),
        sessionTimeoutMs: int(env, mode, 'WHISKHUB_KAFKA_FEED_SESSION_TIMEOUT_MS', 6000),
        firesInFlight: int(env, mode, 'WHISKHUB_KAFKA_FEED_FIRES_IN_FLIGHT', 1),
      },
    },
  };
}

/** Kafka topic names allow [a-zA-Z0-9._-], up to 249 characters. */
function kafkaPrefix(v: string): string {
  if (!/^[a-zA-Z0-9._-]{0,100}$/.test(v)) throw new ConfigError(`WHISKHUB_KAFKA_PREFIX may hold only letters, digits, '.', '_' and '-' (got '${v}')`);
  return v;
}
