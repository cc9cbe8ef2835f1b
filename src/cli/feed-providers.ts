import { hostname } from 'node:os';
import type { Command } from 'commander';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AlarmsProvider } from '../../feeds/alarms/start.js';
import { BullAlarmScheduler } from '../../feeds/alarms/bullmq-scheduler.js';
import { TimerScheduler } from '../../feeds/alarms/timer-scheduler.js';
import type { AlarmScheduler } from '../../feeds/alarms/scheduler.js';
import { InProcessControllerClient, RestControllerClient, type ControllerClient, type InProcessFire } from '../../feeds/kit/controller-client.js';
import { FeedKit } from '../../feeds/kit/feed-kit.js';
import type { FeedFireQueue } from '../../feeds/kit/fire-queue.js';
import { FEEDS_PREFIX, feedProviderApi } from '../../feeds/kit/provider-api.js';
import { BullFeedFireQueue } from '../../feeds/kit/queues/bullmq-feed-queue.js';
import { EmbeddedFeedFireQueue } from '../../feeds/kit/queues/embedded-feed-queue.js';
import { Registrations } from '../../feeds/kit/registrations.js';
import { Deliveries, HOOKS_PREFIX } from '../../feeds/kit/hooks.js';
import type { FeedProvider } from '../../feeds/kit/provider.js';
import { GitHubHooksApi } from '../../feeds/github/hooks-api.js';
import { githubHooks } from '../../feeds/github/receive.js';
import { GitHubProvider } from '../../feeds/github/start.js';
import { slackHooks } from '../../feeds/slack/receive.js';
import { SlackProvider } from '../../feeds/slack/start.js';
import { KafkaProvider } from '../../feeds/kafka/start.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { installErrorHandling } from '../controller/http/error-handler.js';
import { installJsonParser } from '../controller/http/json-body.js';
import { createLogger, type Logger } from '../logging/logger.js';
import type { ArtifactStore, DocStore } from '../store/artifact-store.js';
import { RedisDocStore } from '../store/redis/redis-doc-store.js';
import { openStore } from './open-store.js';

export interface FeedParts {
  kit: FeedKit;
  /** Mounts the provider API under /feeds/v1, and the GitHub and Slack deliveries under /hooks/v1, on an app. */
  register(app: FastifyInstance): void;
}

export type ProviderName = 'alarms' | 'github' | 'slack' | 'kafka';
export const PROVIDER_NAMES: readonly ProviderName[] = ['alarms', 'github', 'slack', 'kafka'];

/**
 * Wires the feed kit and the named providers over a store and a fire queue. The alarms provider
 * needs a scheduler; GitHub and Slack deliveries are answered at `<publicUrl>/hooks/v1/…`.
 */
function wireFeeds(
  config: Config,
  store: DocStore,
  queue: FeedFireQueue,
  names: readonly ProviderName[],
  scheduler: () => AlarmScheduler,
  controller: ControllerClient,
  publicUrl: () => string,
  logger: Logger,
  countDelayMs = 0,
): FeedParts {
  const registrations = new Registrations(store);
  const deliveries = new Deliveries(store, {
    retentionMs: config.feeds.deliveryRetentionMs,
    onSweepError: (err) => logger.warn({ err }, 'sweeping old delivery claims failed; tried again within the hour'),
  });
  const providers: FeedProvider[] = [];
  const hooks: ((app: FastifyInstance) => void)[] = [];
  const maxBody = config.feeds.hooksMaxBodyBytes;
  for (const name of names) {
    const log = logger.child({ provider: name });
    if (name === 'alarms') providers.push(new AlarmsProvider(scheduler(), registrations, config.feeds.alarms, log));
    if (name === 'github') {
      const github = new GitHubProvider(registrations, deliveries, new GitHubHooksApi(), publicUrl, log);
      providers.push(github);
      hooks.push((app) => void app.register(githubHooks(github, maxBody), { prefix: HOOKS_PREFIX }));
    }
    if (name === 'slack') {
      const slack = new SlackProvider(registrations, deliveries, publicUrl, log);
      providers.push(slack);
      hooks.push((app) => void app.register(slackHooks(slack, maxBody), { prefix: HOOKS_PREFIX }));
    }
    if (name === 'kafka') providers.push(new KafkaProvider(registrations, { ...config.feeds.kafka, retry: config.feeds.retry }, log));
  }
  const kit = new FeedKit({
    store,
    queue,
    controller,
    providers,
    retry: config.feeds.retry,
    logger,
    replica: `${hostname()}:${process.pid}`,
    registrations,
    countDelayMs,
  });
  return {
    kit,
    register: (app) => {
      void app.register(feedProviderApi(kit), { prefix: FEEDS_PREFIX });
      for (const h of hooks) h(app);
    },
  };
}

