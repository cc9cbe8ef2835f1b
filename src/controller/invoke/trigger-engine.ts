import type { Config } from '../../config/config.js';
import type { Identity } from '../../entities/documents.js';
import type { Logger } from '../../logging/logger.js';
import { ActivationWriter } from '../../store/activation-writer.js';
import type { ArtifactStore, DocStore } from '../../store/artifact-store.js';
import { DeadLetters } from '../../triggers/dead-letters.js';
import { FanOut, type InvokeOnce } from '../../triggers/fan-out.js';
import type { FireQueue } from '../../triggers/fire-queue.js';
import { FireService } from '../../triggers/fire-service.js';
import type { FireRequest, InvokeOutcome } from '../activation-gateway.js';
import { resolveAction } from '../resolve-action.js';
import type { NamespaceThrottles } from '../throttles/namespace-throttles.js';
import { InvocationKeys } from './invocation-keys.js';
import type { PipelineGateway } from './pipeline-gateway.js';

/**
 * The trigger engine: fires are made durable in the FireQueue before the 202, then fanned out by
 * this controller's queue worker. Each rule's invocation takes the path of `POST /actions`
 * (throttle, entitlement, invoke) with an idempotency key, so a redelivered fire never runs an
 * action twice.
 */
export class TriggerEngine {
  private readonly service: FireService;
  private readonly fanOut: FanOut;
  readonly deadLetters: DeadLetters;
  /**
   * Trigger records go to the store in batches, as the invokers write action records: one
   * `_bulk_docs` for many fires rather than a write each, which bounded the cluster's fan-out.
   */
  private readonly records: ActivationWriter;
  private readonly identityCacheMs: number;

  constructor(
    private readonly store: ArtifactStore,
    private readonly queue: FireQueue,
    private readonly gateway: PipelineGateway,
    private readonly throttles: NamespaceThrottles,
    config: Config,
    logger: Logger,
    /** False when the message bus loses published activations in a crash (standalone). */
    private readonly durableInvocations: boolean,
    /** Where rule invocations' idempotency keys are kept (default: the store; the cluster: Redis). */
    keysStore: DocStore = store,
  ) {
    this.identityCacheMs = config.authCacheMs;
    this.service = new FireService(queue, store, config.fires.idempotencyWindowMs);
    this.deadLetters = new DeadLetters(store);
    const keys = new InvocationKeys(keysStore);
    this.records = new ActivationWriter(store, logger);
    this.fanOut = new FanOut(
      this.invokeOnce,
      (namespace) => this.identityOf(namespace),
      this.deadLetters,
      (doc) => this.records.write(doc),
      (k) => keys.forget(k),
      config.fires,
      logger,
    );
    gateway.handleFires((req) => this.fire(req));
  }

  async start(): Promise<void> {
    await this.queue.start((job) => this.fanOut.step(job));
  }

  async stop(): Promise<void> {
    await this.queue.stop();
    await this.records.flush();
  }

  async fire(req: FireRequest): Promise<InvokeOutcome> {
    const answer = await this.service.fire({
      identity: req.identity,
      trigger: req.triggerDoc,
      payload: req.payload,
      headers: req.headers,
      transactionId: req.transactionId,
      idempotencyKey: req.idempotencyKey,
    });
    if (answer.status === 204) return { status: 204, body: undefined };
    return { status: 202, body: { activationId: answer.activationId }, activationId: answer.activationId };
  }

  /** Invokes one rule's action as `POST /actions` would, once per key. */
  readonly invokeOnce: InvokeOnce = async (identity, ref, args, idempotencyKey, transactionId) => {
    await this.throttles.checkInvoke(identity);
    const resolved = await resolveAction(this.store, ref, identity);
    const out = await this.gateway.invoke({
      identity,
      action: ref,
      resolved,
      payload: args,
      blocking: false,
      resultOnly: false,
      waitMs: 0,
      transactionId,
      idempotencyKey,
      keepKeyUntilCompleted: !this.durableInvocations,
    });
    return { activationId: out.activationId!, completed: this.durableInvocations ? undefined : out.completed };
  };

  /** Identities by namespace, each kept for WHISKHUB_AUTH_CACHE_MS (as the authenticator keeps keys). */
  private readonly identities = new Map<string, { at: number; identity: Promise<Identity | undefined> }>();

  /**
   * The firing namespace's identity when the fan-out runs (keys may have changed since the fire),
   * at most the auth cache's age old: on CouchDB each lookup is a view query, and every fire
   * needs one.
   */
  private identityOf(namespace: string): Promise<Identity | undefined> {
    const now = Date.now();
    const hit = this.identities.get(namespace);
    if (hit && now - hit.at < this.identityCacheMs) return hit.identity;
    const identity = this.readIdentity(namespace);
    this.identities.set(namespace, { at: now, identity });
    // A failed read is not kept.
    identity.catch(() => this.identities.delete(namespace));
    if (this.identities.size > 10_000) for (const [k, v] of this.identities) if (now - v.at >= this.identityCacheMs) this.identities.delete(k);
    return identity;
  }

  private async readIdentity(namespace: string): Promise<Identity | undefined> {
    const subject = await this.store.findSubjectByNamespace(namespace);
    const ns = subject?.namespaces.find((n) => n.name === namespace);
    if (!subject || !ns || subject.blocked) return undefined;
    return { subject: subject.subject, namespace, uuid: ns.uuid, key: ns.key, limits: subject.limits ?? {} };
  }
}
