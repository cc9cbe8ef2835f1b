import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isSequence, type ActionDoc, type Identity, type PackageDoc } from '../../entities/documents.js';
import { badRequest, forbidden, Messages, notFound } from '../../entities/errors.js';
import { docId, validateName, type EntityRef } from '../../entities/names.js';
import { mergeKeyValues, setValue } from '../../entities/params.js';
import { checkSequence } from '../actions/check-sequence.js';
import { newAction, updatedAction } from '../actions/action-body.js';
import type { ControllerContext } from '../context.js';
import { deleteEntity, findTyped, flag, putEntity, requireOwner, resolveNamespace } from '../entity-access.js';
import { objectBody } from '../http/json-body.js';
import { parseListQuery } from '../list-query.js';
import { readPackage } from '../package-access.js';
import { resolveAction } from '../resolve-action.js';
import { actionJson, actionSummary } from '../serialize.js';
import { parseInvokeQuery } from './invoke-query.js';

type Params = { ns: string; '*': string };

/** `name`, `pkg/name`, or `pkg/` (a package listing), from the tail of an /actions path. */
function parseActionPath(namespace: string, tail: string): { ref?: EntityRef; listPackage?: string } {
  const parts = tail.split('/');
  if (parts.length === 2 && parts[1] === '') return { listPackage: validateName(parts[0]) };
  if (parts.length === 1) return { ref: { namespace, name: validateName(parts[0]) } };
  if (parts.length === 2) return { ref: { namespace, pkg: validateName(parts[0]), name: validateName(parts[1]) } };
  throw notFound();
}

export function registerActionRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  const { store, config } = ctx;

  const target = (req: FastifyRequest<{ Params: Params }>) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    return { namespace, ...parseActionPath(namespace, req.params['*']) };
  };

  const list = async (namespace: string, pkg: string | undefined, query: Record<string, unknown>, identity: Identity) => {
    const q = parseListQuery(query, 'actions');
    let scope = namespace;
    if (pkg) {
      // A binding lists the actions of the package it binds to, while that package is readable.
      const { pkg: p, target } = await readPackage(store, { namespace, name: pkg }, identity);
      scope = target ? `${target.namespace}/${target.name}` : `${p.namespace}/${p.name}`;
    }
    const where = { type: 'action' as const, namespace: scope, includePackages: !pkg };
    if (q.count) return { actions: await store.countEntities(where) };
    return (await store.listEntities({ ...where, limit: q.limit, skip: q.skip })).map((d) => actionSummary(d as ActionDoc));
  };

  app.get<{ Params: { ns: string } }>('/namespaces/:ns/actions', async (req) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    requireOwner(namespace, req.identity, namespace);
    return list(namespace, undefined, req.query as Record<string, unknown>, req.identity);
  });

  app.get<{ Params: Params }>('/namespaces/:ns/actions/*', async (req) => {
    const t = target(req);
    if (t.listPackage !== undefined || !t.ref) {
      // `pkg/` lists one package: allowed to whoever may read the package (OpenWhisk checks READ
      // on the package, not ownership), so a published package's actions list for everyone.
      return list(t.namespace, t.listPackage, req.query as Record<string, unknown>, req.identity);
    }
    const resolved = await resolveAction(store, t.ref, req.identity);
    const withCode = (req.query as Record<string, unknown>).code !== 'false';
    let action = resolved.action;
    if (resolved.pkg && resolved.binding) {
      // Seen through a binding: package < binding < action parameters, as an invoke would merge them.
      const params = mergeKeyValues(mergeKeyValues(resolved.pkg.parameters, resolved.binding.parameters), action.parameters);
      action = {
        ...action,
        parameters: params,
        annotations: setValue(action.annotations, 'binding', `${resolved.binding.namespace}/${resolved.binding.name}`),
      };
    }
    return actionJson(action, withCode);
  });

  app.put<{ Params: Params }>('/namespaces/:ns/actions/*', async (req) => {
    const t = target(req);
    if (!t.ref) throw notFound();
    const ref = t.ref;
    if (ref.namespace !== req.identity.namespace) throw forbidden(docId(ref));
    const body = objectBody(req.body);
    if (ref.pkg) {
      const pkg = await findTyped<PackageDoc>(store, docId({ namespace: ref.namespace, name: ref.pkg }), 'package');
      if (!pkg) throw notFound();
      if (pkg.doc.binding) throw badRequest(Messages.bindingOperation, 'BINDING_OPERATION');
    }
    const overwrite = flag((req.query as Record<string, unknown>).overwrite);
    const doc = await putEntity<ActionDoc>(
      store,
      docId(ref),
      'action',
      overwrite,
      async () => {
        const a = newAction(ref, body, req.identity, config.limitBounds);
        if (isSequence(a.exec)) await checkSequence(store, req.identity, ref, a.exec.components, config.sequenceMaxLength);
        return a;
      },
      async (old) => {
        const a = updatedAction(old, body, req.identity, config.limitBounds);
        if (isSequence(a.exec) && body.exec !== undefined) {
          await checkSequence(store, req.identity, ref, a.exec.components, config.sequenceMaxLength);
        }
        return a;
      },
    );
    return actionJson(doc);
  });

  app.delete<{ Params: Params }>('/namespaces/:ns/actions/*', async (req) => {
    const t = target(req);
    if (!t.ref) throw notFound();
    const ref = t.ref;
    if (ref.namespace !== req.identity.namespace) throw forbidden(docId(ref));
    if (ref.pkg) {
      const pkg = await findTyped<PackageDoc>(store, docId({ namespace: ref.namespace, name: ref.pkg }), 'package');
      if (pkg?.doc.binding) throw badRequest(Messages.bindingOperation, 'BINDING_OPERATION');
    }
    return actionJson(await deleteEntity<ActionDoc>(store, docId(ref), 'action'));
  });

  // Invoke: throttled before anything else (OpenWhisk checks entitlement and rate first, so an
  // over-limit caller gets 429 even for a missing action), then resolved, then handed on.
  app.post<{ Params: Params }>('/namespaces/:ns/actions/*', { bodyLimit: 1024 * 1024 }, async (req, reply) => {
    const t = target(req);
    if (!t.ref) throw notFound();
    const q = parseInvokeQuery(req.query as Record<string, unknown>);
    await ctx.throttles.checkInvoke(req.identity);
    const payload = objectBody(req.body, 'invocation payload');
    const resolved = await resolveAction(store, t.ref, req.identity);
    const outcome = await ctx.activations.invoke({
      resolved,
      identity: req.identity,
      action: t.ref,
      payload,
      blocking: q.blocking,
      resultOnly: q.result,
      waitMs: q.timeout,
      transactionId: req.id,
    });
    if (outcome.activationId) reply.header('x-openwhisk-activation-id', outcome.activationId);
    return reply.code(outcome.status).send(outcome.body);
  });
}

