import type { ArtifactStore } from '../../store/artifact-store.js';
import { TriggerFirer, type InvokeForRule } from '../../triggers/fire-trigger.js';
import { resolveAction } from '../resolve-action.js';
import { isSequence } from '../../entities/documents.js';
import { notImplemented, throttled, unavailable } from '../../entities/errors.js';
import { newActivationId } from '../../entities/ids.js';
import type { CompletionMessage } from '../../invoker/messages.js';
import { NoInvokersError, type LoadBalancer } from '../../loadbalancer/load-balancer.js';
import type { Logger } from '../../logging/logger.js';
import type { ActivationGateway, FireRequest, InvokeOutcome, InvokeRequest } from '../activation-gateway.js';
import type { NamespaceThrottles } from '../throttles/namespace-throttles.js';
import { activationJson } from '../serialize.js';
import { mergeArguments } from './merge-parameters.js';

/** HTTP status of a finished blocking invoke, by the record's status code (0..3). */
const STATUS_BY_OUTCOME = [200, 502, 502, 500];

/**
 * Invocation through the pipeline: merge the arguments, count the namespace's activations in
 * flight, hand the activation to the load balancer, and for a blocking caller wait for the
 * completion up to the requested time (then 202 with the id, as OpenWhisk does).
 */
export class PipelineGateway implements ActivationGateway {
  private readonly inFlight = new Map<string, number>();
  private readonly firer: TriggerFirer;

  constructor(
    private readonly store: ArtifactStore,
    private readonly balancer: LoadBalancer,
    private readonly throttles: NamespaceThrottles,
    private readonly logger: Logger,
    private readonly controllerIndex = 0,
  ) {
    this.firer = new TriggerFirer(this.invokeForRule, (doc) => this.store.putActivations([doc]), logger);
  }

  async invoke(req: InvokeRequest): Promise<InvokeOutcome> {
    const { action, pkg, binding, ref } = req.resolved;
    if (isSequence(action.exec)) throw notImplemented('Sequence invocation');
    const { content, initArgs } = mergeArguments(action, pkg, binding, req.payload);
    const ns = req.identity.namespace;
    const allowed = this.throttles.limitsFor(req.identity).concurrentInvocations;
    const count = this.inFlight.get(ns) ?? 0;
    if (count >= allowed) throw throttled(`Too many concurrent requests in flight (count: ${count + 1}, allowed: ${allowed}).`);

    const activationId = newActivationId();
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
    this.inFlight.set(ns, count + 1);
    void completion.finally(() => {
      const n = (this.inFlight.get(ns) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(ns);
      else this.inFlight.set(ns, n);
    });

    if (!req.blocking) return { status: 202, body: { activationId }, activationId };
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      completion,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), req.waitMs))),
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

  /** OpenWhisk's firing: 204 when no rule is active, else 202 and an asynchronous fan-out. */
  async fire(req: FireRequest): Promise<InvokeOutcome> {
    const started = this.firer.fire({
      identity: req.identity,
      trigger: req.triggerDoc,
      payload: req.payload,
      headers: req.headers,
      transactionId: req.transactionId,
    });
    if (!started) return { status: 204, body: undefined };
    return { status: 202, body: { activationId: started.activationId }, activationId: started.activationId };
  }

  /** A rule's invocation takes the path of `POST /actions`: throttle, entitlement, then invoke. */
  private readonly invokeForRule: InvokeForRule = async (identity, ref, args, transactionId) => {
    await this.throttles.checkInvoke(identity);
    const resolved = await resolveAction(this.store, ref, identity);
    const out = await this.invoke({ identity, action: ref, resolved, payload: args, blocking: false, resultOnly: false, waitMs: 0, transactionId });
    return { activationId: out.activationId! };
  };
}

