import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ActionDoc, PackageDoc } from '../../entities/documents.js';
import { badRequest, conflict, forbidden, Messages, methodNotAllowed } from '../../entities/errors.js';
import { docId, validateName, validateNamespace } from '../../entities/names.js';
import { getValue, mergeKeyValues, parseKeyValues, setValue, withoutKeys, type KeyValue } from '../../entities/params.js';
import { bumpPatch, INITIAL_VERSION, validateVersion } from '../../entities/semver.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { optionalBoolean } from '../actions/action-body.js';
import type { ControllerContext } from '../context.js';
import { deleteEntity, findTyped, flag, getTyped, putEntity, resolveNamespace } from '../entity-access.js';
import { objectBody } from '../http/json-body.js';
import { parseListQuery } from '../list-query.js';
import { readPackage, type ReadablePackage } from '../package-access.js';
import { packageJson, packageSummary } from '../serialize.js';

type Params = { ns: string; name: string };

/** Validates a binding target: it must exist, be a package, not a binding, and be readable. */
async function checkBinding(store: ArtifactStore, raw: unknown, caller: string): Promise<{ namespace: string; name: string }> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest(`The request content was malformed:\nbinding must be an object`, 'MALFORMED');
  const b = raw as { namespace?: unknown; name?: unknown };
  if (typeof b.namespace !== 'string' || typeof b.name !== 'string') {
    throw badRequest(`The request content was malformed:\nbinding needs a namespace and a name`, 'MALFORMED');
  }
  const target = { namespace: b.namespace === '_' ? caller : validateNamespace(b.namespace), name: validateName(b.name) };
  const got = await store.getEntity(docId(target));
  const own = target.namespace === caller;
  if (!got) {
    if (own) throw badRequest(Messages.bindingMissing, 'BINDING_MISSING');
    throw forbidden(docId(target));
  }
  if (got.doc.entityType !== 'package') throw conflict(Messages.bindingNotPackage, 'BINDING_NOT_PACKAGE');
  const pkg = got.doc as PackageDoc;
  if (!own && !pkg.publish) throw forbidden(docId(target));
  if (pkg.binding) throw badRequest(Messages.bindingToBinding, 'BINDING_TO_BINDING');
  return target;
}

/** A package as GET shows it: with its actions and feeds; a binding shows its target's, params overlaid. */
async function withContents(store: ArtifactStore, { pkg, target }: ReadablePackage) {
  const source = target ?? pkg;
  const parameters = target ? mergeKeyValues(target.parameters, pkg.parameters) : pkg.parameters;
  const actions = (await store.listEntities({ type: 'action', namespace: `${source.namespace}/${source.name}`, limit: 10_000, skip: 0 })) as ActionDoc[];
  const brief = (a: ActionDoc) => ({ name: a.name, version: a.version, annotations: a.annotations });
  return {
    ...packageJson({ ...pkg, parameters }),
    actions: actions.filter((a) => getValue(a.annotations, 'feed') === undefined).map(brief),
    feeds: actions.filter((a) => getValue(a.annotations, 'feed') !== undefined).map(brief),
  };
}

