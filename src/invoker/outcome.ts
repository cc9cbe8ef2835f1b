import type { ActivationResponse } from '../entities/documents.js';
import type { ProxyResponse } from '../containers/container-factory.js';

/** OpenWhisk's response status codes. */
export const Status = { success: 0, applicationError: 1, developerError: 2, whiskError: 3 } as const;
export const STATUS_TEXT = ['success', 'application error', 'action developer error', 'whisk internal error'] as const;

export const MAX_RESULT_BYTES = 1024 * 1024;

const response = (statusCode: number, result: unknown, size?: number): ActivationResponse => ({
  statusCode,
  status: STATUS_TEXT[statusCode],
  success: statusCode === 0,
  result,
  ...(size !== undefined ? { size } : {}),
});

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** How a failed /init reads in the record (§5.3 of the compatibility spec). */
export function initFailure(r: ProxyResponse, timeoutMs: number): ActivationResponse {
  if (r.timedOut) {
    return response(Status.developerError, { error: `The action exceeded its time limits of ${timeoutMs} milliseconds during initialization.` });
  }
  if (r.oomKilled) return response(Status.developerError, { error: 'The action exhausted its memory and was aborted.' });
  if (r.exited || r.statusCode === 0) {
    return response(Status.developerError, { error: 'The action did not initialize and exited unexpectedly.' });
  }
  const parsed = parseJson(r.body) as { error?: unknown } | undefined;
  if (parsed && typeof parsed === 'object' && 'error' in parsed) return response(Status.developerError, { error: parsed.error });
  return response(Status.developerError, { error: `The action failed during initialization: ${r.body}` });
}

/** How a /run answer (or its absence) reads in the record (§5.3 of the compatibility spec). */
export function runOutcome(r: ProxyResponse, timeoutMs: number): ActivationResponse {
  if (r.timedOut) return response(Status.developerError, { error: `The action exceeded its time limits of ${timeoutMs} milliseconds.` });
  if (r.oomKilled) return response(Status.developerError, { error: 'The action exhausted its memory and was aborted.' });
  if (r.exited || r.statusCode === 0) {
    return response(Status.developerError, { error: 'The action did not produce a valid response and exited unexpectedly.' });
  }
  const size = Buffer.byteLength(r.body);
  if (size > MAX_RESULT_BYTES) {
    return response(Status.applicationError, {
      error: `The action produced a response that exceeded the allowed length: ${size} > ${MAX_RESULT_BYTES} bytes. The truncated response was: ${r.body.slice(0, 1024)}`,
    });
  }
  const parsed = parseJson(r.body);
  const isJsonValue = parsed !== undefined && typeof parsed === 'object' && parsed !== null;
  if (!isJsonValue) {
    return response(Status.developerError, { error: `The action did not produce a valid JSON or JSON Array response: ${r.body}` });
  }
  if (r.statusCode !== 200) {
    const error = !Array.isArray(parsed) && 'error' in (parsed as object) ? (parsed as { error: unknown }).error : parsed;
    return response(Status.developerError, { error });
  }
  if (!Array.isArray(parsed) && 'error' in (parsed as object)) {
    return response(Status.applicationError, { error: (parsed as { error: unknown }).error }, size);
  }
  return response(Status.success, parsed, size);
}

/** A platform failure: the activation ends, visibly, as a whisk internal error. */
export function systemError(message: string): ActivationResponse {
  return response(Status.whiskError, { error: message });
}
