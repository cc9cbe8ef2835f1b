import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity, RuleDoc, RuleLink } from '../../entities/documents.js';
import { badRequest, conflict, HubError, Messages, notFound } from '../../entities/errors.js';
import { docId, parseQualifiedName, validateName, type EntityRef } from '../../entities/names.js';
import { getValue, parseKeyValues, type KeyValue } from '../../entities/params.js';
import { FilterError, validateFilter } from '../../triggers/rule-filter.js';
import { bumpPatch, INITIAL_VERSION, validateVersion } from '../../entities/semver.js';
import { StoreConflictError, type ArtifactStore } from '../../store/artifact-store.js';
import { optionalBoolean } from '../actions/action-body.js';
import type { ControllerContext } from '../context.js';
import { deleteEntity, findTyped, flag, getTyped, putEntity, requireOwner, resolveNamespace } from '../entity-access.js';
import { objectBody } from '../http/json-body.js';
import { parseListQuery } from '../list-query.js';
import { resolveAction } from '../resolve-action.js';
import { ruleIdOf, ruleStatus, triggerIdOf, updateTriggerLink } from '../rules/trigger-links.js';
import { ruleJson } from '../serialize.js';

type Params = { ns: string; name: string };

/** A rule's trigger or action as sent: `"/ns[/pkg]/name"` or `{path, name}`. */
function parseRef(value: unknown, caller: string, what: 'trigger' | 'action'): EntityRef {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as { path?: unknown; name?: unknown };
    if (typeof v.path !== 'string' || typeof v.name !== 'string') throw badRequest(Messages.ruleNeedsBoth, 'RULE_MALFORMED');
    return parseQualifiedName(`/${v.path}/${v.name}`, caller, what);
  }
  if (typeof value !== 'string' || value === '') throw badRequest(Messages.ruleNeedsBoth, 'RULE_MALFORMED');
  const ref = parseQualifiedName(value, caller, what);
  if (what === 'trigger' && ref.pkg) throw badRequest(`trigger ${value} does not exist`, 'RULE_TRIGGER_MISSING');
  return ref;
}

/** Both ends must exist and be readable by the caller; missing ones are a 400, as OpenWhisk says it. */
async function checkEnds(store: ArtifactStore, identity: Identity, trigger: EntityRef, action: EntityRef) {
  requireOwner(trigger.namespace, identity, docId(trigger));
  const t = await store.getEntity(docId(trigger));
  if (!t || t.doc.entityType !== 'trigger') throw badRequest(`trigger /${docId(trigger)} does not exist`, 'RULE_TRIGGER_MISSING');
  try {
    await resolveAction(store, action, identity);
  } catch (err) {
    if (err instanceof HubError && (err.status === 404 || err.status === 409)) {
      throw badRequest(`action /${docId(action)} does not exist`, 'RULE_ACTION_MISSING');
    }
    throw err;
  }
}

/** The trigger's entry for a rule: its action, status and (beyond OpenWhisk) its filter. */
const link = (rule: RuleDoc, status: 'active' | 'inactive'): RuleLink => {
  const filter = getValue(rule.annotations, 'filter') as Record<string, unknown> | undefined;
  return { action: rule.action, status, ...(filter !== undefined ? { filter } : {}) };
};

/** A `filter` annotation must be a valid pattern: a bad one is a 400, never a silent no-match. */
function checkFilter(annotations: KeyValue[] | undefined): void {
  const filter = getValue(annotations, 'filter');
  if (filter === undefined) return;
  try {
    validateFilter(filter);
  } catch (err) {
    if (err instanceof FilterError) throw badRequest(`Invalid rule filter: ${err.message}.`, 'BAD_FILTER');
    throw err;
  }
}

