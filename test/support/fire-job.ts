import type { FireJob } from '../../src/triggers/fire-job.js';

/** A fire job for queue and fan-out tests: a guest fire of trigger `t` with no rules, and `over` on top. */
export const fireJob = (over: Partial<FireJob> = {}): FireJob => ({
  fireId: 'f',
  namespace: 'guest',
  subject: 'guest',
  trigger: { name: 't', version: '0.0.1' },
  rules: [],
  baseArgs: {},
  payload: {},
  start: Date.now(),
  transactionId: 'tx',
  outcomes: {},
  attempts: {},
  ...over,
});
