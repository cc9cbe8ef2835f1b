import type { Config } from '../config/config.js';
import { PipelineGateway } from '../controller/invoke/pipeline-gateway.js';
import type { NamespaceThrottles } from '../controller/throttles/namespace-throttles.js';
import { LoadBalancer } from '../loadbalancer/load-balancer.js';
import type { Logger } from '../logging/logger.js';
import type { MessageBus } from '../messaging/bus.js';
import type { ArtifactStore, DocStore } from '../store/artifact-store.js';

export interface ControllerPipeline {
  gateway: PipelineGateway;
  balancer: LoadBalancer;
}

/** The controller's half of the pipeline: the load balancer and the gateway the routes call. */
export async function startControllerPipeline(
  config: Config,
  store: ArtifactStore,
  bus: MessageBus,
  throttles: NamespaceThrottles,
  logger: Logger,
  /** Where invocation idempotency keys are kept (default: the store). */
  keysStore: DocStore = store,
): Promise<ControllerPipeline> {
  const balancer = new LoadBalancer({
    controllerIndex: config.controllerIndex,
    bus,
    store,
    logger: logger.child({ role: 'loadbalancer' }),
    invokerTimeoutMs: config.invoker.timeoutMs,
  });
  await balancer.start();
  const gateway = new PipelineGateway(store, balancer, throttles, logger, config.controllerIndex, config.sequenceMaxLength, keysStore);
  return { gateway, balancer };
}
