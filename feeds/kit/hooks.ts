import type { FastifyInstance } from 'fastify';
import { HubError } from '../../src/entities/errors.js';
import type { Logger } from '../../src/logging/logger.js';
import { StoreConflictError, type DocStore } from '../../src/store/artifact-store.js';
import type { Change, Registrations } from './registrations.js';

/**
 * Where outside services deliver events (GitHub hooks, Slack's Events API): on a provider's own
 * HTTP server and, in standalone, on the controller's port. `<public url>/hooks/v1/<provider>/<ns>/<trigger>`.
 */
export const HOOKS_PREFIX = '/hooks/v1';

/** The URL an outside service is given for a registration (no key in it: deliveries are signed). */
export const hookUrl = (publicUrl: string, provider: string, namespace: string, trigger: string) =>
  `${publicUrl.replace(/\/+$/, '')}${HOOKS_PREFIX}/${provider}/${encodeURIComponent(namespace)}/${encodeURIComponent(trigger)}`;

/**
 * Makes an (encapsulated) Fastify context keep bodies as they arrived: signatures are computed
 * over the raw bytes. JSON content types only (anything else: 415); above `maxBytes`: 413.
 */
export function rawJsonBodies(app: FastifyInstance, maxBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/(.+\+)?json/i, { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => done(null, body));
}

/** The raw body of a request parsed by `rawJsonBodies` (empty when there was none). */
export function rawBody(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}

/** The JSON object in a verified body, or a 400. */
export function parseObject(raw: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new HubError(400, 'MALFORMED', `The request content was malformed:\n${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HubError(400, 'MALFORMED', 'The request content was malformed:\nthe body must be a JSON object');
  return v as Record<string, unknown>;
}

const COLLECTION = 'feed-deliveries';

/**
 * Deliveries seen, per registration (GitHub's X-GitHub-Delivery, Slack's event_id): the first
 * `claim` of an id wins, every later one (a redelivery, a Slack retry, another replica) loses.
 * A document per delivery in the store, so the answer survives restarts and is shared by replicas.
 */
export class Deliveries {
  constructor(private readonly store: DocStore) {}

  /** True for the first claim of this delivery id, false for a repeat. */
  async claim(registrationId: string, deliveryId: string): Promise<boolean> {
    try {
      await this.store.putDoc(COLLECTION, `${registrationId}/${deliveryId}`, { at: Date.now() });
      return true;
    } catch (err) {
      if (err instanceof StoreConflictError) return false;
      throw err;
    }
  }

  /** Forgets a claim (its fire could not be queued, so a redelivery must get through). */
  async release(registrationId: string, deliveryId: string): Promise<void> {
    const got = await this.store.getDoc(COLLECTION, `${registrationId}/${deliveryId}`);
    if (got) await this.store.deleteDoc(COLLECTION, got.id, got.rev).catch(() => undefined);
  }

  /** Drops a registration's deliveries (on DELETE). */
  async clear(registrationId: string): Promise<void> {
    for (;;) {
      const rows = await this.store.listDocs(COLLECTION, { prefix: `${registrationId}/`, limit: 1000, skip: 0 });
      for (const r of rows) await this.store.deleteDoc(COLLECTION, r.id, r.rev).catch(() => undefined);
      if (rows.length < 1000) return;
    }
  }
}

/**
 * Notes the newest delivery on its registration (READ shows it) without holding up the answer to
 * GitHub or Slack: one write at a time per registration, and a note that arrives while one is
 * being written replaces any other still waiting, so a burst of deliveries makes a few writes
 * instead of a storm of conflicting ones. Failures are logged.
 */
export class LastDeliveryNotes {
  private readonly waiting = new Map<string, { change: Change<any>; writing: boolean }>();

  constructor(
    private readonly registrations: Registrations,
    private readonly logger: Logger,
  ) {}

  note<C>(id: string, change: Change<C>): void {
    const w = this.waiting.get(id);
    if (w) {
      w.change = change;
      if (w.writing) return;
    }
    const entry = w ?? { change, writing: false };
    this.waiting.set(id, entry);
    void this.write(id, entry);
  }

  private async write(id: string, entry: { change: Change<any>; writing: boolean }): Promise<void> {
    entry.writing = true;
    for (let change = entry.change, last: Change<any> | undefined; change !== last; last = change, change = entry.change) {
      await this.registrations.update(id, change).catch((err) => this.logger.warn({ registration: id, error: (err as Error).message }, 'could not record the last delivery'));
    }
    this.waiting.delete(id);
  }
}
