import type { Identity, TriggerDoc } from '../entities/documents.js';
import { badRequest, HubError } from '../entities/errors.js';
import { docId, validateName } from '../entities/names.js';
import type { InvokeOutcome } from './activation-gateway.js';
import type { ControllerContext } from './context.js';
import { getTyped, requireOwner, resolveNamespace } from './entity-access.js';
import { objectBody } from './http/json-body.js';

export interface TriggerFire {
  identity: Identity;
  /** The namespace as the caller named it (a name or `_`). */
  namespace: string;
  name: string;
  /** The request body: checked to be a JSON object after entitlement and throttle, as OpenWhisk orders its checks. */
  body: unknown;
  headers: Record<string, string>;
  transactionId: string;
  idempotencyKey?: string;
}

/**
 * `POST /namespaces/{ns}/triggers/{name}` after authentication: entitlement, the namespace's
 * fire throttle, the trigger, then the trigger engine. Shared by the REST route and by feed
 * providers that fire in-process (standalone), so both pass the same checks.
 */
export async function fireTrigger(ctx: ControllerContext, f: TriggerFire): Promise<InvokeOutcome> {
  const namespace = resolveNamespace(f.namespace, f.identity);
  const name = validateName(f.name);
  requireOwner(namespace, f.identity, `${namespace}/${name}`);
  const ref = { namespace, name };
  await ctx.throttles.checkFire(f.identity);
  const payload = objectBody(f.body, 'trigger payload');
  const trigger = (await getTyped<TriggerDoc>(ctx.store, docId(ref), 'trigger')).doc;
  if (f.idempotencyKey !== undefined && (f.idempotencyKey.length === 0 || f.idempotencyKey.length > 256)) {
    throw badRequest('X-Idempotency-Key must be 1 to 256 characters.', 'BAD_IDEMPOTENCY_KEY');
  }
  return ctx.activations.fire({
    identity: f.identity,
    trigger: ref,
    triggerDoc: trigger,
    payload,
    headers: f.headers,
    transactionId: f.transactionId,
    idempotencyKey: f.idempotencyKey,
  });
}

/** What an in-process fire answers: the HTTP status the REST API would have given, and its body's essentials. */
export interface LocalFireAnswer {
  status: number;
  activationId?: string;
  retryAfterMs?: number;
  error?: string;
}

export type LocalFire = (namespace: string, name: string, authKey: string, payload: Record<string, unknown>, idempotencyKey: string) => Promise<LocalFireAnswer>;

let localFires = 0;

/**
 * A fire without HTTP, for the feed providers that standalone runs in its own process: the same
 * authentication (the owner's `uuid:key`), entitlement, throttle and trigger engine as
 * `POST /namespaces/{ns}/triggers/{name}`, and the same status codes, minus a loopback request and
 * the payload's trip through JSON twice (a Kafka batch is up to 900 KB).
 */
export function localFire(ctx: ControllerContext): LocalFire {
  return async (namespace, name, authKey, payload, idempotencyKey) => {
    try {
      const identity = await ctx.auth.authenticate(`Basic ${Buffer.from(authKey).toString('base64')}`);
      const outcome = await fireTrigger(ctx, {
        identity,
        namespace,
        name,
        body: payload,
        headers: { 'x-idempotency-key': idempotencyKey },
        transactionId: `feed-${process.pid}-${(localFires++).toString(36)}`,
        idempotencyKey,
      });
      return { status: outcome.status, activationId: outcome.activationId };
    } catch (err) {
      if (err instanceof HubError) {
        const retryAfter = Number(err.headers['Retry-After'] ?? err.headers['retry-after']);
        return { status: err.status, error: err.message, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
      }
      ctx.logger.error({ err, trigger: `${namespace}/${name}` }, 'in-process feed fire failed');
      return { status: 500, error: (err as Error).message };
    }
  };
}
