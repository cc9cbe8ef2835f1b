import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

/** What kafkajs users (the Kafka bus, the Kafka feed) log to; a pino logger fits. */
export interface KafkaBusLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentKafkaLogger: KafkaBusLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** kafkajs logs these during ordinary operation; they are not worth a warning. */
const ROUTINE = [
  /^The group is rebalancing, re-joining/,
  // Our producer bounds its retries on purpose (a publish must fail, not hang, when the cluster
  // is away); delivery is at least once, so the exactly-once caveat does not apply.
  /^Limiting retries for the idempotent producer/,
];

/**
 * Its connection layer logs every error answer from a broker at ERROR ("Response Heartbeat…:
 * the group is rebalancing", "Response CreateTopics…" when another client created the topic
 * first) although the layers above handle them, and throw to us when they cannot.
 */
const isRoutine = (namespace: string, message: string) =>
  (namespace === 'Connection' && message.startsWith('Response ')) || ROUTINE.some((re) => re.test(message));

/**
 * kafkajs runs at WARN (its info and debug lines are per-request chatter); what it does log goes
 * to our logger as one object per line, with the kafkajs component in `kafka`.
 */
export function kafkaLogCreator(logger: KafkaBusLogger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...fields } = log;
      const obj = { kafka: namespace, ...fields };
      if (isRoutine(namespace, message)) logger.info(obj, message);
      else if (level === logLevel.ERROR) logger.error(obj, message);
      else if (level === logLevel.WARN) logger.warn(obj, message);
      else logger.info(obj, message);
    };
}

export const KAFKAJS_LOG_LEVEL = logLevel.WARN;
