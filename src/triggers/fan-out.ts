import type { ActivationDoc, Identity } from '../entities/documents.js';
import { HubError } from '../entities/errors.js';
import { parseQualifiedName, type EntityRef } from '../entities/names.js';
import type { Logger } from '../logging/logger.js';
import { appendField, jsonTextOf, withFieldTexts, withJsonText } from '../entities/json-text.js';
import type { DeadLetters } from './dead-letters.js';
import { fireArgs, type FireJob, type FireStep, type RuleOutcome } from './fire-job.js';
import { matches, type Pattern } from './rule-filter.js';

/** Invokes a rule's action (non-blocking) as the firing user, at most once per idempotency key. */
export type InvokeOnce = (
  identity: Identity,
  action: EntityRef,
  args: Record<string, unknown>,
  idempotencyKey: string,
  transactionId: string,
) => Promise<{ activationId: string; completed?: Promise<void> }>;

export interface FanOutOptions {
  /** Attempts for retryable failures (throttled, system errors) before a dead letter. */
  maxAttempts: number;
  /** Attempts for failures retrying rarely fixes (missing action, forbidden). */
  maxAttemptsNonRetryable: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

const retryable = (status: number) => status === 429 || status >= 500;

/**
 * One pass of a fire's fan-out: every active rule whose outcome is not final is tried (filters
 * first); failures are retried with exponential backoff and, after their attempts, dead-lettered.
 * When every rule is final the trigger record is written. Idempotency keys (fire id + rule) make
 * a repeated pass harmless: an action already invoked for this fire is not invoked again.
 */
export class FanOut {
  constructor(
    private readonly invoke: InvokeOnce,
    private readonly identityOf: (namespace: string) => Promise<Identity | undefined>,
    private readonly deadLetters: DeadLetters,
    private readonly writeRecord: (doc: ActivationDoc) => Promise<void>,
    /** Releases the fire's idempotency keys once it is done. */
    private readonly forgetKeys: (keys: string[]) => Promise<void>,
    private readonly options: FanOutOptions,
    private readonly logger: Logger,
  ) {}

  async step(input: FireJob): Promise<FireStep> {
    const job: FireJob = { ...input, outcomes: { ...input.outcomes }, attempts: { ...input.attempts } };
    const identity = await this.identityOf(job.namespace);
    let retryInMs: number | undefined;
    const completions: Promise<void>[] = [];
    // Made once per pass and shared by its rules (each invocation merges it into arguments of its own).
    let merged: Record<string, unknown> | undefined;
    const args = () => (merged ??= fireArgs(job));

    await Promise.all(
      job.rules.map(async (rule) => {
        if (job.outcomes[rule.ruleId]) return;
        const action = `${rule.action.path}/${rule.action.name}`;
        const base = { rule: rule.ruleId, action };
        if (rule.status !== 'active') {
          job.outcomes[rule.ruleId] = { statusCode: 1, success: false, error: `Rule '${rule.ruleId}' is inactive, action '${action}' was not activated.`, ...base };
          return;
        }
        if (rule.filter && !matches(rule.filter as Pattern, job.payload)) {
          job.outcomes[rule.ruleId] = { statusCode: 0, success: true, skipped: 'filter', error: `Rule '${rule.ruleId}' filter did not match; action '${action}' was not activated.`, ...base };
          return;
        }
        if (!identity) {
          job.outcomes[rule.ruleId] = { statusCode: 1, success: false, error: `The namespace '${job.namespace}' no longer exists.`, ...base };
          return;
        }
        try {
          const ref = parseQualifiedName(`/${action}`, job.namespace);
          const { activationId, completed } = await this.invoke(identity, ref, args(), `${job.fireId}:${rule.ruleId}`, job.transactionId);
          if (completed) completions.push(completed);
          job.outcomes[rule.ruleId] = { statusCode: 0, success: true, activationId, ...base };
        } catch (err) {
          const status = err instanceof HubError ? err.status : 500;
          const attempts = (job.attempts[rule.ruleId] ?? 0) + 1;
          job.attempts[rule.ruleId] = attempts;
          const max = retryable(status) ? this.options.maxAttempts : this.options.maxAttemptsNonRetryable;
          const error = (err as Error).message;
          if (attempts < max) {
            const delay = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempts - 1));
            retryInMs = Math.min(retryInMs ?? delay, delay);
            return;
          }
          const letter = await this.deadLetters.add({
            namespace: job.namespace,
            fireId: job.fireId,
            trigger: job.trigger.name,
            rule: rule.ruleId,
            action: rule.action,
            args: args(),
            error,
            status,
            attempts,
            at: Date.now(),
          });
          this.logger.warn({ fireId: job.fireId, rule: rule.ruleId, status, attempts, deadLetter: letter.id }, 'rule invocation dead-lettered');
          job.outcomes[rule.ruleId] = { statusCode: status < 500 ? 1 : 3, success: false, error, deadLetter: letter.id, ...base };
        }
      }),
    );

    const done = job.rules.every((r) => job.outcomes[r.ruleId]);
    // Where invocations are not durable once published, the fire stays queued until its actions
    // have run, so a crash in between redoes them (with the same activation ids) instead of losing them.
    await Promise.all(completions);
    if (!done) return { job, done, retryInMs };
    await this.writeRecord(withFieldTexts(this.record(job), 'response'));
    return { job, done, afterDone: () => this.forgetKeys(job.rules.map((r) => `${job.fireId}:${r.ruleId}`)) };
  }

  /** The trigger record: OpenWhisk's shape (no end, result = payload, one log line per rule). */
  private record(job: FireJob): ActivationDoc {
    return {
      namespace: job.namespace,
      name: job.trigger.name,
      version: job.trigger.version,
      subject: job.subject,
      publish: false,
      activationId: job.fireId,
      start: job.start,
      end: 0,
      response: recordResponse(job.payload),
      logs: job.rules.map((r) => JSON.stringify(job.outcomes[r.ruleId] satisfies RuleOutcome)),
      annotations: [],
      entityPaths: [job.trigger.name],
    };
  }
}

/**
 * A trigger record's response: the payload is its result. When the payload's JSON text is at
 * hand (noted as it was parsed), the response's own text is made from it, so the store writes
 * the record without stringifying the payload again.
 */
function recordResponse(payload: Record<string, unknown>): ActivationDoc['response'] {
  const head = { statusCode: 0, status: 'success', success: true } as const;
  const response = { ...head, result: payload };
  const text = jsonTextOf(payload);
  return text === undefined ? response : withJsonText(response, appendField(JSON.stringify(head), 'result', text));
}
