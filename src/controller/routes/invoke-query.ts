import { badRequest } from '../../entities/errors.js';

export const MAX_BLOCKING_WAIT_MS = 60_000;

export interface InvokeQuery {
  blocking: boolean;
  result: boolean;
  timeout: number;
}

/** `blocking`, `result` and `timeout` (1..60000 ms, the longest a blocking caller waits). */
export function parseInvokeQuery(query: Record<string, unknown>): InvokeQuery {
  let timeout = MAX_BLOCKING_WAIT_MS;
  if (query.timeout !== undefined) {
    const n = Number(query.timeout);
    if (!/^\d+$/.test(String(query.timeout)) || n < 1 || n > MAX_BLOCKING_WAIT_MS) {
      throw badRequest(`Timeout must be number of milliseconds up to ${MAX_BLOCKING_WAIT_MS}.`, 'BAD_TIMEOUT');
    }
    timeout = n;
  }
  return { blocking: query.blocking === 'true', result: query.result === 'true', timeout };
}
