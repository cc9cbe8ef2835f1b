import type { Config } from '../config/config.js';
import { TriggerEngine } from '../controller/invoke/trigger-engine.js';
import { RedisThrottles } from '../controller/throttles/redis/redis-throttles.js';
import { BullFireQueue } from '../triggers/bullmq/bullmq-fire-queue.js';
import type { Logger } from '../logging/logger.js';
import { withEntityCache } from '../store/entity-cache.js';
import { RedisDocStore } from '../store/redis/redis-doc-store.js';
import { buildController } from './build-controller.js';
import { stopSteps } from './stop-steps.js';
import { openBus, openContainerFactory } from './open-pipeline-parts.js';
import { openStore } from './open-store.js';
import { shareEntityCache } from './share-entity-cache.js';
import { startControllerPipeline, type ControllerPipeline } from './start-pipeline.js';
import { startInvoker } from './start-invoker.js';

export interface RunningRole {
  describe: string;
  stop(): Promise<void>;
}

/** `whiskhub controller`: the REST API and the load balancer, over Kafka and the store. */
export async function startControllerRole(config: Config, logger: Logger): Promise<RunningRole> {
  const stops = stopSteps(logger);
  try {
    const cache = withEntityCache(await openStore(config, logger), config.entityCacheMs);
    const store = cache.store;
    stops.add(() => store.close());
    const bus = openBus(config, logger, `whiskhub-controller${config.controllerIndex}`);
    stops.add(() => bus.close());
    const sharing = await shareEntityCache(cache, bus, config.controllerIndex, logger);
    stops.add(() => sharing.stop());
    // Fires wait in BullMQ on Redis until fanned out (any controller works off any fire, also
    // those a controller that died had accepted); per-minute throttles count there too.
    if (!config.redisUrl) throw new Error('WHISKHUB_REDIS_URL is not set: the controller keeps accepted fires, throttle counters and invocation idempotency keys in Redis');
    const sharedThrottles = new RedisThrottles(config.redisUrl, config.throttles, `${config.kafkaPrefix}whiskhub:throttle:`);
    stops.add(() => sharedThrottles.close());
    // Rule invocations' idempotency keys too: each fire's fan-out claims, marks and drops one per rule.
    const keys = new RedisDocStore(config.redisUrl, `${config.kafkaPrefix}whiskhub:docs:controller`);
    stops.add(() => keys.close());
    let pipeline: ControllerPipeline | undefined;
    const { app, ctx } = await buildController(config, store, logger, {
      gateway: async (throttles) => (pipeline = await startControllerPipeline(config, store, bus, throttles, logger, keys)).gateway,
      throttles: sharedThrottles,
    });
    stops.add(() => pipeline!.balancer.stop());
    const fires = new BullFireQueue({ redisUrl: config.redisUrl, name: `${config.kafkaPrefix}whiskhub-fires`, concurrency: config.fires.workerConcurrency, logger });
    const triggers = new TriggerEngine(store, fires, pipeline!.gateway, ctx.throttles, config, logger, bus.durable, keys);
    await triggers.start();
    stops.add(() => triggers.stop());
    await app.listen({ host: config.host, port: config.port });
    stops.add(() => app.close());
    return { describe: `controller${config.controllerIndex} on ${config.host}:${config.port}`, stop: stops.run };
  } catch (err) {
    await stops.run();
    throw err;
  }
}

/** `whiskhub invoker`: consumes its topic and runs activations in containers. */
export async function startInvokerRole(config: Config, logger: Logger): Promise<RunningRole> {
  const stops = stopSteps(logger);
  try {
    const store = await openStore(config, logger);
    stops.add(() => store.close());
    const bus = openBus(config, logger, `whiskhub-invoker${config.invoker.index}`);
    stops.add(() => bus.close());
    const factory = await openContainerFactory(config, logger);
    stops.add(() => factory.close());
    const invoker = await startInvoker(config, store, bus, factory, logger);
    stops.add(() => invoker.stop());
    return { describe: `invoker${config.invoker.index} (${factory.name} containers)`, stop: stops.run };
  } catch (err) {
    await stops.run();
    throw err;
  }
}
