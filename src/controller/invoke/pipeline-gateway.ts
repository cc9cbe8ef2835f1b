import type { ArtifactStore, DocStore } from '../../store/artifact-store.js';
import { InvocationKeys } from './invocation-keys.js';
import { isSequence, type Identity } from '../../entities/documents.js';
import { notImplemented, throttled, unavailable } from '../../entities/errors.js';
import { newActivationId } from '../../entities/ids.js';
import type { CompletionMessage } from '../../invoker/messages.js';
import { NoInvokersError, type LoadBalancer } from '../../loadbalancer/load-balancer.js';
import type { Logger } from '../../logging/logger.js';
import type { ActivationGateway, FireRequest, InvokeOutcome, InvokeRequest } from '../activation-gateway.js';
import { SequenceRunner } from '../sequences/sequence-runner.js';
import type { NamespaceThrottles } from '../throttles/namespace-throttles.js';
import { activationJson } from '../serialize.js';
import { mergeArguments } from './merge-parameters.js';
import type { ActivationStart, StartedActivation } from './start-activation.js';

/** HTTP status of a finished blocking invoke, by the record's status code (0..3). */
const STATUS_BY_OUTCOME = [200, 502, 502, 500];

/**
 * Invocation through the pipeline: merge the arguments, count the namespace's activations in
 * flight, hand the activation to the load balancer, and for a blocking caller wait for the
 * completion up to the requested time (then 202 with the id, as OpenWhisk does).
 */
export class PipelineGateway implements ActivationGateway {
  private readonly inFlight = new Map<string, number>();
  private readonly sequences: SequenceRunner;
  private readonly keys: InvocationKeys;
  /** Fires go to the trigger engine (it needs this gateway, hence attached after construction). */
  private fireHandler?: (req: FireRequest) => Promise<InvokeOutcome>;

  constructor(
    private readonly store: ArtifactStore,
    private readonly balancer: LoadBalancer,
    private readonly throttles: NamespaceThrottles,
    private readonly logger: Logger,
    private readonly controllerIndex = 0,
    /** Atomic actions one sequence may run (OpenWhisk's default 50; WHISKHUB_LIMIT_SEQUENCE_LENGTH). */
    sequenceMaxLength = 50,
    /** Where invocation idempotency keys are kept (default: the store; the cluster: Redis). */
    keysStore: DocStore = store,
  ) {
    this.sequences = new SequenceRunner({
      store,
      logger,
      startActivation: (start) => this.startComponent(start),
      checkConcurrency: (identity) => this.checkConcurrency(identity),
      maxLength: sequenceMaxLength,
    });
    this.keys = new InvocationKeys(keysStore);
  }

  handleFires(handler: (req: FireRequest) => Promise<InvokeOutcome>): void {
    this.fireHandler = handler;
  }

