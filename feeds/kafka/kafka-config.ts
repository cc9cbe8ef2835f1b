/**
 * A Kafka feed registration's configuration, as stored. The SASL password is a secret: READ never
 * shows it and nothing logs it.
 */
export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface KafkaTls {
  /** Check the brokers' certificates (default true). */
  rejectUnauthorized: boolean;
  /** PEM of the CA that signed them, when it is not a public one. */
  ca?: string;
}

export interface KafkaFeedConfig {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  topic: string;
  isJSONData: boolean;
  isBinaryKey: boolean;
  isBinaryValue: boolean;
  /** The user's consumer group; unset: one of the registration's own (see `groupIdOf`), deleted with it. */
  groupId?: string;
  /** Where a partition the group never read starts: its beginning, or (default) what is produced after CREATE. */
  fromBeginning: boolean;
  sasl?: KafkaSasl;
  tls?: KafkaTls;
  /** Largest fire body, in bytes of JSON (`{"messages":[…]}`). */
  maxBatchBytes: number;
  /** Most messages in one fire. */
  maxBatchMessages: number;
}

/** What the operator allows (settings) and the defaults a registration gets. */
export interface KafkaFeedRules {
  /** The largest maxBatchBytes a registration may ask for (the controller takes fires up to 1 MiB). */
  maxBatchBytes: number;
  defaultBatchMessages: number;
}

export const KAFKA_FEEDS = ['kafkaFeed', 'messageHubFeed'] as const;

/**
 * The consumer group a registration reads with: the user's, else one named for the registration
 * and its CREATE time, so a new CREATE starts afresh while UPDATE, PAUSE and restarts keep the
 * group's committed position.
 */
export function groupIdOf(reg: { namespace: string; trigger: string; created: number; config: Pick<KafkaFeedConfig, 'groupId'> }): string {
  if (reg.config.groupId) return reg.config.groupId;
  return `whiskhub-${`${reg.namespace}-${reg.trigger}`.replace(/[^a-zA-Z0-9._-]/g, '_')}-${reg.created.toString(36)}`;
}
