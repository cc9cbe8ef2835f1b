import { RedisThrottles } from '../../src/controller/throttles/redis/redis-throttles.js';
import { describeThrottles } from './throttles.contract.js';

const redisUrl = process.env.WHISKHUB_REDIS_URL;
if (!redisUrl) throw new Error('WHISKHUB_REDIS_URL is not set: start the services with deploy/dev/services-up.sh (npm test does)');

describeThrottles('redis', (clock) => new RedisThrottles(redisUrl, { invocationsPerMinute: 3, concurrentInvocations: 1, firesPerMinute: 2 }, 'whiskhub-test:throttle:', clock));
