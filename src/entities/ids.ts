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

/** Random bytes drawn in blocks: one system call per 128 ids instead of one per request. */
const POOL_IDS = 128;
let pool = Buffer.alloc(0);
let offset = 0;

/** A transaction id: 32 alphanumerics, the `code` of error bodies and the X-Request-ID header. */
export function newTransactionId(): string {
  if (offset + 32 > pool.length) {
    pool = randomBytes(32 * POOL_IDS);
    offset = 0;
  }
  let out = '';
  for (let i = offset; i < offset + 32; i++) out += ALNUM[pool[i] % ALNUM.length];
  offset += 32;
  return out;
}

/** A 64-character secret for a new auth key. */
export function newSecret(): string {
  return newTransactionId() + newTransactionId();
}
