import type { ActionDoc, Identity, PackageDoc } from '../entities/documents.js';
import { forbidden, notFound } from '../entities/errors.js';
import { docId, type EntityRef } from '../entities/names.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { getTyped } from './entity-access.js';

export interface ResolvedAction {
  action: ActionDoc;
  /** The package that holds the code (after following a binding). */
  pkg?: PackageDoc;
  /** The binding the action was reached through, if any. */
  binding?: PackageDoc;
  /** Where the code really lives. */
  ref: EntityRef;
}

/**
 * Finds an action as a caller may see it: in the caller's namespace, through one of the caller's
 * bindings, or in a public package of another namespace. Everything else in another namespace is
 * a 403 (also when missing, so names don't leak); missing in one's own namespace is a 404.
 */
export async function resolveAction(store: ArtifactStore, ref: EntityRef, identity: Identity): Promise<ResolvedAction> {
  const owner = ref.namespace === identity.namespace;
  const denied = () => forbidden(docId(ref));
  if (!ref.pkg) {
    if (!owner) throw denied();
    return { action: (await getTyped<ActionDoc>(store, docId(ref), 'action')).doc, ref };
  }
  const pkgRef = { namespace: ref.namespace, name: ref.pkg };
  const pkg = await store.getEntity(docId(pkgRef));
  if (!pkg || pkg.doc.entityType !== 'package') {
    if (!owner) throw denied();
    throw notFound();
  }
  let holder = pkg.doc;
  let binding: PackageDoc | undefined;
  if (holder.binding) {
    if (!owner) throw denied(); // bindings are readable only by their owner
    binding = holder;
    const boundRef = holder.binding;
    const target = await store.getEntity(docId(boundRef));
    if (!target || target.doc.entityType !== 'package') throw notFound();
    holder = target.doc;
    if (holder.namespace !== identity.namespace && !holder.publish) throw forbidden(docId(boundRef));
  } else if (!owner && !holder.publish) {
    throw denied();
  }
  const real = { namespace: holder.namespace, pkg: holder.name, name: ref.name };
  const action = await store.getEntity(docId(real));
  if (!action || action.doc.entityType !== 'action') {
    if (!owner && !binding) throw denied();
    throw notFound();
  }
  return { action: action.doc, pkg: holder, binding, ref: real };
}
