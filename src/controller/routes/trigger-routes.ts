import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TriggerDoc } from '../../entities/documents.js';
import { badRequest, Messages } from '../../entities/errors.js';
import { docId, isValidName, validateName } from '../../entities/names.js';
import { getValue, parseKeyValues } from '../../entities/params.js';
import { bumpPatch, INITIAL_VERSION, validateVersion } from '../../entities/semver.js';
import { optionalBoolean } from '../actions/action-body.js';
import type { ControllerContext } from '../context.js';
import { deleteEntity, getTyped, flag, putEntity, requireOwner, resolveNamespace } from '../entity-access.js';
import { fireTrigger } from '../fire-trigger.js';
import { bodyJsonText, objectBody } from '../http/json-body.js';
import { withJsonText } from '../../entities/json-text.js';
import { parseListQuery } from '../list-query.js';
import { triggerJson, triggerSummary } from '../serialize.js';

type Params = { ns: string; name: string };

/** A `feed` annotation must name an entity: `/ns/pkg/feed`, `ns/pkg/feed` or `pkg/feed`. */
function checkFeedAnnotation(annotations: ReturnType<typeof parseKeyValues>): void {
  const feed = getValue(annotations, 'feed');
  if (feed === undefined) return;
  const parts = typeof feed === 'string' ? feed.replace(/^\//, '').split('/') : [];
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => isValidName(p) || p === '_')) {
    throw badRequest(Messages.feedNotValid, 'FEED_NOT_VALID');
  }
}

export function registerTriggerRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  const { store } = ctx;

  const ownedRef = (req: FastifyRequest<{ Params: Params }>) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    const name = validateName(req.params.name);
    requireOwner(namespace, req.identity, `${namespace}/${name}`);
    return { namespace, name };
  };

  app.get<{ Params: { ns: string } }>('/namespaces/:ns/triggers', async (req) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    requireOwner(namespace, req.identity, namespace);
    const q = parseListQuery(req.query as Record<string, unknown>, 'triggers');
    const where = { type: 'trigger' as const, namespace };
    if (q.count) return { triggers: await store.countEntities(where) };
    return (await store.listEntities({ ...where, limit: q.limit, skip: q.skip })).map((d) => triggerSummary(d as TriggerDoc));
  });

  app.get<{ Params: Params }>('/namespaces/:ns/triggers/:name', async (req) => {
    return triggerJson((await getTyped<TriggerDoc>(store, docId(ownedRef(req)), 'trigger')).doc);
  });

  app.put<{ Params: Params }>('/namespaces/:ns/triggers/:name', async (req) => {
    const ref = ownedRef(req);
    const body = objectBody(req.body);
    const annotations = body.annotations !== undefined ? parseKeyValues(body.annotations, 'annotations') : undefined;
    if (annotations) checkFeedAnnotation(annotations);
    const parameters = body.parameters !== undefined ? parseKeyValues(body.parameters, 'parameters') : undefined;
    const publish = optionalBoolean(body.publish, 'publish');
    const version = body.version !== undefined ? validateVersion(body.version) : undefined;
    const doc = await putEntity<TriggerDoc>(
      store,
      docId(ref),
      'trigger',
      flag((req.query as Record<string, unknown>).overwrite),
      () => ({
        entityType: 'trigger',
        namespace: ref.namespace,
        name: ref.name,
        version: version ?? INITIAL_VERSION,
        publish: publish ?? false,
        parameters: parameters ?? [],
        limits: {},
        annotations: annotations ?? [],
        updated: Date.now(),
      }),
      // Parameters and annotations are replaced wholesale; the rules map is the rules API's.
      (old) => ({
        ...old,
        version: version ?? bumpPatch(old.version),
        publish: publish ?? old.publish,
        parameters: parameters ?? old.parameters,
        annotations: annotations ?? old.annotations,
        updated: Date.now(),
      }),
    );
    return triggerJson(doc);
  });

  app.delete<{ Params: Params }>('/namespaces/:ns/triggers/:name', async (req) => {
    return triggerJson(await deleteEntity<TriggerDoc>(store, docId(ownedRef(req)), 'trigger'));
  });

  app.post<{ Params: Params }>('/namespaces/:ns/triggers/:name', { bodyLimit: 1024 * 1024 }, async (req, reply) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'authorization') headers[k] = v;
    const key = req.headers['x-idempotency-key'];
    if (key !== undefined && typeof key !== 'string') throw badRequest('X-Idempotency-Key must be 1 to 256 characters.', 'BAD_IDEMPOTENCY_KEY');
    const outcome = await fireTrigger(ctx, {
      identity: req.identity,
      namespace: req.params.ns,
      name: req.params.name,
      // The payload's JSON text goes with it: the fire job and the trigger record are written
      // with it instead of stringifying the payload (up to a megabyte) twice more.
      body: withPayloadText(req.body),
      headers,
      transactionId: req.id,
      idempotencyKey: key,
    });
    if (outcome.activationId) reply.header('x-openwhisk-activation-id', outcome.activationId);
    return reply.code(outcome.status).send(outcome.body);
  });
}

/** A fire's body with the JSON text it came as noted on it (see json-text.ts). */
function withPayloadText(body: unknown): unknown {
  const text = bodyJsonText(body);
  return text !== undefined && !Array.isArray(body) ? withJsonText(body as object, text) : body;
}
