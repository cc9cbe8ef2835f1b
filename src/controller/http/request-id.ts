import type { IncomingMessage } from 'node:http';
import { newTransactionId } from '../../entities/ids.js';

const SAFE = /^[\w.:-]{1,128}$/;

/** Reuses a caller's X-Request-ID (as OpenWhisk does, unless it starts with `sid_`), else mints one. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && !given.startsWith('sid_') && SAFE.test(given)) return given;
  return newTransactionId();
}
