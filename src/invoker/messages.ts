import type { ActivationDoc } from '../entities/documents.js';

/**
 * What the controller publishes on an invoker's topic (OpenWhisk's ActivationMessage, trimmed to
 * what we use). The action travels by reference and revision: code can be 48 MB, far over a
 * Kafka message, and the invoker caches actions by revision.
 */
export interface ActivationMessage {
  transactionId: string;
  activationId: string;
  /** Where the code lives: `ns` or `ns/pkg`, and the name. */
  action: { path: string; name: string; version: string; rev: string };
  /** `ns/bindingName` when invoked through a binding. */
  binding?: string;
  /** The invoking identity: the namespace charged, and its key (sent to the action only if allowed). */
  user: { subject: string; namespace: string; authKey: string };
  /** Arguments after the merge (package < binding < action < payload), without init parameters. */
  content: Record<string, unknown>;
  /** `init: true` parameters: they go to /init as environment, not to /run. */
  initArgs: Record<string, unknown>;
  blocking: boolean;
  /** The controller whose completion topic gets the answer. */
  rootControllerIndex: number;
  /** Epoch ms when the controller accepted the request (for waitTime). */
  receivedAt: number;
  /** The enclosing sequence's activation id, for components. */
  cause?: string;
}

/** What an invoker publishes on `completed<controller>` when an activation is over. */
export interface CompletionMessage {
  activationId: string;
  transactionId: string;
  invoker: number;
  /** True when the outcome is a whisk internal error (counted against the invoker's health). */
  isSystemError: boolean;
  /** The record, logs included. */
  activation: ActivationDoc;
}

/** What every invoker publishes on `health` each second. */
export interface HealthPing {
  invoker: number;
  /** Free memory (MB) for new containers, so the balancer can prefer invokers with room. */
  freeMemoryMB: number;
  at: number;
}
