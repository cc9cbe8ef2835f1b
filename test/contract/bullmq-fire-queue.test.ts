import { createLogger } from '../../src/logging/logger.js';
import { BullFireQueue } from '../../src/triggers/bullmq/bullmq-fire-queue.js';
import { describeFireQueue } from './fire-queue.contract.js';

const redisUrl = process.env.WHISKHUB_REDIS_URL;
if (!redisUrl) throw new Error('WHISKHUB_REDIS_URL is not set: start the services with deploy/dev/services-up.sh (npm test does)');

// Each location is its own queue name on the real Redis.
describeFireQueue('bullmq on redis', {
  newLocation: () => `whiskhub-test-fires-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
  open: async (name) => new BullFireQueue({ redisUrl, name, concurrency: 16, logger: createLogger('silent') }),
});
