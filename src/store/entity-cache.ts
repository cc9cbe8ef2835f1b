import type { ArtifactStore, Stored } from './artifact-store.js';
import type { EntityDoc } from '../entities/documents.js';

/**
 * A controller's entity cache (OpenWhisk's controller caches entities the same way): actions,
 * packages, triggers and rules read from the store are kept in memory for up to `ttlMs`, so an
 * invoke does not read its action from CouchDB each time. Writes through this store drop the
 * entry at once; writes through another controller reach here by `invalidate` (the controller
 * hears them on the bus), with `ttlMs` as the bound if a message is missed. Concurrent reads of
 * one id share a single store read. Absent entities are not cached: a new one is seen at once.
 *
 * Documents are shared, not copied, as the embedded store shares them: callers never mutate what
 * a read returned.
 */
export interface EntityCache {
  store: ArtifactStore;
  /** Forgets an entity (changed elsewhere). */
  invalidate(id: string): void;
  /** Called with the id of each entity this store wrote or deleted (to tell the others). */
  onChange(listener: (id: string) => void): void;
}

interface Entry {
  value: Stored<EntityDoc>;
  until: number;
}

export function withEntityCache(inner: ArtifactStore, ttlMs: number, maxEntries = 10_000): EntityCache {
  const entries = new Map<string, Entry>();
  const reading = new Map<string, Promise<Stored<EntityDoc> | undefined>>();
  /** Bumped by every invalidation, so a read that started before a write is not cached after it. */
  const generation = new Map<string, number>();
  const listeners: ((id: string) => void)[] = [];

  const invalidate = (id: string) => {
    entries.delete(id);
    reading.delete(id);
    generation.set(id, (generation.get(id) ?? 0) + 1);
    if (generation.size > maxEntries) generation.clear(); // only in-flight reads care; they are few
  };
  const changed = (id: string) => {
    invalidate(id);
    for (const l of listeners) l(id);
  };

  const getEntity = (id: string): Promise<Stored<EntityDoc> | undefined> => {
    const hit = entries.get(id);
    if (hit && hit.until > Date.now()) return Promise.resolve(hit.value);
    const shared = reading.get(id);
    if (shared) return shared;
    const gen = generation.get(id) ?? 0;
    const read = inner.getEntity(id).then(
      (value) => {
        if (reading.get(id) === read) reading.delete(id);
        if (value && ttlMs > 0 && (generation.get(id) ?? 0) === gen) {
          if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
          entries.set(id, { value, until: Date.now() + ttlMs });
        }
        return value;
      },
      (err: unknown) => {
        if (reading.get(id) === read) reading.delete(id);
        throw err;
      },
    );
    reading.set(id, read);
    return read;
  };

  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'getEntity') return getEntity;
      if (prop === 'putEntity') {
        return async (id: string, doc: EntityDoc, rev?: string) => {
          invalidate(id);
          try {
            return await target.putEntity(id, doc, rev);
          } finally {
            changed(id);
          }
        };
      }
      if (prop === 'deleteEntity') {
        return async (id: string, rev: string) => {
          invalidate(id);
          try {
            return await target.deleteEntity(id, rev);
          } finally {
            changed(id);
          }
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, invalidate, onChange: (l) => listeners.push(l) };
}
