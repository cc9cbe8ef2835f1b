import { createHash, timingSafeEqual } from 'node:crypto';
import { badRequest, HubError, notFound, unavailable } from '../../src/entities/errors.js';
import { validateName, validateNamespace } from '../../src/entities/names.js';
import type { FeedKit } from './feed-kit.js';
import type { FeedProvider } from './provider.js';
import { nextGeneration, registrationId, statusView, type Registration } from './registration.js';

/** A lifecycle request: which trigger, with whose key. */
export interface FeedRequest {
  provider: string;
  /** As the caller wrote it: a namespace or `_`. */
  namespace: string;
  trigger: string;
  authKey: string;
}

const sameKey = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * The feed lifecycle (CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE) over the kit. Every request is
 * authorized as the reference providers do it: the caller's key must be able to GET the trigger on
 * the controller. READ and DELETE also work once the trigger is gone (404), and with a revoked key
 * that is the registration's own (401), so users can still see why a feed stopped and remove it.
 */
export class FeedLifecycle {
  constructor(private readonly kit: FeedKit) {}

  private provider(name: string): FeedProvider {
    const p = this.kit.providers.get(name);
    if (!p) throw notFound(`There is no feed provider '${name}'.`);
    return p;
  }

  private async resolve(req: FeedRequest): Promise<{ namespace: string; trigger: string; id: string }> {
    if (!req.authKey) throw new HubError(401, 'FEED_AUTH', 'The feed request carries no authKey.');
    const trigger = validateName(req.trigger);
    let namespace = req.namespace;
    if (namespace === '_') {
      const ns = await this.kit.controller.namespaceOf(req.authKey);
      if (!ns) throw new HubError(401, 'FEED_AUTH', 'Trigger authentication request failed: the authKey was refused.');
      namespace = ns;
    }
    validateNamespace(namespace);
    return { namespace, trigger, id: registrationId(req.provider, namespace, trigger) };
  }

  /** GET of the trigger with the caller's key; `tolerate` lists statuses accepted for an existing registration. */
  private async authorize(namespace: string, trigger: string, authKey: string, reg?: Registration, tolerate404 = false): Promise<number> {
    const t = await this.kit.controller.getTrigger(namespace, trigger, authKey);
    if (t.status === 200) return 200;
    if (t.status === 404 && tolerate404) return 404;
    if (t.status === 401 && reg && tolerate404 && sameKey(reg.authKey, authKey)) return 401;
    if (t.status === 0) throw unavailable(`Cannot reach the controller to check the trigger: ${t.error}`);
    const status = t.status >= 400 && t.status < 600 ? t.status : 502;
    throw new HubError(status, 'FEED_AUTH', `Trigger authentication request failed: ${t.error ?? `status ${t.status}`}`);
  }

  private async existing(id: string, namespace: string, trigger: string): Promise<Registration> {
    const got = await this.kit.registrations.get<Record<string, unknown>>(id);
    if (!got) throw notFound(`could not find trigger /${namespace}/${trigger} in the feed registrations`);
    return got.doc;
  }

  async create(req: FeedRequest, feed: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const p = this.provider(req.provider);
    if (!p.feeds.includes(feed)) throw badRequest(`unknown feed '${feed}': ${p.name} offers ${p.feeds.join(', ')}`);
    const now = Date.now();
    const config = p.validateCreate(feed, params, now);
    const { namespace, trigger, id } = await this.resolve(req);
    await this.authorize(namespace, trigger, req.authKey);
    const old = await this.kit.registrations.get<Record<string, unknown>>(id);
    const generation = nextGeneration(old?.doc.generation);
    const reg: Registration = {
      id,
      provider: p.name,
      feed,
      namespace,
      trigger,
      authKey: req.authKey,
      config,
      status: { active: true, dateChanged: now },
      counters: { fired: 0, failed: 0, missed: 0, caughtUp: 0, ...p.initialCounters(config) },
      generation,
      activeSince: now,
      created: now,
      updated: now,
    };
    await p.prepare?.(reg);
    if (old) await p.deactivate(id);
    if (old && p.removed) await p.removed(old.doc).catch((err) => this.kit.logger.warn({ registration: id, error: (err as Error).message }, 'feed clean-up failed'));
    await this.kit.registrations.put(reg);
    if (old) await this.kit.deadLetters.clear(id);
    try {
      await p.activate(reg);
    } catch (err) {
      // Nothing half-made stays behind: the CLI deletes the trigger after a failed CREATE.
      await this.kit.registrations.delete(id);
      throw err;
    }
    this.kit.count(p.name, old ? 'recreated' : 'created');
    this.kit.logger.info({ registration: id, feed, generation: reg.generation }, 'feed registration created');
    const { config: _c, ...extras } = p.describe(reg);
    return { status: 'success', trigger: `/${namespace}/${trigger}`, ...extras };
  }

