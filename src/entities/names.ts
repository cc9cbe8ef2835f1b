import { badRequest, Messages } from './errors.js';

/** OpenWhisk's entity name rule (EntityName.REGEX): 1–256 chars, no leading punctuation, no trailing space. */
const NAME = /^(?:[\w]|[\w][\w@ .&-]{0,254}[\w@.&-])$/;
export const MAX_NAME_LENGTH = 256;

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

export function validateName(name: string): string {
  if (name.length > MAX_NAME_LENGTH) {
    throw badRequest(`Name segement longer than allowed: ${name.length} > ${MAX_NAME_LENGTH}.`, 'NAME_TOO_LONG');
  }
  if (!isValidName(name)) throw badRequest(Messages.illegalName, 'ILLEGAL_NAME');
  return name;
}

export function validateNamespace(ns: string): string {
  if (ns.length > MAX_NAME_LENGTH) {
    throw badRequest(`Namespace longer than allowed: ${ns.length} > ${MAX_NAME_LENGTH}.`, 'NAME_TOO_LONG');
  }
  if (!isValidName(ns)) throw badRequest(Messages.illegalNamespace, 'ILLEGAL_NAMESPACE');
  return ns;
}

/** A fully qualified entity name: namespace, optional package, name. */
export interface EntityRef {
  namespace: string;
  pkg?: string;
  name: string;
}

/** `ns/name` or `ns/pkg/name`: the document id, also the `path` of an entity. */
export function docId(ref: EntityRef): string {
  return ref.pkg ? `${ref.namespace}/${ref.pkg}/${ref.name}` : `${ref.namespace}/${ref.name}`;
}

/** The `namespace` field of an entity document: `ns` or `ns/pkg`. */
export function entityNamespace(ref: EntityRef): string {
  return ref.pkg ? `${ref.namespace}/${ref.pkg}` : ref.namespace;
}

/** The root namespace of a (possibly packaged) namespace path `ns/pkg`. */
export function rootNamespace(path: string): string {
  const i = path.indexOf('/');
  return i < 0 ? path : path.slice(0, i);
}

/** Parses an entity path field such as `guest/pkg` into namespace and package. */
export function splitPath(path: string): { namespace: string; pkg?: string } {
  const [namespace, pkg] = path.split('/');
  return pkg ? { namespace, pkg } : { namespace };
}

/**
 * Resolves a fully qualified name as written in JSON bodies (rules, sequences, bindings):
 * `/ns/name` or `/ns/pkg/name`, with `_` standing for the caller's namespace. A bare name with no
 * namespace is refused, as OpenWhisk does.
 */
export function parseQualifiedName(value: string, callerNamespace: string, what = 'entity'): EntityRef {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw badRequest(
      `The fully qualified name of the ${what} '${value}' must contain at least the namespace and the name of the entity.`,
      'UNQUALIFIED_NAME',
    );
  }
  const parts = value.slice(1).split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw badRequest(
      `The fully qualified name of the ${what} '${value}' must contain at least the namespace and the name of the entity.`,
      'UNQUALIFIED_NAME',
    );
  }
  const namespace = parts[0] === '_' ? callerNamespace : validateNamespace(parts[0]);
  if (parts.length === 3) return { namespace, pkg: validateName(parts[1]), name: validateName(parts[2]) };
  return { namespace, name: validateName(parts[1]) };
}

/** Renders an EntityRef as `/ns[/pkg]/name`. */
export function qualifiedName(ref: EntityRef): string {
  return `/${docId(ref)}`;
}
