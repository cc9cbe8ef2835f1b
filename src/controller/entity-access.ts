import type { EntityDoc, EntityType, Identity } from '../entities/documents.js';
import { conflict, forbidden, Messages, notFound } from '../entities/errors.js';
import { validateNamespace } from '../entities/names.js';
import { StoreConflictError, type ArtifactStore, type Stored } from '../store/artifact-store.js';

/** `_` is the caller's namespace; anything else must be a valid namespace name. */
export function resolveNamespace(param: string, identity: Identity): string {
  return param === '_' ? identity.namespace : validateNamespace(param);
}

/** Triggers, rules, activations and most listings are owner-only: 403 for anyone else. */
export function requireOwner(namespace: string, identity: Identity, resource: string): void {
  if (namespace !== identity.namespace) throw forbidden(resource);
}

/** Reads an entity of one type: 404 when absent, 409 when the name belongs to another type. */
export async function getTyped<T extends EntityDoc>(
  store: ArtifactStore,
  id: string,
  type: EntityType,
  missing = Messages.notFound as string,
): Promise<Stored<T>> {
  const got = await store.getEntity(id);
  if (!got) throw notFound(missing);
  if (got.doc.entityType !== type) throw conflict(Messages.wrongCollection, 'WRONG_COLLECTION');
  return got as Stored<T>;
}

export async function findTyped<T extends EntityDoc>(store: ArtifactStore, id: string, type: EntityType): Promise<Stored<T> | undefined> {
  const got = await store.getEntity(id);
  if (!got) return undefined;
  if (got.doc.entityType !== type) throw conflict(Messages.wrongCollection, 'WRONG_COLLECTION');
  return got as Stored<T>;
}

/**
 * OpenWhisk's PUT: create when absent, 409 when present without overwrite, merge-update with the
 * stored rev when present with overwrite. A lost race on the rev is a 409 too.
 */
export async function putEntity<T extends EntityDoc>(
  store: ArtifactStore,
  id: string,
  type: EntityType,
  overwrite: boolean,
  create: () => T | Promise<T>,
  update: (old: T) => T | Promise<T>,
): Promise<T> {
  const existing = await findTyped<T>(store, id, type);
  if (existing && !overwrite) throw conflict(Messages.exists, 'EXISTS');
  const doc = existing ? await update(existing.doc) : await create();
  try {
    await store.putEntity(id, doc, existing?.rev);
  } catch (err) {
    if (err instanceof StoreConflictError) throw conflict(Messages.concurrentModification, 'CONCURRENT_MODIFICATION');
    throw err;
  }
  return doc;
}

export async function deleteEntity<T extends EntityDoc>(store: ArtifactStore, id: string, type: EntityType): Promise<T> {
  const got = await getTyped<T>(store, id, type);
  try {
    await store.deleteEntity(id, got.rev);
  } catch (err) {
    if (err instanceof StoreConflictError) throw conflict(Messages.concurrentModification, 'CONCURRENT_MODIFICATION');
    throw err;
  }
  return got.doc;
}

/** Reads `overwrite`, `force` and similar boolean query flags. */
export function flag(value: unknown): boolean {
  return value === 'true' || value === true;
}
