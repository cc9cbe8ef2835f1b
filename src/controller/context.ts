import type { Config } from '../config/config.js';
import type { Identity } from '../entities/documents.js';
import type { Logger } from '../logging/logger.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { Authenticator } from './auth/authenticator.js';
import type { NamespaceThrottles } from './throttles/namespace-throttles.js';
import type { ActivationGateway } from './activation-gateway.js';

/** What every route needs, built once by the role that runs the controller. */
export interface ControllerContext {
  config: Config;
  store: ArtifactStore;
  logger: Logger;
  auth: Authenticator;
  throttles: NamespaceThrottles;
  activations: ActivationGateway;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
  }
}
