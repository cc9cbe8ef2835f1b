import { isSequence, type ActionDoc, type ActivationDoc, type EntityDoc, type PackageDoc, type RuleDoc, type TriggerDoc } from '../entities/documents.js';

/** What clients see: the stored document without our internal fields, in OpenWhisk's shape. */
export function actionJson(doc: ActionDoc, withCode = true) {
  const { entityType: _t, ...rest } = doc;
  if (withCode || isSequence(doc.exec)) return rest;
  const { code: _c, ...exec } = doc.exec;
  return { ...rest, exec };
}

export function actionSummary(doc: ActionDoc) {
  return {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    limits: doc.limits,
    exec: { binary: isSequence(doc.exec) ? false : doc.exec.binary },
    updated: doc.updated,
  };
}

export function triggerJson(doc: TriggerDoc) {
  const { entityType: _t, ...rest } = doc;
  return rest;
}

export function triggerSummary(doc: TriggerDoc) {
  return {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    updated: doc.updated,
  };
}

export function ruleJson(doc: RuleDoc, status?: 'active' | 'inactive') {
  const { entityType: _t, ...rest } = doc;
  return status ? { ...rest, status } : rest;
}

export function packageJson(doc: PackageDoc) {
  const { entityType: _t, binding, ...rest } = doc;
  return { ...rest, binding: binding ?? {} };
}

export function packageSummary(doc: PackageDoc) {
  return {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    updated: doc.updated,
    binding: doc.binding ?? false,
  };
}

export function summary(doc: EntityDoc) {
  switch (doc.entityType) {
    case 'action':
      return actionSummary(doc);
    case 'trigger':
      return triggerSummary(doc);
    case 'rule':
      return ruleJson(doc);
    case 'package':
      return packageSummary(doc);
  }
}

/** The REST record: internal fields dropped, and `response.statusCode` hidden as OpenWhisk does. */
export function activationJson(doc: ActivationDoc) {
  const { entityPaths: _p, response, end, duration, ...rest } = doc;
  const { statusCode, ...resp } = response;
  const out: Record<string, unknown> = { ...rest, response: { ...resp, status: resp.status ?? statusText(statusCode), success: statusCode === 0 } };
  if (end) out.end = end;
  if (end && duration !== undefined) out.duration = duration;
  return out;
}

export function activationSummary(doc: ActivationDoc) {
  const out: Record<string, unknown> = {
    namespace: doc.namespace,
    name: doc.name,
    version: doc.version,
    publish: doc.publish,
    annotations: doc.annotations,
    activationId: doc.activationId,
    start: doc.start,
  };
  if (doc.end) {
    out.end = doc.end;
    out.duration = doc.duration;
    out.statusCode = doc.response.statusCode;
  }
  if (doc.cause) out.cause = doc.cause;
  return out;
}

export function statusText(code: number): string {
  return ['success', 'application error', 'action developer error', 'whisk internal error'][code] ?? 'whisk internal error';
}