  async read(req: FeedRequest): Promise<Record<string, unknown>> {
    const p = this.provider(req.provider);
    const { namespace, trigger, id } = await this.resolve(req);
    let reg = await this.existing(id, namespace, trigger);
    const seen = await this.authorize(namespace, trigger, req.authKey, reg, true);
    if (seen === 404 && reg.status.active) {
      // The trigger was deleted behind the provider's back: stop, and say why.
      await this.kit.disable(id, { kind: 'AUTO', statusCode: 404, message: `Automatically disabled: the trigger /${namespace}/${trigger} no longer exists.` });
      reg = await this.existing(id, namespace, trigger);
    }
    // What the outside says first, then our own records: a READ that shows a source fully read
    // (Kafka lag 0) also shows every fire and dead letter that took it there.
    const outside = (await p.inspect?.(reg)) ?? {};
    if (p.inspect) reg = await this.existing(id, namespace, trigger);
    const letters = await this.kit.deadLetters.of(id, 3);
    return {
      ...p.describe(reg),
      status: statusView(reg.status),
      feed: reg.feed,
      counters: reg.counters,
      ...(reg.lastFire ? { lastFire: reg.lastFire } : {}),
      ...outside,
      deadLetters: {
        count: letters.count,
        latest: letters.latest.map((l) => ({
          eventTime: new Date(l.job.eventTime).toISOString(),
          status: l.status,
          error: l.error,
          attempts: l.job.attempts,
          at: new Date(l.at).toISOString(),
          ...(l.detail ? { detail: l.detail } : {}),
        })),
      },
    };
  }

  async update(req: FeedRequest, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const p = this.provider(req.provider);
    const { namespace, trigger, id } = await this.resolve(req);
    const reg = await this.existing(id, namespace, trigger);
    await this.authorize(namespace, trigger, req.authKey);
    if (reg.status.reason?.kind === 'ADMIN') throw badRequest(`trigger /${namespace}/${trigger} was disabled by an administrator and cannot be updated`);
    const now = Date.now();
    const config = p.validateUpdate(reg, params, now);
    await p.prepare?.({ ...reg, config });
    const done = await this.kit.registrations.update(id, (cur) => ({
      ...cur,
      config,
      authKey: req.authKey,
      generation: nextGeneration(cur.generation),
      activeSince: now,
      status: { active: true, dateChanged: now },
    }));
    if (!done) throw notFound(`could not find trigger /${namespace}/${trigger} in the feed registrations`);
    await p.deactivate(id);
    await p.activate(done);
    this.kit.count(p.name, 'updated');
    return { status: 'success', ...p.describe(done) };
  }

  async delete(req: FeedRequest): Promise<Record<string, unknown>> {
    const p = this.provider(req.provider);
    const { namespace, trigger, id } = await this.resolve(req);
    const got = await this.kit.registrations.get<Record<string, unknown>>(id);
    await this.authorize(namespace, trigger, req.authKey, got?.doc, true);
    if (!got) throw notFound(`could not find trigger /${namespace}/${trigger} in the feed registrations`);
    // Inactive (new generation) first, so every replica stops and queued fires are dropped; then gone.
    await this.kit.registrations.update(id, (cur) => ({ ...cur, generation: nextGeneration(cur.generation), status: { active: false, dateChanged: Date.now(), reason: { kind: 'USER', message: 'being deleted' } } }));
    await this.kit.remove(id);
    this.kit.count(p.name, 'deleted');
    return { status: 'success' };
  }

  async pause(req: FeedRequest): Promise<Record<string, unknown>> {
    const p = this.provider(req.provider);
    const { namespace, trigger, id } = await this.resolve(req);
    const reg = await this.existing(id, namespace, trigger);
    await this.authorize(namespace, trigger, req.authKey);
    if (reg.status.active) {
      await this.kit.registrations.update(id, (cur) =>
        cur.status.active
          ? { ...cur, generation: nextGeneration(cur.generation), status: { active: false, dateChanged: Date.now(), reason: { kind: 'USER', message: 'Paused (PAUSE); UNPAUSE resumes it.' } } }
          : undefined,
      );
      await p.deactivate(id);
      this.kit.count(p.name, 'paused');
    }
    return { status: 'success', ...statusOnly(await this.existing(id, namespace, trigger)) };
  }

  async unpause(req: FeedRequest): Promise<Record<string, unknown>> {
    const p = this.provider(req.provider);
    const { namespace, trigger, id } = await this.resolve(req);
    const reg = await this.existing(id, namespace, trigger);
    await this.authorize(namespace, trigger, req.authKey);
    if (!reg.status.active) {
      if (reg.status.reason?.kind === 'ADMIN') throw badRequest(`trigger /${namespace}/${trigger} was disabled by an administrator`);
      const now = Date.now();
      const why = p.whyNotActivatable(reg, now);
      if (why) throw badRequest(why);
      const done = await this.kit.registrations.update(id, (cur) =>
        cur.status.active ? undefined : { ...cur, authKey: req.authKey, generation: nextGeneration(cur.generation), activeSince: now, status: { active: true, dateChanged: now } },
      );
      if (done) await p.activate(done);
      this.kit.count(p.name, 'unpaused');
    }
    return { status: 'success', ...statusOnly(await this.existing(id, namespace, trigger)) };
  }
}

const statusOnly = (reg: Registration) => ({ active: reg.status.active, ...(reg.status.reason ? { reason: reg.status.reason } : {}) });
