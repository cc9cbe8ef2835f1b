import { randomBytes } from 'node:crypto';

/** Revisions only need to differ: a random part per process and a counter (no random bytes per write). */
const PROCESS_PART = randomBytes(6).toString('hex');
let counter = 0;

/** The part of a new revision after `<generation>-`, never the same twice across processes. */
export const newRevSuffix = (): string => `${PROCESS_PART}${(counter++).toString(16)}`;
