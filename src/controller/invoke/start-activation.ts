import type { ActivationDoc, Identity } from '../../entities/documents.js';
import type { ResolvedAction } from '../resolve-action.js';

/** One primitive activation to start: what the gateway hands the load balancer. */
export interface ActivationStart {
  identity: Identity;
  resolved: ResolvedAction;
  /** Merged over the action's parameters; an array (a sequence component's input) passes as is. */
  payload: Record<string, unknown> | unknown[];
  blocking: boolean;
  transactionId: string;
  /** The enclosing sequence's activation id, for sequence components. */
  cause?: string;
}

export interface StartedActivation {
  activationId: string;
  /** Settles with the record once the invoker answered (or the balancer gave the activation up). */
  completion: Promise<ActivationDoc>;
}

/** Starts a primitive activation without throttle checks (the caller did those). */
export type StartActivation = (start: ActivationStart) => Promise<StartedActivation>;
