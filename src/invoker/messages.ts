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

/**
 * What an invoker publishes on `completed<controller>` (OpenWhisk's acks). A blocking activation
 * gets a `result` as soon as its run is over, so the caller is answered before the record is
 * stored; every activation then gets a `completion` once its record is in the store: only then
 * does the controller forget it (and a lost invoker's activations are all accounted for).
 */
export interface AckMessage {
  kind: 'result' | 'completion';
  activationId: string;
  transactionId: string;
  invoker: number;
  /** True when the outcome is a whisk internal error (counted against the invoker's health). */
  isSystemError: boolean;
  /**
   * The record without its logs (blocking records carry none, as in OpenWhisk); left out when it
   * would make the message too large (a result near 1 MB): the controller then reads the store.
   */
  activation?: ActivationDoc;
}

/** Acks larger than this go without the record (Kafka's default message limit is about 1 MB). */
export const MAX_ACK_BYTES = 900 * 1024;

/** What the load balancer hands its caller when an activation is over: the record, always. */
export interface CompletionMessage {
  activationId: string;
  transactionId: string;
  invoker: number;
  isSystemError: boolean;
  activation: ActivationDoc;
}

/** What every invoker publishes on `health` each second. */
export interface HealthPing {
  invoker: number;
  /** Memory (MB) the invoker gives its containers: what the balancer plans with. */
  capacityMB: number;
  /** Memory (MB) not held by any container right now (idle ones included), for operators. */
  freeMemoryMB: number;
  at: number;
}
