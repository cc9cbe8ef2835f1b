import type { Config } from '../config/config.js';
import type { ContainerFactory } from '../containers/container-factory.js';
import { DockerContainerFactory, DEFAULT_IMAGES } from '../containers/docker/docker-container-factory.js';
import { ProcessContainerFactory } from '../containers/process/process-container-factory.js';
import type { Logger } from '../logging/logger.js';
import type { MessageBus } from '../messaging/bus.js';
import { createInProcessBus } from '../messaging/inproc/inproc-bus.js';
import { createKafkaBus } from '../messaging/kafka/kafka-bus.js';
import { prefixedBus } from '../messaging/prefixed-bus.js';

/** The one place that picks the MessageBus: in-process for standalone, Kafka for the cluster. */
export function openBus(config: Config, logger: Logger, clientId: string): MessageBus {
  if (config.mode === 'standalone') return createInProcessBus({ logger });
  if (config.kafkaBrokers.length === 0) throw new Error('WHISKHUB_KAFKA_BROKERS is empty: the cluster roles talk over Kafka');
  return prefixedBus(createKafkaBus({ brokers: config.kafkaBrokers, clientId, logger }), config.kafkaPrefix);
}

/**
 * The one place that picks the ContainerFactory. `auto` takes Docker when the engine answers and
 * the runtime image is there, else local processes (and says why).
 */
export async function openContainerFactory(config: Config, logger: Logger): Promise<ContainerFactory> {
  const { factory, dockerHost, dockerNetwork } = config.invoker;
  if (factory === 'process') return new ProcessContainerFactory();
  const docker = new DockerContainerFactory({ dockerHost, network: dockerNetwork });
  if (factory === 'docker') return docker;
  try {
    await withTimeout(docker.docker.ping(), 1_500);
    await withTimeout(docker.docker.getImage(DEFAULT_IMAGES['nodejs:20']).inspect(), 1_500);
    return docker;
  } catch (err) {
    logger.info(
      { reason: (err as Error).message },
      'running actions as local processes (for Docker: start an engine and run deploy/runtimes/build-nodejs-image.sh)',
    );
    await docker.close().catch(() => undefined);
    return new ProcessContainerFactory();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
