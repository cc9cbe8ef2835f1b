import { isSequence, type ActivationDoc, type ActivationResponse, type Identity, type SequenceExec } from '../../entities/documents.js';
import { HubError } from '../../entities/errors.js';
import { newActivationId } from '../../entities/ids.js';
import { parseQualifiedName } from '../../entities/names.js';
import type { Logger } from '../../logging/logger.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import type { InvokeOutcome, InvokeRequest } from '../activation-gateway.js';
import { accepted, finished, within } from '../invoke/invoke-outcome.js';
import type { StartActivation } from '../invoke/start-activation.js';
import { resolveAction, type ResolvedAction } from '../resolve-action.js';
import { memoryOf, sequenceRecord, type SequenceAccounting } from './sequence-record.js';

/** How long a sequence waits for one component beyond its time limit (OpenWhisk: one minute). */
const COMPONENT_GRACE_MS = 60_000;

export interface SequenceRunnerOptions {
  store: ArtifactStore;
  logger: Logger;
  /** Starts one primitive component, unthrottled (a sequence counts once, as a whole). */
  startActivation: StartActivation;
  /** Refuses a new sequence when the namespace has too many activations in flight (429). */
  checkConcurrency: (identity: Identity) => void;
  /** Atomic actions one topmost sequence may run, nested sequences inlined. */
  maxLength: number;
}

const failure = (statusCode: 1 | 3, error: string): ActivationResponse => ({
  statusCode,
  status: statusCode === 1 ? 'application error' : 'whisk internal error',
  success: false,
  result: { error },
});

const hasErrorField = (result: unknown) =>
  result !== null && typeof result === 'object' && !Array.isArray(result) && Object.hasOwn(result, 'error');

/** One (possibly inner) sequence run: where it stands and what it shares with its topmost run. */
interface Run {
  activationId: string;
  identity: Identity;
  resolved: ResolvedAction;
  input: unknown;
  topmost: boolean;
  cause?: string;
  transactionId: string;
  /** Atomic actions started so far under the topmost sequence. */
  atomic: { count: number };
  /** Components resolved before the run (the topmost run checks them up front). */
  prefetched?: (ResolvedAction | HubError)[];
}

/**
 * Runs sequences in the controller, as OpenWhisk does: each component is a blocking invoke
 * through the gateway with `cause` = the sequence's activation id; a component's result is the
 * next one's input (its parameters merged underneath); the first result with an `error` field
 * ends the run; the sequence's response is the last component's. The controller writes the
 * sequence's own record (component ids as its logs). Inner sequences run the same way, with the
 * enclosing sequence as their cause.
 */
export class SequenceRunner {
  constructor(private readonly o: SequenceRunnerOptions) {}

  async invoke(req: InvokeRequest): Promise<InvokeOutcome> {
    const exec = req.resolved.action.exec as SequenceExec;
    this.o.checkConcurrency(req.identity);
    // OpenWhisk checks the caller's right to activate each component before the sequence starts;
    // a component missing by now fails the run when reached (an application error in the record).
    const prefetched = await Promise.all(exec.components.map((c) => this.resolve(c, req.identity)));
    const refused = prefetched.find((p) => p instanceof HubError && p.status === 403);
    if (refused) throw refused;

    const activationId = newActivationId();
    const done = this.run({
      activationId,
      identity: req.identity,
      resolved: req.resolved,
      input: req.payload,
      topmost: true,
      transactionId: req.transactionId,
      atomic: { count: 0 },
      prefetched,
    });
    // Internal callers (rule fan-out) may wait for the whole run: `completed`.
    if (!req.blocking) return { ...accepted(activationId), completed: done.then(() => undefined) };
    const record = await within(done, req.waitMs);
    return record ? finished(record, req.resultOnly) : accepted(activationId);
  }

  /** Runs the components, then writes and returns the sequence's record. Never rejects. */
  private async run(run: Run): Promise<ActivationDoc> {
    const start = Date.now();
    const acc: SequenceAccounting = { logs: [], duration: 0, response: { statusCode: 0, status: 'success', success: true, result: run.input } };
    try {
      await this.runComponents(run, acc);
    } catch (err) {
      this.o.logger.error({ err, activationId: run.activationId }, 'sequence failed');
      acc.response = failure(3, 'Sequence failed.');
    }
    const record = sequenceRecord({ ...run, start }, acc, Date.now());
    try {
      await this.o.store.putActivations([record]);
    } catch (err) {
      this.o.logger.error({ err, activationId: run.activationId }, 'could not store a sequence record');
    }
    return record;
  }

  private async runComponents(run: Run, acc: SequenceAccounting): Promise<void> {
    const components = (run.resolved.action.exec as SequenceExec).components;
    let input = run.input;
    for (const [i, name] of components.entries()) {
      if (run.atomic.count >= this.o.maxLength) {
        acc.response = failure(1, 'Too many actions in the sequence.');
        return;
      }
      const component = run.prefetched?.[i] ?? (await this.resolve(name, run.identity));
      if (component instanceof HubError) {
        acc.response = failure(1, component.status === 404 ? 'Sequence component does not exist.' : component.message);
        return;
      }
      const record = isSequence(component.action.exec)
        ? await this.run({
            activationId: newActivationId(),
            identity: run.identity,
            resolved: component,
            input,
            topmost: false,
            cause: run.activationId,
            transactionId: run.transactionId,
            atomic: run.atomic,
          })
        : await this.runAtomic(run, component, input, acc);
      if (!record) return;
      acc.logs.push(record.activationId);
      acc.duration += record.duration ?? 0;
      acc.firstStart ??= record.start;
      const memory = memoryOf(record);
      if (memory !== undefined) acc.maxMemory = Math.max(acc.maxMemory ?? 0, memory);
      acc.response = record.response;
      if (record.response.statusCode !== 0 || hasErrorField(record.response.result)) return;
      input = record.response.result;
    }
  }

  /** One action component, blocking; undefined (and the failure noted) when it did not answer in time. */
  private async runAtomic(run: Run, component: ResolvedAction, input: unknown, acc: SequenceAccounting): Promise<ActivationDoc | undefined> {
    run.atomic.count++;
    let started;
    try {
      started = await this.o.startActivation({
        identity: run.identity,
        resolved: component,
        payload: Array.isArray(input) ? input : ((input ?? {}) as Record<string, unknown>),
        blocking: true,
        transactionId: run.transactionId,
        cause: run.activationId,
      });
    } catch (err) {
      this.o.logger.warn({ err, activationId: run.activationId }, 'a sequence component could not be started');
      acc.response = failure(3, 'Sequence failed.');
      return undefined;
    }
    const record = await within(started.completion, component.action.limits.timeout + COMPONENT_GRACE_MS);
    if (!record) {
      acc.logs.push(started.activationId);
      acc.response = failure(3, `Timeout reached when retrieving activation ${started.activationId} for sequence component.`);
    }
    return record;
  }

  /** A component as the invoking identity may see it, or the refusal (404, 403, 409) to report. */
  private async resolve(name: string, identity: Identity): Promise<ResolvedAction | HubError> {
    try {
      return await resolveAction(this.o.store, parseQualifiedName(name, identity.namespace, 'action'), identity);
    } catch (err) {
      if (err instanceof HubError) return err;
      throw err;
    }
  }
}
