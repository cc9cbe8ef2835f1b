import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../entities/errors.js';
import { validateActivationId } from '../../entities/ids.js';
import { parseQualifiedName } from '../../entities/names.js';
import { DeadLetters } from '../../triggers/dead-letters.js';
import type { ControllerContext } from '../context.js';
import { requireOwner, resolveNamespace } from '../entity-access.js';
import { parseListQuery } from '../list-query.js';
import { resolveAction } from '../resolve-action.js';

type Params = { ns: string; id: string };

/**
 * `/namespaces/{ns}/deadletters`: rule invocations that failed after their retries. List, show,
 * replay (invoke the action again with the same arguments; the letter is removed once the new
 * activation is accepted) and delete. Owner only.
 */
export function registerDeadLetterRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  const letters = new DeadLetters(ctx.store);

  const owned = (req: FastifyRequest<{ Params: { ns: string } }>) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    requireOwner(namespace, req.identity, namespace);
    return namespace;
  };
  const load = async (req: FastifyRequest<{ Params: Params }>) => {
    const namespace = owned(req);
    const got = await letters.get(namespace, validateActivationId(req.params.id));
    if (!got) throw notFound();
    return { namespace, got };
  };

  app.get<{ Params: { ns: string } }>('/namespaces/:ns/deadletters', async (req) => {
    const namespace = owned(req);
    const q = parseListQuery(req.query as Record<string, unknown>, 'deadletters');
    const list = await letters.list(namespace, q.count ? 100_000 : q.limit, q.count ? 0 : q.skip);
    return q.count ? { deadletters: list.length } : list;
  });

  app.get<{ Params: Params }>('/namespaces/:ns/deadletters/:id', async (req) => (await load(req)).got.doc);

  app.delete<{ Params: Params }>('/namespaces/:ns/deadletters/:id', async (req) => {
    const { namespace, got } = await load(req);
    await letters.remove(namespace, got.doc.id, got.rev);
    return got.doc;
  });

  app.post<{ Params: Params }>('/namespaces/:ns/deadletters/:id/replay', async (req, reply) => {
    const { namespace, got } = await load(req);
    const letter = got.doc;
    await ctx.throttles.checkInvoke(req.identity);
    const ref = parseQualifiedName(`/${letter.action.path}/${letter.action.name}`, namespace);
    const resolved = await resolveAction(ctx.store, ref, req.identity);
    const out = await ctx.activations.invoke({
      identity: req.identity,
      action: ref,
      resolved,
      payload: letter.args,
      blocking: false,
      resultOnly: false,
      waitMs: 0,
      transactionId: req.id,
      idempotencyKey: `replay:${letter.id}`,
    });
    await letters.remove(namespace, letter.id, got.rev);
    if (out.activationId) reply.header('x-openwhisk-activation-id', out.activationId);
    return reply.code(202).send({ activationId: out.activationId, deadLetter: letter.id });
  });
}
