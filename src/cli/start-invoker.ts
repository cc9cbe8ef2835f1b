import { createHash } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { ContainerFactory } from '../containers/container-factory.js';
import { Invoker } from '../invoker/invoker.js';
import type { Logger } from '../logging/logger.js';
import type { MessageBus } from '../messaging/bus.js';
import type { ArtifactStore } from '../store/artifact-store.js';

/** An invoker configured from the settings: its pool, stem cells and limits. */
export async function startInvoker(config: Config, store: ArtifactStore, bus: MessageBus, factory: ContainerFactory, logger: Logger): Promise<Invoker> {
  const i = config.invoker;
  const invoker = new Invoker({
    index: i.index,
    bus,
    store,
    factory,
    logger: logger.child({ role: `invoker${i.index}` }),
    instance: containerInstance(config),
    maxInFlight: i.maxInFlight,
    pool: {
      memoryBudgetMB: i.memoryMB,
      prewarm: i.prewarm > 0 ? [{ kind: 'nodejs:20', memoryMB: 256, count: i.prewarm }] : [],
      pauseAfterMs: i.pauseMs,
      idleTimeoutMs: i.idleMs,
      env: { __OW_API_HOST: config.apiHost },
    },
  });
  await invoker.start();
  return invoker;
}

/**
 * What this invoker's containers are labelled with, so start-up cleanup finds only its own: in a
 * cluster the Kafka prefix and index (another cluster on the same engine has another prefix), in
 * standalone the data directory.
 */
function containerInstance(config: Config): string {
  if (config.mode === 'standalone') return `standalone-${createHash('sha256').update(config.dataDir).digest('hex').slice(0, 12)}`;
  return `${config.kafkaPrefix}invoker${config.invoker.index}`;
}
