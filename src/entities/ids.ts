import { randomBytes, randomUUID } from 'node:crypto';
import { badRequest } from './errors.js';

/** An activation id: 32 lowercase hex characters (a random UUID without dashes). */
export function newActivationId(): string {
  return randomUUID().replace(/-/g, '');
}

export function validateActivationId(id: string): string {
  if (id.length !== 32) throw badRequest(`Activation id length is ${id.length} but must be 32.`, 'BAD_ACTIVATION_ID');
  if (!/^[0-9a-f]{32}$/.test(id)) throw badRequest('The activation id is not valid.', 'BAD_ACTIVATION_ID');
  return id;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A transaction id: 32 alphanumerics, the `code` of error bodies and the X-Request-ID header. */
export function newTransactionId(): string {
  const bytes = randomBytes(32);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

/** A 64-character secret for a new auth key. */
export function newSecret(): string {
  return newTransactionId() + newTransactionId();
}
