import type { Identity, PackageDoc } from '../entities/documents.js';
import { conflict, forbidden, Messages, notFound } from '../entities/errors.js';
import { docId } from '../entities/names.js';
import type { ArtifactStore } from '../store/artifact-store.js';

export interface ReadablePackage {
  /** The package asked for (possibly a binding). */
  pkg: PackageDoc;
  /** For a binding: the package it binds to, which holds the actions. */
  target?: PackageDoc;
}

type PackageRef = { namespace: string; name: string };

/**
 * OpenWhisk's READ right on a package (PackageCollection.checkPackageReadPermission): a package is
 * readable by its owner or when published; a binding only by its owner, and only while the package
 * it binds to is readable in turn (owned or published). What is missing or of another type reads
 * as 404/409 to the owner and 403 to anyone else, so names in other namespaces do not leak.
 */
export async function readPackage(
  store: ArtifactStore,
  ref: PackageRef,
  identity: Identity,
  missing: string = Messages.notFound,
): Promise<ReadablePackage> {
  const denied = () => forbidden(docId(ref));
  const pkg = await fetchPackage(store, ref, ref.namespace === identity.namespace, denied, missing);
  if (!pkg.binding) {
    if (pkg.namespace !== identity.namespace && !pkg.publish) throw denied();
    return { pkg };
  }
  if (pkg.namespace !== identity.namespace) throw denied();
  const targetOwned = pkg.binding.namespace === identity.namespace;
  const target = await fetchPackage(store, pkg.binding, targetOwned, denied, Messages.notFound);
  // Bindings cannot bind to bindings, so one step is all there is to check.
  if (!targetOwned && (!target.publish || target.binding)) throw denied();
  return { pkg, target };
}

async function fetchPackage(
  store: ArtifactStore,
  ref: PackageRef,
  owned: boolean,
  denied: () => Error,
  missing: string,
): Promise<PackageDoc> {
  const got = await store.getEntity(docId(ref));
  if (!got) throw owned ? notFound(missing) : denied();
  if (got.doc.entityType !== 'package') throw owned ? conflict(Messages.wrongCollection, 'WRONG_COLLECTION') : denied();
  return got.doc;
}
