import type { IncomingHttpHeaders } from 'node:http';
import type { Identity } from '../../entities/documents.js';
import { HubError, notFound } from '../../entities/errors.js';
import type { KeyValue } from '../../entities/params.js';
import { getValue } from '../../entities/params.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import type { Authenticator } from '../auth/authenticator.js';

/** A web action runs as (and is charged to) its owner; an unknown or blocked namespace is a 404. */
export async function ownerIdentity(store: ArtifactStore, namespace: string): Promise<Identity> {
  const subject = await store.findSubjectByNamespace(namespace);
  const ns = subject?.namespaces.find((n) => n.name === namespace);
  if (!subject || !ns || subject.blocked) throw notFound();
  return { subject: subject.subject, namespace: ns.name, uuid: ns.uuid, key: ns.key, limits: subject.limits ?? {} };
}

/** Web requests need no credentials; valid ones identify the caller, invalid ones are ignored. */
export async function optionalCaller(auth: Authenticator, header: string | undefined): Promise<Identity | undefined> {
  if (!header) return undefined;
  try {
    return await auth.authenticate(header);
  } catch {
    return undefined;
  }
}

export const unauthorized = () => new HubError(401, 'WEB_UNAUTHORIZED', 'Authentication is possible but has failed or not yet been provided.');

/**
 * `require-whisk-auth`: `true` wants valid OpenWhisk credentials of any subject; a string or a
 * number must equal the `X-Require-Whisk-Auth` header. Absent (or false) means open to all.
 */
export function mayInvoke(annotations: KeyValue[], headers: IncomingHttpHeaders, caller: Identity | undefined): boolean {
  const required = getValue(annotations, 'require-whisk-auth');
  if (required === undefined || required === null || required === false) return true;
  if (required === true) return caller !== undefined;
  if (typeof required === 'string' || typeof required === 'number') return headers['x-require-whisk-auth'] === String(required);
  return false;
}
