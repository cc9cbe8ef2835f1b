import { isSequence, type ActionDoc, type Identity } from '../../entities/documents.js';
import { badRequest } from '../../entities/errors.js';
import { DEFAULT_LIMITS, parseLimits, type LimitBounds } from '../../entities/limits.js';
import { entityNamespace, type EntityRef } from '../../entities/names.js';
import { getValue, mergeKeyValues, parseKeyValues, setValue, withoutKeys } from '../../entities/params.js';
import { bumpPatch, INITIAL_VERSION, validateVersion } from '../../entities/semver.js';
import { parseExec } from './parse-exec.js';

const malformed = (why: string) => badRequest(`The request content was malformed:\n${why}`, 'MALFORMED');

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw malformed(`${field} must be a boolean`);
  return value;
}

function delAnnotations(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string')) throw malformed('delAnnotations must be an array of strings');
  return value as string[];
}

/** A new action from a PUT body: defaults filled, system annotations added. */
export function newAction(ref: EntityRef, body: Record<string, unknown>, identity: Identity, bounds: LimitBounds): ActionDoc {
  const exec = parseExec(body.exec, identity.namespace);
  delAnnotations(body.delAnnotations); // nothing to delete yet, but a malformed field is a 400 on create too

  let annotations = parseKeyValues(body.annotations, 'annotations');
  if (getValue(annotations, 'provide-api-key') === undefined) annotations = setValue(annotations, 'provide-api-key', false);
  annotations = setValue(annotations, 'exec', exec.kind);
  const parameters =
    isSequence(exec) ? [{ key: '_actions', value: exec.components }] : parseKeyValues(body.parameters, 'parameters');
  return {
    entityType: 'action',
    namespace: entityNamespace(ref),
    name: ref.name,
    version: body.version !== undefined ? validateVersion(body.version) : INITIAL_VERSION,
    publish: optionalBoolean(body.publish, 'publish') ?? false,
    exec,
    parameters,
    limits: parseLimits(body.limits, DEFAULT_LIMITS, bounds),
    annotations,
    updated: Date.now(),
  };
}

/**
 * OpenWhisk's action update: fields present replace the old ones, annotations merge (after
 * `delAnnotations` removed keys), limits merge per field, the patch version goes up.
 */
export function updatedAction(old: ActionDoc, body: Record<string, unknown>, identity: Identity, bounds: LimitBounds): ActionDoc {
  const exec = body.exec !== undefined ? parseExec(body.exec, identity.namespace) : old.exec;
  let parameters = old.parameters;
  if (isSequence(exec)) parameters = [{ key: '_actions', value: exec.components }];
  else if (body.parameters !== undefined) parameters = parseKeyValues(body.parameters, 'parameters');
  else if (old.exec.kind === 'sequence') parameters = [];
  let annotations = withoutKeys(old.annotations, delAnnotations(body.delAnnotations));
  if (body.annotations !== undefined) annotations = mergeKeyValues(annotations, parseKeyValues(body.annotations, 'annotations'));
  annotations = setValue(annotations, 'exec', exec.kind);
  return {
    ...old,
    version: body.version !== undefined ? validateVersion(body.version) : bumpPatch(old.version),
    publish: optionalBoolean(body.publish, 'publish') ?? old.publish,
    exec,
    parameters,
    limits: parseLimits(body.limits, old.limits, bounds),
    annotations,
    updated: Date.now(),
  };
}