  async invoke(req: InvokeRequest): Promise<InvokeOutcome> {
    // A blocking caller's wait counts from here, not from after the publish: a slow publish
    // (Kafka under load) must not stretch the time the caller asked for.
    const waitUntil = Date.now() + req.waitMs;
    const { action, pkg, binding, ref } = req.resolved;
    // Sequences run in the controller (src/controller/sequences/), components via startComponent.
    if (isSequence(action.exec)) return this.sequences.invoke(req);
    const { content, initArgs } = mergeArguments(action, pkg, binding, req.payload);
    const ns = req.identity.namespace;
    const allowed = this.throttles.limitsFor(req.identity).concurrentInvocations;
    const count = this.inFlight.get(ns) ?? 0;
    if (count >= allowed) throw throttled(`Too many concurrent requests in flight (count: ${count + 1}, allowed: ${allowed}).`);

    const claimed = req.idempotencyKey ? await this.keys.claim(req.idempotencyKey) : undefined;
    if (claimed && !claimed.publish) return { status: 202, body: { activationId: claimed.activationId }, activationId: claimed.activationId };
    const activationId = claimed?.activationId ?? newActivationId();
    const path = ref.pkg ? `${ref.namespace}/${ref.pkg}` : ref.namespace;
    let completion: Promise<CompletionMessage>;
    try {
      ({ completion } = await this.balancer.publish(
        {
          transactionId: req.transactionId,
          activationId,
          action: { path, name: ref.name, version: action.version, rev: req.resolved.rev },
          ...(binding ? { binding: `${binding.namespace}/${binding.name}` } : {}),
          user: { subject: req.identity.subject, namespace: ns, authKey: `${req.identity.uuid}:${req.identity.key}` },
          content,
          initArgs,
          blocking: req.blocking,
          rootControllerIndex: this.controllerIndex,
          receivedAt: Date.now(),
        },
        action.limits.memory,
      ));
    } catch (err) {
      if (err instanceof NoInvokersError) throw unavailable(err.message);
      throw err;
    }
    if (claimed) {
      // On a bus that loses messages in a crash (in-process), the key stays claimed until the
      // activation completes, so a fan-out redone after a restart publishes it again.
      const mark = () => this.keys.published(req.idempotencyKey!, activationId, claimed.rev);
      if (req.keepKeyUntilCompleted) void completion.then(mark).catch((err) => this.logger.error({ err, activationId }, 'could not mark an idempotency key'));
      else await mark();
    }
    this.inFlight.set(ns, count + 1);
    void completion.finally(() => {
      const n = (this.inFlight.get(ns) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(ns);
      else this.inFlight.set(ns, n);
    });

    if (!req.blocking) return { status: 202, body: { activationId }, activationId, completed: completion.then(() => undefined) };
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      completion,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, waitUntil - Date.now())))),
    ]);
    clearTimeout(timer);
    if (!waited) return { status: 202, body: { activationId }, activationId };
    const record = waited.activation;
    const status = STATUS_BY_OUTCOME[record.response.statusCode] ?? 500;
    // An array result is the body in both modes (OpenWhisk does the same; clients rely on it).
    const result = record.response.result;
    const body = req.resultOnly || Array.isArray(result) ? result : activationJson(record);
    return { status, body, activationId };
  }

  async fire(req: FireRequest): Promise<InvokeOutcome> {
    if (!this.fireHandler) throw notImplemented('Trigger firing');
    return this.fireHandler(req);
  }

  /** 429 when the namespace already has its allowance of activations in flight. */
  private checkConcurrency(identity: Identity): void {
    const allowed = this.throttles.limitsFor(identity).concurrentInvocations;
    const count = this.inFlight.get(identity.namespace) ?? 0;
    if (count >= allowed) throw throttled(`Too many concurrent requests in flight (count: ${count + 1}, allowed: ${allowed}).`);
  }

  /**
   * A sequence component: published like any invoke, with the sequence as its `cause`, counted in
   * flight but never refused (OpenWhisk throttles a sequence once, as a whole), and free to
   * override final parameters (its input is the previous result, not a caller's payload).
   */
  private async startComponent(s: ActivationStart): Promise<StartedActivation> {
    const { action, pkg, binding, ref } = s.resolved;
    const list = Array.isArray(s.payload);
    const merged = mergeArguments(action, pkg, binding, list ? {} : (s.payload as Record<string, unknown>), false);
    // An array result handed on is the next component's whole input (no parameters merge into it).
    const content = list ? (s.payload as unknown as Record<string, unknown>) : merged.content;
    const ns = s.identity.namespace;
    const activationId = newActivationId();
    let completion: Promise<CompletionMessage>;
    try {
      ({ completion } = await this.balancer.publish(
        {
          transactionId: s.transactionId,
          activationId,
          action: { path: ref.pkg ? `${ref.namespace}/${ref.pkg}` : ref.namespace, name: ref.name, version: action.version, rev: s.resolved.rev },
          ...(binding ? { binding: `${binding.namespace}/${binding.name}` } : {}),
          user: { subject: s.identity.subject, namespace: ns, authKey: `${s.identity.uuid}:${s.identity.key}` },
          content,
          initArgs: merged.initArgs,
          blocking: s.blocking,
          rootControllerIndex: this.controllerIndex,
          receivedAt: Date.now(),
          ...(s.cause ? { cause: s.cause } : {}),
        },
        action.limits.memory,
      ));
    } catch (err) {
      if (err instanceof NoInvokersError) throw unavailable(err.message);
      throw err;
    }
    this.inFlight.set(ns, (this.inFlight.get(ns) ?? 0) + 1);
    void completion.finally(() => {
      const n = (this.inFlight.get(ns) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(ns);
      else this.inFlight.set(ns, n);
    });
    return { activationId, completion: completion.then((c) => c.activation) };
  }
}
