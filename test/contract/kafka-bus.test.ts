import { Kafka, logLevel } from 'kafkajs';
import { beforeAll } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { createKafkaBus } from '../../src/messaging/kafka/kafka-bus.js';
import { describeMessageBus } from './message-bus.contract.js';

// No skipping: this file runs after deploy/dev/services-up.sh, which exports the brokers. Missing
// brokers mean the services were not started, and that must show as a failure.
const brokersVar = process.env.WHISKHUB_KAFKA_BROKERS;
if (!brokersVar) {
  throw new Error('WHISKHUB_KAFKA_BROKERS is not set: start the services with deploy/dev/services-up.sh (it exports the brokers) before running the contract-services tests');
}
const brokers = brokersVar.split(',').map((b) => b.trim()).filter(Boolean);
// WHISKHUB_TEST_LOG_LEVEL=info shows what the bus and kafkajs log (silent otherwise).
const testLogLevel = process.env.WHISKHUB_TEST_LOG_LEVEL;
const logger = testLogLevel ? createLogger(testLogLevel, 'kafka-bus-contract') : undefined;
const admin = new Kafka({ clientId: 'whiskhub-contract-admin', brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();

beforeAll(async () => {
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new Error(`no Kafka broker answers at WHISKHUB_KAFKA_BROKERS (${brokers.join(',')}): ${String(err)}`);
  }
});

describeMessageBus('kafka', {
  open: async () => createKafkaBus({ brokers, clientId: 'whiskhub-contract', logger }),
  async cleanup(topics) {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  },
});
