import type { Logger } from '../logging/logger.js';
import { valueOf, type MessageBus, type Subscription } from '../messaging/bus.js';
import type { EntityCache } from '../store/entity-cache.js';

/** OpenWhisk's topic for entity changes between controllers. */
export const CACHE_INVALIDATION_TOPIC = 'cacheInvalidation';

interface Invalidation {
  id: string;
  controller: number;
}

/**
 * Keeps the entity caches of several controllers honest: each tells the others, on the bus,
 * which entities it wrote or deleted, and drops the ones they wrote. (Each controller reads the
 * topic in a group of its own, so every controller sees every change.)
 */
export async function shareEntityCache(cache: EntityCache, bus: MessageBus, controller: number, logger: Logger): Promise<Subscription> {
  await bus.ensureTopics([CACHE_INVALIDATION_TOPIC]);
  cache.onChange((id) => {
    const msg: Invalidation = { id, controller };
    bus.publish(CACHE_INVALIDATION_TOPIC, [{ key: id, object: msg }]).catch((err) => logger.warn({ err, id }, 'could not tell other controllers of a change'));
  });
  return bus.subscribe({
    topic: CACHE_INVALIDATION_TOPIC,
    group: `controller${controller}-cache`,
    handler: async (batch) => {
      for (const m of batch) {
        const msg = valueOf<Invalidation>(m);
        if (msg.controller !== controller) cache.invalidate(msg.id);
      }
    },
  });
}
