import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { Authenticator } from '../controller/auth/authenticator.js';
import type { ActivationGateway } from '../controller/activation-gateway.js';
import type { ControllerContext } from '../controller/context.js';
import { NotImplementedGateway } from '../controller/not-implemented-gateway.js';
import { buildControllerApp } from '../controller/server.js';
import { InMemoryThrottles, type NamespaceThrottles } from '../controller/throttles/namespace-throttles.js';
import type { Logger } from '../logging/logger.js';
import type { ArtifactStore } from '../store/artifact-store.js';

export interface ControllerParts {
  ctx: ControllerContext;
  app: FastifyInstance;
}

/** Wires a controller from a store: auth, throttles, the activation gateway, the HTTP app. */
export async function buildController(
  config: Config,
  store: ArtifactStore,
  logger: Logger,
  options: {
    /** Builds the gateway to the pipeline, given the controller's throttles (they are shared). */
    gateway?: (throttles: NamespaceThrottles) => ActivationGateway | Promise<ActivationGateway>;
    extraRoutes?: (app: FastifyInstance) => void;
    /** Shared counters for a cluster (Redis); in memory when not given. */
    throttles?: NamespaceThrottles;
  } = {},
): Promise<ControllerParts> {
  const throttles = options.throttles ?? new InMemoryThrottles(config.throttles);
  const ctx: ControllerContext = {
    config,
    store,
    logger,
    auth: new Authenticator(store, config.authCacheMs),
    throttles,
    activations: options.gateway ? await options.gateway(throttles) : new NotImplementedGateway(),
  };
  const app = await buildControllerApp(ctx, options.extraRoutes);
  return { ctx, app };
}
