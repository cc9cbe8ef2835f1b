import { InMemoryThrottles } from '../../src/controller/throttles/namespace-throttles.js';
import { describeThrottles } from './throttles.contract.js';

describeThrottles('in memory', (clock) => new InMemoryThrottles({ invocationsPerMinute: 3, concurrentInvocations: 1, firesPerMinute: 2 }, clock));
