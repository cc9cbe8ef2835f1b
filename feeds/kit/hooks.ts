import type { FastifyInstance } from 'fastify';
import { HubError } from '../../src/entities/errors.js';
import type { Logger } from '../../src/logging/logger.js';
import { StoreConflictError, type DocStore } from '../../src/store/artifact-store.js';
import type { FeedFireJob } from './fire-queue.js';
import type { FeedEvents } from './provider.js';
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
export function parseObject(raw: Buffer | string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    throw new HubError(400, 'MALFORMED', `The request content was malformed:\n${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HubError(400, 'MALFORMED', 'The request content was malformed:\nthe body must be a JSON object');
  return v as Record<string, unknown>;
}

const COLLECTION = 'feed-deliveries';
const HOUR = 3_600_000;
const PAGE = 1000;

export interface DeliveriesOptions {
  /**
   * How long a claim is kept: a delivery id seen again within it fires nothing. GitHub lets
   * failed deliveries be redelivered by hand for a few days, Slack retries within the hour.
   */
  retentionMs?: number;
  clock?: () => number;
  onSweepError?: (err: unknown) => void;
}

/**
 * Deliveries seen, per registration (GitHub's X-GitHub-Delivery, Slack's event_id): the first
 * `claim` of an id wins, every later one (a redelivery, a Slack retry, another replica) loses.
 * A document per delivery in the store, so the answer survives restarts and is shared by replicas.
 * Claims older than the retention are swept away (at most hourly, in the background, set off by a
 * claim), so a busy hook does not grow the store without end.
 */
export class Deliveries {
  private readonly retentionMs: number;
  private readonly clock: () => number;
  private lastSweep = 0;
  private sweeping?: Promise<unknown>;

  constructor(
    private readonly store: DocStore,
    private readonly options: DeliveriesOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? 7 * 24 * HOUR;
    this.clock = options.clock ?? Date.now;
  }

  /** True for the first claim of this delivery id, false for a repeat. */
  async claim(registrationId: string, deliveryId: string): Promise<boolean> {
    try {
      await this.store.putDoc(COLLECTION, `${registrationId}/${deliveryId}`, { at: this.clock() });
    } catch (err) {
      if (err instanceof StoreConflictError) return false;
      throw err;
    }
    this.sweepNowAndThen();
    return true;
  }

  /** Deletes the claims made before `before` (epoch ms); answers how many went. */
  async sweep(before: number): Promise<number> {
    let removed = 0;
    for (let skip = 0; ; ) {
      const rows = await this.store.listDocs<{ at?: number }>(COLLECTION, { limit: PAGE, skip });
      const old = rows.filter((r) => typeof r.doc.at !== 'number' || r.doc.at < before);
      // One page's deletes together: one durable write for all of them on the embedded store.
      const gone = await Promise.all(old.map((r) => this.store.deleteDoc(COLLECTION, r.id, r.rev).then(() => 1, () => 0)));
      removed += gone.reduce<number>((a, b) => a + b, 0);
      if (rows.length < PAGE) return removed;
      skip += rows.length - old.length;
    }
  }

  /** Resolves when no sweep is running (tests). */
  async idle(): Promise<void> {
    await this.sweeping;
  }

  private sweepNowAndThen(): void {
    const now = this.clock();
    if (this.sweeping || now - this.lastSweep < Math.min(HOUR, this.retentionMs / 4)) return;
    this.lastSweep = now;
    this.sweeping = this.sweep(now - this.retentionMs)
      .catch((err: unknown) => this.options.onSweepError?.(err))
      .finally(() => (this.sweeping = undefined));
  }

  /** True when this delivery id was claimed already. */
  async seen(registrationId: string, deliveryId: string): Promise<boolean> {
    return (await this.store.getDoc(COLLECTION, `${registrationId}/${deliveryId}`)) !== undefined;
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

/**
 * Queues a delivery's fire once: 'queued', or 'duplicate' when its id was claimed before.
 *
 * The fire is queued together with the claim, never after it: a crash between a durable claim and
 * its fire would refuse the redelivery (Slack retries by itself) and lose the event. At worst a
 * crash leaves the fire without its claim, so a redelivery fires again: at least once. The job is
 * named after the delivery, so a concurrent duplicate queues nothing new (both queues ignore a
 * second job of the same id). The two writes go out at once: on the embedded store they share one
 * durable write (one fsync) instead of waiting for one another. A claim that fails to be written
 * leaves its fire queued (the caller is told, to count it): the answer is still 'queued'.
 */
export async function queueDelivery(
  deliveries: Deliveries,
  registrationId: string,
  deliveryId: string,
  enqueue: () => Promise<void>,
  onClaimError: (err: unknown) => void,
): Promise<'queued' | 'duplicate'> {
  if (await deliveries.seen(registrationId, deliveryId)) return 'duplicate';
  const [queued, claimed] = await Promise.allSettled([enqueue(), deliveries.claim(registrationId, deliveryId)]);
  if (queued.status === 'rejected') {
    if (claimed.status === 'fulfilled' && claimed.value) await deliveries.release(registrationId, deliveryId);
    throw queued.reason;
  }
  if (claimed.status === 'rejected') {
    onClaimError(claimed.reason);
    return 'queued';
  }
  return claimed.value ? 'queued' : 'duplicate';
}

/** What a webhook provider (GitHub, Slack) brings to queueHookDelivery. */
export interface HookProvider {
  readonly name: string;
  readonly deliveries: Deliveries;
  readonly events?: FeedEvents;
}

/**
 * queueDelivery from a provider's endpoint: the job goes to the kit's fire queue, and the outcome
 * is counted (`received` or `duplicate`); a claim that could not be written is counted
 * (`claim-failed`) and logged.
 */
export async function queueHookDelivery(
  provider: HookProvider,
  log: Pick<Logger, 'warn'>,
  deliveryId: string,
  job: Omit<FeedFireJob, 'attempts' | 'enqueuedAt'>,
): Promise<'queued' | 'duplicate'> {
  const events = provider.events!;
  const outcome = await queueDelivery(provider.deliveries, job.registrationId, deliveryId, () => events.enqueue(job), (err) => {
    events.count(provider.name, 'claim-failed');
    log.warn({ registration: job.registrationId, delivery: deliveryId, error: (err as Error).message }, `${provider.name} delivery queued, but its claim was not written: a redelivery may fire again`);
  });
  events.count(provider.name, outcome === 'duplicate' ? 'duplicate' : 'received');
  return outcome;
}