/**
 * Standalone: the providers in-process, on the embedded store, in-process timers and an
 * in-process fire queue. They fire through `localFire` (the controller's fire function in this process, once it
 * is built) and make their other calls over loopback.
 */
export function standaloneFeeds(config: Config, store: ArtifactStore, apiHost: () => string, logger: Logger, localFire: () => InProcessFire | undefined): FeedParts {
  const log = logger.child({ role: 'feeds' });
  const publicUrl = () => config.feeds.publicUrl ?? apiHost();
  const controller = new InProcessControllerClient(new RestControllerClient(apiHost), localFire);
  return wireFeeds(config, store, new EmbeddedFeedFireQueue(store, log), PROVIDER_NAMES, () => new TimerScheduler(log, config.feeds.alarmsPrepareMs), controller, publicUrl, log);
}

/**
 * `whiskhub provider alarms|github|slack|kafka`: one replica of a provider for the cluster.
 * Registrations in Redis (or the ArtifactStore, CouchDB: WHISKHUB_FEEDS_STORE), fires (and alarm
 * schedules) in BullMQ on Redis, so any number of replicas share the work. Serves the provider
 * API, health and metrics, and for GitHub and Slack the deliveries under /hooks/v1, on
 * WHISKHUB_FEEDS_PORT.
 */
export async function startProviderRole(name: ProviderName, config: Config, logger: Logger): Promise<{ describe: string; stop(): Promise<void> }> {
  if (!config.redisUrl) throw new ConfigError(`whiskhub provider ${name} needs WHISKHUB_REDIS_URL`);
  const prefix = config.feeds.queuePrefix;
  const store: DocStore = config.feeds.store === 'redis' ? new RedisDocStore(config.redisUrl, `whiskhub:docs:${prefix}`) : await openStore(config, logger);
  // One fire queue per provider: a replica works off only jobs whose registrations it serves.
  const fires = name === 'alarms' ? `${prefix}-feed-fires` : `${prefix}-${name}-feed-fires`;
  const queue = new BullFeedFireQueue({ redisUrl: config.redisUrl, name: fires, logger });
  const scheduler = () => new BullAlarmScheduler({ redisUrl: config.redisUrl!, name: `${prefix}-alarms`, logger });
  const publicUrl = () => config.feeds.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.feeds.port}`;
  // Counts of fires join for a second before they are written: each is a revision of the registration.
  const parts = wireFeeds(config, store, queue, [name], scheduler, new RestControllerClient(() => config.feeds.controllerUrl), publicUrl, logger, 1000);
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, disableRequestLogging: true });
  installJsonParser(app);
  installErrorHandling(app);
  app.get('/ping', async () => ({ ok: true }));
  parts.register(app);
  try {
    await parts.kit.start();
    await app.listen({ host: config.host, port: config.feeds.port });
  } catch (err) {
    await parts.kit.stop().catch(() => undefined);
    await app.close().catch(() => undefined);
    await store.close();
    throw err;
  }
  return {
    describe: `${name} provider on ${config.host}:${config.feeds.port} (queues ${name === 'alarms' ? `${prefix}-alarms, ` : ''}${fires})`,
    stop: async () => {
      await app.close();
      await parts.kit.stop();
      await store.close();
    },
  };
}

/** The alarms provider role (kept for callers of the earlier name). */
export const startAlarmsProviderRole = (config: Config, logger: Logger) => startProviderRole('alarms', config, logger);

/** `whiskhub provider alarms|github|slack|kafka`. */
export function registerProviderCommand(program: Command): void {
  program
    .command('provider')
    .argument('<name>', `the feed provider to run: ${PROVIDER_NAMES.join(', ')}`)
    .description('run a feed provider replica (cluster: CouchDB, Redis; fires through the controller)')
    .action(async (name: string) => {
      if (!PROVIDER_NAMES.includes(name as ProviderName)) throw new ConfigError(`unknown provider '${name}': use one of ${PROVIDER_NAMES.join(', ')}`);
      const config = loadConfig(process.env, 'cluster');
      const logger = createLogger(config.logLevel, `provider-${name}`);
      const role = await startProviderRole(name as ProviderName, config, logger);
      logger.info(`${role.describe} started`);
      const stop = async (signal: string) => {
        logger.info({ signal }, 'stopping');
        await role.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