export function registerPackageRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  const { store } = ctx;

  const refOf = (req: FastifyRequest<{ Params: Params }>) => ({
    namespace: resolveNamespace(req.params.ns, req.identity),
    name: validateName(req.params.name),
  });

  app.get<{ Params: { ns: string } }>('/namespaces/:ns/packages', async (req) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    const q = parseListQuery(req.query as Record<string, unknown>, 'packages');
    const where = { type: 'package' as const, namespace };
    let docs: PackageDoc[];
    if (namespace === req.identity.namespace) {
      if (q.count) return { packages: await store.countEntities(where) };
      docs = (await store.listEntities({ ...where, limit: q.limit, skip: q.skip })) as PackageDoc[];
    } else {
      // Others see only public packages that are not bindings.
      const all = (await store.listEntities({ ...where, limit: 100_000, skip: 0 })) as PackageDoc[];
      const visible = all.filter((p) => p.publish && !p.binding);
      if (q.count) return { packages: visible.length };
      docs = visible.slice(q.skip, q.skip + q.limit);
    }
    return docs.map(packageSummary);
  });

  app.get<{ Params: Params }>('/namespaces/:ns/packages/:name', async (req) => {
    const ref = refOf(req);
    return withContents(store, await readPackage(store, ref, req.identity, `The requested resource '${docId(ref)}' does not exist.`));
  });

  app.put<{ Params: Params }>('/namespaces/:ns/packages/:name', async (req) => {
    const ref = refOf(req);
    if (ref.namespace !== req.identity.namespace) throw forbidden(docId(ref));
    if (ref.name === 'default') throw badRequest(Messages.defaultPackageReserved, 'RESERVED_NAME');
    const body = objectBody(req.body);
    const parameters = body.parameters !== undefined ? parseKeyValues(body.parameters, 'parameters') : undefined;
    const annotations = body.annotations !== undefined ? parseKeyValues(body.annotations, 'annotations') : undefined;
    const publish = optionalBoolean(body.publish, 'publish');
    const version = body.version !== undefined ? validateVersion(body.version) : undefined;
    const wantsBinding = body.binding !== undefined && body.binding !== null && !isEmptyObject(body.binding);
    const binding = wantsBinding ? await checkBinding(store, body.binding, req.identity.namespace) : undefined;

    const doc = await putEntity<PackageDoc>(
      store,
      docId(ref),
      'package',
      flag((req.query as Record<string, unknown>).overwrite),
      () => ({
        entityType: 'package',
        namespace: ref.namespace,
        name: ref.name,
        version: version ?? INITIAL_VERSION,
        publish: publish ?? false,
        parameters: parameters ?? [],
        annotations: withBindingAnnotation(annotations ?? [], binding),
        updated: Date.now(),
        ...(binding ? { binding } : {}),
      }),
      (old) => {
        if (binding && !old.binding) throw conflict(Messages.packageToBinding, 'PACKAGE_TO_BINDING');
        return {
          ...old,
          version: version ?? bumpPatch(old.version),
          publish: publish ?? old.publish,
          parameters: parameters ?? old.parameters,
          annotations: withBindingAnnotation(annotations ?? old.annotations, binding ?? old.binding),
          updated: Date.now(),
          ...(binding ? { binding } : {}),
        };
      },
    );
    return packageJson(doc);
  });

  app.delete<{ Params: Params }>('/namespaces/:ns/packages/:name', async (req) => {
    const ref = refOf(req);
    if (ref.namespace !== req.identity.namespace) throw forbidden(docId(ref));
    const pkg = (await getTyped<PackageDoc>(store, docId(ref), 'package')).doc;
    if (!pkg.binding) {
      const scope = `${ref.namespace}/${ref.name}`;
      const count = await store.countEntities({ type: 'action', namespace: scope });
      if (count > 0) {
        if (!flag((req.query as Record<string, unknown>).force)) {
          throw conflict(`Package not empty (contains ${count} ${count === 1 ? 'entity' : 'entities'}). Set force param or delete package contents.`, 'PACKAGE_NOT_EMPTY');
        }
        const actions = await store.listEntities({ type: 'action', namespace: scope, limit: count, skip: 0 });
        for (const a of actions) {
          const got = await findTyped<ActionDoc>(store, `${scope}/${a.name}`, 'action');
          if (got) await store.deleteEntity(`${scope}/${a.name}`, got.rev);
        }
      }
    }
    return packageJson(await deleteEntity<PackageDoc>(store, docId(ref), 'package'));
  });

  app.post('/namespaces/:ns/packages/:name', async () => {
    throw methodNotAllowed();
  });
}

/**
 * The `binding` annotation is the server's, as in OpenWhisk: clients that only fetch package lists
 * read it to tell bindings apart. A caller's own `binding` annotation is dropped, and a binding's
 * is rewritten on every PUT, so an annotations-only update cannot lose it.
 */
function withBindingAnnotation(annotations: KeyValue[], binding: PackageDoc['binding']): KeyValue[] {
  const rest = withoutKeys(annotations, ['binding']);
  return binding ? setValue(rest, 'binding', binding) : rest;
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}
