import { jsonTextOf, mergeObjectTexts, withJsonText } from '../entities/json-text.js';
import type { RuleLink } from '../entities/documents.js';

/** One rule's final outcome, as the trigger record's log line shows it (OpenWhisk's shape, plus `skipped` and `deadLetter`). */
export interface RuleOutcome {
  statusCode: number;
  success: boolean;
  activationId?: string;
  error?: string;
  /** Set when a rule filter did not match the fire payload. */
  skipped?: 'filter';
  /** The dead letter that holds an invocation that failed after its retries. */
  deadLetter?: string;
  rule: string;
  action: string;
}

/**
 * A fire accepted by the controller: everything the fan-out needs, frozen at fire time (a rule
 * changed after the 202 does not change what this fire does). Kept durably by a FireQueue until
 * every rule has a final outcome and the trigger record is written.
 */
export interface FireJob {
  /** Also the trigger activation id the caller got. */
  fireId: string;
  /** The firing (and charged) namespace and subject. */
  namespace: string;
  subject: string;
  trigger: { name: string; version: string };
  rules: ({ ruleId: string } & RuleLink)[];
  /**
   * What each rule's action receives under the payload: trigger parameters < __ow_headers (see
   * fireArgs). Kept apart so the payload, up to a megabyte, is stored once per job, not twice.
   */
  baseArgs: Record<string, unknown>;
  /** Jobs accepted before baseArgs existed carried the merged arguments (still read after an upgrade). */
  args?: Record<string, unknown>;
  /** The raw fire payload: the trigger record's result, and what rule filters match. */
  payload: Record<string, unknown>;
  start: number;
  transactionId: string;
  /** Final outcomes so far, by rule id. */
  outcomes: Record<string, RuleOutcome>;
  /** Failed attempts so far, by rule id. */
  attempts: Record<string, number>;
}

/** What each rule's action receives: trigger parameters < __ow_headers < fire payload. */
export function fireArgs(job: FireJob): Record<string, unknown> {
  if (job.args) return job.args;
  const args = { ...job.baseArgs, ...job.payload };
  // The payload's text, when noted, makes the arguments' text: the action gets it without the
  // payload (up to a megabyte) being stringified again.
  const payloadText = jsonTextOf(job.payload);
  return payloadText === undefined ? args : withJsonText(args, mergeObjectTexts(JSON.stringify(job.baseArgs), payloadText));
}

/** What one pass over a job decided. */
export interface FireStep {
  job: FireJob;
  done: boolean;
  /** When not done: try the pending rules again after this long. */
  retryInMs?: number;
  /**
   * When done: what to release once the queue has dropped the job (never before: a crash in
   * between would let a redone fan-out invoke again under new keys).
   */
  afterDone?: () => Promise<void>;
}