export function registerRuleRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  const { store } = ctx;

  const ownedRef = (req: FastifyRequest<{ Params: Params }>) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    const name = validateName(req.params.name);
    requireOwner(namespace, req.identity, `${namespace}/${name}`);
    return { namespace, name };
  };

  app.get<{ Params: { ns: string } }>('/namespaces/:ns/rules', async (req) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    requireOwner(namespace, req.identity, namespace);
    const q = parseListQuery(req.query as Record<string, unknown>, 'rules');
    const where = { type: 'rule' as const, namespace };
    if (q.count) return { rules: await store.countEntities(where) };
    return (await store.listEntities({ ...where, limit: q.limit, skip: q.skip })).map((d) => ruleJson(d as RuleDoc));
  });

  app.get<{ Params: Params }>('/namespaces/:ns/rules/:name', async (req) => {
    const rule = (await getTyped<RuleDoc>(store, docId(ownedRef(req)), 'rule')).doc;
    return ruleJson(rule, await ruleStatus(store, rule));
  });

  app.put<{ Params: Params }>('/namespaces/:ns/rules/:name', async (req) => {
    const ref = ownedRef(req);
    const body = objectBody(req.body);
    const overwrite = flag((req.query as Record<string, unknown>).overwrite);
    const annotations = body.annotations !== undefined ? parseKeyValues(body.annotations, 'annotations') : undefined;
    checkFilter(annotations);
    const publish = optionalBoolean(body.publish, 'publish');
    const version = body.version !== undefined ? validateVersion(body.version) : undefined;
    const existing = await findTyped<RuleDoc>(store, docId(ref), 'rule');
    const oldStatus = existing ? await ruleStatus(store, existing.doc) : 'active';

    const ends = async (old?: RuleDoc) => {
      const hasTrigger = body.trigger !== undefined && body.trigger !== null && body.trigger !== '';
      const hasAction = body.action !== undefined && body.action !== null && body.action !== '';
      if (!old && (!hasTrigger || !hasAction)) throw badRequest(Messages.ruleNeedsBoth, 'RULE_MALFORMED');
      const trigger = hasTrigger ? parseRef(body.trigger, ref.namespace, 'trigger') : parseQualifiedName(`/${old!.trigger.path}/${old!.trigger.name}`, ref.namespace);
      const action = hasAction ? parseRef(body.action, ref.namespace, 'action') : parseQualifiedName(`/${old!.action.path}/${old!.action.name}`, ref.namespace);
      await checkEnds(store, req.identity, trigger, action);
      const path = (r: EntityRef) => (r.pkg ? `${r.namespace}/${r.pkg}` : r.namespace);
      return { trigger: { path: path(trigger), name: trigger.name }, action: { path: path(action), name: action.name } };
    };

    const doc = await putEntity<RuleDoc>(
      store,
      docId(ref),
      'rule',
      overwrite,
      async () => ({
        entityType: 'rule',
        namespace: ref.namespace,
        name: ref.name,
        version: version ?? INITIAL_VERSION,
        publish: publish ?? false,
        annotations: annotations ?? [],
        updated: Date.now(),
        ...(await ends()),
      }),
      async (old) => ({
        ...old,
        version: version ?? bumpPatch(old.version),
        publish: publish ?? old.publish,
        annotations: annotations ?? old.annotations,
        updated: Date.now(),
        ...(await ends(old)),
      }),
    );
    // The link on the trigger is what makes the rule fire; move it if the trigger changed.
    if (existing && triggerIdOf(existing.doc) !== triggerIdOf(doc)) {
      await updateTriggerLink(store, triggerIdOf(existing.doc), ruleIdOf(doc), undefined);
    }
    await updateTriggerLink(store, triggerIdOf(doc), ruleIdOf(doc), link(doc, oldStatus));
    return ruleJson(doc, oldStatus);
  });

  app.post<{ Params: Params }>('/namespaces/:ns/rules/:name', async (req) => {
    const ref = ownedRef(req);
    const status = objectBody(req.body).status;
    if (status !== 'active' && status !== 'inactive') {
      throw badRequest("Rule status must be either 'active' or 'inactive'.", 'RULE_BAD_STATUS');
    }
    const rule = (await getTyped<RuleDoc>(store, docId(ref), 'rule')).doc;
    try {
      const linked = await updateTriggerLink(store, triggerIdOf(rule), ruleIdOf(rule), link(rule, status));
      if (!linked) throw notFound('Only rules with existing triggers can be activated');
    } catch (err) {
      if (err instanceof StoreConflictError) throw conflict(Messages.concurrentModification, 'CONCURRENT_MODIFICATION');
      throw err;
    }
    return ruleJson(rule, status);
  });

  app.delete<{ Params: Params }>('/namespaces/:ns/rules/:name', async (req) => {
    const rule = await deleteEntity<RuleDoc>(store, docId(ownedRef(req)), 'rule');
    await updateTriggerLink(store, triggerIdOf(rule), ruleIdOf(rule), undefined);
    return ruleJson(rule, 'inactive');
  });
}

