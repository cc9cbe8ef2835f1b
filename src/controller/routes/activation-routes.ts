import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../../entities/errors.js';
import { validateActivationId } from '../../entities/ids.js';
import { validateName } from '../../entities/names.js';
import type { ControllerContext } from '../context.js';
import { requireOwner, resolveNamespace } from '../entity-access.js';
import { parseListQuery } from '../list-query.js';
import { activationJson, activationSummary, statusText } from '../serialize.js';

type Params = { ns: string; id: string };

/** Epoch milliseconds (OpenWhisk reads a JVM Long; past 2^53 no instant is meant either). */
function epochMs(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(Number(value))) {
    throw badRequest(`Parameter is not a valid value for epoch seconds: ${String(value)}`, 'BAD_QUERY');
  }
  return Number(value);
}

/** `name` is `action` or `pkg/action`. */
function nameFilter(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const parts = String(value).replace(/^\//, '').split('/');
  if (parts.length > 2) throw badRequest(`The name '${String(value)}' must be 'action' or 'package/action'.`, 'BAD_QUERY');
  return parts.map(validateName).join('/');
}

export function registerActivationRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  const { store } = ctx;

  const owned = (req: FastifyRequest<{ Params: { ns: string } }>) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    requireOwner(namespace, req.identity, namespace);
    return namespace;
  };

  const load = async (req: FastifyRequest<{ Params: Params }>) => {
    const namespace = owned(req);
    const doc = await store.getActivation(namespace, validateActivationId(req.params.id));
    if (!doc) throw notFound();
    return doc;
  };

  app.get<{ Params: { ns: string } }>('/namespaces/:ns/activations', async (req) => {
    const namespace = owned(req);
    const query = req.query as Record<string, unknown>;
    const q = parseListQuery(query, 'activations');
    const docs = query.docs === 'true';
    if (docs && q.count) throw badRequest("The parameter 'docs' is not permitted with 'count'.", 'BAD_QUERY');
    const where = { namespace, name: nameFilter(query.name), since: epochMs(query.since), upto: epochMs(query.upto) };
    if (q.count) return { activations: await store.countActivations(where) };
    const list = await store.listActivations({ ...where, limit: q.limit, skip: q.skip });
    return list.map(docs ? activationJson : activationSummary);
  });

  app.get<{ Params: Params }>('/namespaces/:ns/activations/:id', async (req) => activationJson(await load(req)));

  app.get<{ Params: Params }>('/namespaces/:ns/activations/:id/logs', async (req) => ({ logs: (await load(req)).logs }));

  app.get<{ Params: Params }>('/namespaces/:ns/activations/:id/result', async (req) => {
    const { response } = await load(req);
    const out: Record<string, unknown> = {
      result: response.result ?? {},
      success: response.statusCode === 0,
      status: response.status ?? statusText(response.statusCode),
    };
    if (response.size !== undefined) out.size = response.size;
    return out;
  });
}
