import type { ActionDoc, Identity, PackageDoc } from '../entities/documents.js';
import { forbidden, notFound } from '../entities/errors.js';
import { docId, type EntityRef } from '../entities/names.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { getTyped } from './entity-access.js';
import { readPackage } from './package-access.js';

export interface ResolvedAction {
  action: ActionDoc;
  /** The action document's revision: invokers cache code by it. */
  rev: string;
  /** The package that holds the code (after following a binding). */
  pkg?: PackageDoc;
  /** The binding the action was reached through, if any. */
  binding?: PackageDoc;
  /** Where the code really lives. */
  ref: EntityRef;
}

/**
 * Finds an action as a caller may see it: in the caller's namespace, through one of the caller's
 * bindings, or in a public package of another namespace. As in OpenWhisk's ActionCollection, an
 * action in a package is readable exactly when its package is (see readPackage); the default
 * package of another namespace is always a 403 (also when missing, so names don't leak).
 */
export async function resolveAction(store: ArtifactStore, ref: EntityRef, identity: Identity): Promise<ResolvedAction> {
  if (!ref.pkg) {
    if (ref.namespace !== identity.namespace) throw forbidden(docId(ref));
    const got = await getTyped<ActionDoc>(store, docId(ref), 'action');
    return { action: got.doc, rev: got.rev, ref };
  }
  const { pkg, target } = await readPackage(store, { namespace: ref.namespace, name: ref.pkg }, identity);
  const holder = target ?? pkg;
  const real = { namespace: holder.namespace, pkg: holder.name, name: ref.name };
  // Only actions live inside packages, so any document here is one.
  const action = await store.getEntity(docId(real));
  if (!action || action.doc.entityType !== 'action') throw notFound();
  return { action: action.doc as ActionDoc, rev: action.rev, pkg: holder, binding: target ? pkg : undefined, ref: real };
}
