import { hostname } from 'node:os';
import type { Command } from 'commander';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AlarmsProvider } from '../../feeds/alarms/start.js';
import { BullAlarmScheduler } from '../../feeds/alarms/bullmq-scheduler.js';
import { NodeCronScheduler } from '../../feeds/alarms/node-cron-scheduler.js';
import type { AlarmScheduler } from '../../feeds/alarms/scheduler.js';
import { RestControllerClient } from '../../feeds/kit/controller-client.js';
import { FeedKit } from '../../feeds/kit/feed-kit.js';
import type { FeedFireQueue } from '../../feeds/kit/fire-queue.js';
import { FEEDS_PREFIX, feedProviderApi } from '../../feeds/kit/provider-api.js';
import { BullFeedFireQueue } from '../../feeds/kit/queues/bullmq-feed-queue.js';
import { EmbeddedFeedFireQueue } from '../../feeds/kit/queues/embedded-feed-queue.js';
import { Registrations } from '../../feeds/kit/registrations.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { installErrorHandling } from '../controller/http/error-handler.js';
import { installJsonParser } from '../controller/http/json-body.js';
import { createLogger, type Logger } from '../logging/logger.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { openStore } from './open-store.js';

export interface FeedParts {
  kit: FeedKit;
  /** Mounts the provider API under /feeds/v1 on an app. */
  register(app: FastifyInstance): void;
}

/** Wires the feed kit and the alarms provider over a store, a fire queue and a scheduler. */
function wireFeeds(config: Config, store: ArtifactStore, queue: FeedFireQueue, scheduler: AlarmScheduler, controllerUrl: () => string, logger: Logger): FeedParts {
  const alarms = new AlarmsProvider(scheduler, new Registrations(store), config.feeds.alarms, logger.child({ provider: 'alarms' }));
  const kit = new FeedKit({
    store,
    queue,
    controller: new RestControllerClient(controllerUrl),
    providers: [alarms],
    retry: config.feeds.retry,
    logger,
    replica: `${hostname()}:${process.pid}`,
  });
  return { kit, register: (app) => void app.register(feedProviderApi(kit), { prefix: FEEDS_PREFIX }) };
}

/** Standalone: the providers in-process, on the embedded store, node-cron and an in-process fire queue, firing over loopback. */
export function standaloneFeeds(config: Config, store: ArtifactStore, apiHost: () => string, logger: Logger): FeedParts {
  const log = logger.child({ role: 'feeds' });
  return wireFeeds(config, store, new EmbeddedFeedFireQueue(store, log), new NodeCronScheduler(log), apiHost, log);
}

/**
 * `whiskhub provider alarms`: one replica of the alarms provider for the cluster. Registrations
 * in the store (CouchDB), schedules and fires in BullMQ on Redis, so any number of replicas share
 * the work and each tick fires once whichever of them is alive. Serves the provider API, health
 * and metrics on WHISKHUB_FEEDS_PORT.
 */
export async function startAlarmsProviderRole(config: Config, logger: Logger): Promise<{ describe: string; stop(): Promise<void> }> {
  if (!config.redisUrl) throw new ConfigError('whiskhub provider alarms needs WHISKHUB_REDIS_URL');
  const store = await openStore(config, logger);
  const prefix = config.feeds.queuePrefix;
  const queue = new BullFeedFireQueue({ redisUrl: config.redisUrl, name: `${prefix}-feed-fires`, logger });
  const scheduler = new BullAlarmScheduler({ redisUrl: config.redisUrl, name: `${prefix}-alarms`, logger });
  const parts = wireFeeds(config, store, queue, scheduler, () => config.feeds.controllerUrl, logger);
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
    describe: `alarms provider on ${config.host}:${config.feeds.port} (queues ${prefix}-alarms, ${prefix}-feed-fires)`,
    stop: async () => {
      await app.close();
      await parts.kit.stop();
      await store.close();
    },
  };
}

/** `whiskhub provider alarms`. */
export function registerProviderCommand(program: Command): void {
  program
    .command('provider')
    .argument('<name>', 'the feed provider to run: alarms')
    .description('run a feed provider replica (cluster: CouchDB, Redis; fires through the controller)')
    .action(async (name: string) => {
      if (name !== 'alarms') throw new ConfigError(`unknown provider '${name}': alarms is the one there is`);
      const config = loadConfig(process.env, 'cluster');
      const logger = createLogger(config.logLevel, `provider-${name}`);
      const role = await startAlarmsProviderRole(config, logger);
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
