import { afterAll, beforeAll, describe } from 'vitest';
import type { StoreKind } from '../support/controller-harness.js';
import { describeActions } from './api-suite-actions.js';
import { describeActivations } from './api-suite-activations.js';
import { describeAuthAndMeta } from './api-suite-auth.js';
import { describeBadInput } from './api-suite-bad-input.js';
import { describeClientRequests } from './api-suite-clients.js';
import { describeInvokeAndFire, describeThrottles } from './api-suite-invoke.js';
import { describePackages } from './api-suite-packages.js';
import { describeTriggersAndRules } from './api-suite-triggers-rules.js';
import { ApiSession } from './api-support.js';

/**
 * The REST API suite, through real HTTP against a controller over a fresh store of the given
 * kind. One controller serves every area (tests use unique names); the throttle tests start their
 * own with small allowances.
 */
export function describeApi(kind: StoreKind): void {
  describe(`REST API (${kind} store)`, () => {
    const session = new ApiSession(kind);
    beforeAll(() => session.start());
    afterAll(() => session.stop());

    describeAuthAndMeta(session);
    describeActions(session);
    describePackages(session);
    describeTriggersAndRules(session);
    describeActivations(session);
    describeClientRequests(session);
    describeBadInput(session);
    describeInvokeAndFire(session);
    describeThrottles(kind);
  });
}
