import type { Identity, TriggerDoc } from '../entities/documents.js';
import type { EntityRef } from '../entities/names.js';
import type { ResolvedAction } from './resolve-action.js';

/**
 * Where the controller hands work to the invocation pipeline and the trigger engine. Until those
 * land, the spine's implementation answers 501 for both, after throttling and existence checks.
 */
export interface InvokeRequest {
  identity: Identity;
  action: EntityRef;
  /** The action as the caller may see it, with its package and binding. */
  resolved: ResolvedAction;
  payload: Record<string, unknown>;
  blocking: boolean;
  resultOnly: boolean;
  waitMs: number;
  transactionId: string;
  /** At most one activation per key: a repeat answers with the first activation's id. */
  idempotencyKey?: string;
  /** Hold the key as unpublished until the activation completes (for a bus that is not durable). */
  keepKeyUntilCompleted?: boolean;
}

export interface InvokeOutcome {
  status: number;
  body: unknown;
  activationId?: string;
  /** For a non-blocking invoke: settles when the activation has completed (internal callers). */
  completed?: Promise<void>;
}

export interface FireRequest {
  identity: Identity;
  trigger: EntityRef;
  /** The trigger as read for this request (its rules map decides the fan-out). */
  triggerDoc: TriggerDoc;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  transactionId: string;
  /** The caller's `X-Idempotency-Key`, if any. */
  idempotencyKey?: string;
}

export interface ActivationGateway {
  invoke(req: InvokeRequest): Promise<InvokeOutcome>;
  fire(req: FireRequest): Promise<InvokeOutcome>;
}
