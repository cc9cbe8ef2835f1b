import { Kafka, type KafkaConfig } from 'kafkajs';
import { KAFKAJS_LOG_LEVEL, kafkaLogCreator, type KafkaBusLogger } from '../../src/kafkajs/kafkajs-logger.js';
import type { KafkaFeedConfig } from './kafka-config.js';

/**
 * A kafkajs client for a registration's cluster: its brokers, SASL and TLS. Connection attempts
 * are short (3 s) so that a CREATE with wrong brokers answers within the feed action's time.
 */
export function kafkaClient(c: Pick<KafkaFeedConfig, 'brokers' | 'sasl' | 'tls'>, clientId: string, logger: KafkaBusLogger, retries = 5): Kafka {
  const config: KafkaConfig = {
    clientId,
    brokers: c.brokers,
    connectionTimeout: 3_000,
    retry: { retries, initialRetryTime: 300, maxRetryTime: 5_000 },
    logLevel: KAFKAJS_LOG_LEVEL,
    logCreator: kafkaLogCreator(logger),
  };
  if (c.tls) config.ssl = { rejectUnauthorized: c.tls.rejectUnauthorized, ...(c.tls.ca ? { ca: [c.tls.ca] } : {}) };
  if (c.sasl) {
    const { username, password } = c.sasl;
    config.sasl =
      c.sasl.mechanism === 'plain'
        ? { mechanism: 'plain', username, password }
        : c.sasl.mechanism === 'scram-sha-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  }
  return new Kafka(config);
}
