import type { ActivationDoc } from '../../entities/documents.js';
import type { InvokeOutcome } from '../activation-gateway.js';
import { activationJson } from '../serialize.js';

/** HTTP status of a finished blocking invoke, by the record's status code (0..3). */
const STATUS_BY_OUTCOME = [200, 502, 502, 500];

/** The answer to a non-blocking invoke, and to a blocking one that ran out of time. */
export function accepted(activationId: string): InvokeOutcome {
  return { status: 202, body: { activationId }, activationId };
}

/**
 * The answer to a blocking invoke that finished: the full record, or with `result=true` the
 * result alone. An array result is the body in both modes (OpenWhisk does the same; clients rely on it).
 */
export function finished(record: ActivationDoc, resultOnly: boolean): InvokeOutcome {
  const status = STATUS_BY_OUTCOME[record.response.statusCode] ?? 500;
  const result = record.response.result;
  const body = resultOnly || Array.isArray(result) ? result : activationJson(record);
  return { status, body, activationId: record.activationId };
}

/** Settles with the promise's value, or with undefined once `ms` have passed. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
