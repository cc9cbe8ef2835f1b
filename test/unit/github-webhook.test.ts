import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GitHubConfig } from '../../feeds/github/github-config.js';
import { GitHubHooksApi } from '../../feeds/github/hooks-api.js';
import { githubHooks } from '../../feeds/github/receive.js';
import { GitHubProvider } from '../../feeds/github/start.js';
import { parseEvents, validateGitHubCreate, validateGitHubUpdate } from '../../feeds/github/validate.js';
import { Deliveries, HOOKS_PREFIX, queueDelivery } from '../../feeds/kit/hooks.js';
import type { FeedEvents } from '../../feeds/kit/provider.js';
import { Registrations } from '../../feeds/kit/registrations.js';
import type { Registration } from '../../feeds/kit/registration.js';
import { HubError } from '../../src/entities/errors.js';
import { installErrorHandling } from '../../src/controller/http/error-handler.js';
import { createLogger } from '../../src/logging/logger.js';
import { StoreConflictError, type ArtifactStore } from '../../src/store/artifact-store.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';

const base = { username: 'octocat', repository: 'hello-world', accessToken: 'ghp_x', events: 'push' };

describe('github webhook parameters', () => {
  it('trims events, takes the owner from username for a bare repository, defaults baseUrl, makes a fresh secret', () => {
    const a = validateGitHubCreate({ ...base, events: ' push , pull_request,push ' });
    expect(a).toMatchObject({ owner: 'octocat', repo: 'hello-world', events: ['push', 'pull_request'], baseUrl: 'https://api.github.com' });
    expect(a.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(validateGitHubCreate(base).secret).not.toBe(a.secret);
    expect(validateGitHubCreate({ ...base, repository: 'org/repo', baseUrl: 'https://ghe.example.com/api/v3/' })).toMatchObject({ owner: 'org', repo: 'repo', baseUrl: 'https://ghe.example.com/api/v3' });
    expect(parseEvents(['issues', '*'])).toEqual(['issues', '*']);
  });

  it('refuses what cannot work with a 400 naming the parameter', () => {
    for (const [params, words] of [
      [{ ...base, username: undefined }, 'username'],
      [{ ...base, accessToken: '' }, 'accessToken'],
      [{ ...base, events: ' , ' }, 'events'],
      [{ ...base, events: 'pull-request' }, 'pull-request'],
      [{ ...base, repository: 'a/b/c' }, 'repository'],
      [{ ...base, baseUrl: 'not a url' }, 'baseUrl'],
    ] as const) {
      const err = (() => {
        try {
          validateGitHubCreate(params);
        } catch (e) {
          return e as HubError;
        }
      })();
      expect(err).toBeInstanceOf(HubError);
      expect(err!.status).toBe(400);
      expect(err!.message).toContain(words);
    }
    const cur = validateGitHubCreate(base);
    expect(validateGitHubUpdate(cur, { events: 'issues' })).toMatchObject({ events: ['issues'], secret: cur.secret });
    expect(() => validateGitHubUpdate(cur, { repository: 'x/y' })).toThrow(/cannot be updated/);
    expect(() => validateGitHubUpdate(cur, {})).toThrow(/events or accessToken/);
  });
});

describe('the GitHub delivery endpoint', () => {
  let store: ArtifactStore;
  let app: FastifyInstance;
  let enqueued: unknown[];
  let config: GitHubConfig;
  const path = `${HOOKS_PREFIX}/github/guest/t`;

  beforeEach(async () => {
    store = await createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-github-')));
    const registrations = new Registrations(store);
    const provider = new GitHubProvider(registrations, new Deliveries(store), new GitHubHooksApi(), () => 'http://hub.example', createLogger('silent'));
    enqueued = [];
    await provider.start({ enqueue: async (job: unknown) => void enqueued.push(job), count: () => undefined } as unknown as FeedEvents);
    config = { ...validateGitHubCreate({ ...base, events: 'push' }), hookId: 9 };
    const reg: Registration<GitHubConfig> = {
      id: 'github/guest/t', provider: 'github', feed: 'webhook', namespace: 'guest', trigger: 't', authKey: 'u:k', config,
      status: { active: true, dateChanged: 0 }, counters: { fired: 0, failed: 0, missed: 0, caughtUp: 0 }, generation: 1, activeSince: 0, created: 0, updated: 0,
    };
    await registrations.put(reg);
    app = Fastify();
    installErrorHandling(app);
    await app.register(githubHooks(provider, 4096), { prefix: HOOKS_PREFIX });
  });

  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const post = async (event: string, body: string, delivery: string, signature?: string | null, contentType = 'application/json') =>
    app.inject({
      method: 'POST',
      url: path,
      payload: body,
      headers: {
        'content-type': contentType,
        'x-github-event': event,
        'x-github-delivery': delivery,
        ...(signature === null ? {} : { 'x-hub-signature-256': signature ?? (await sign(config.secret, body)) }),
      },
    });

  it('queues a signed delivery once, with the payload, event and delivery id', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    expect((await post('push', body, 'd-1')).statusCode).toBe(202);
    expect((await post('push', body, 'd-1')).statusCode).toBe(200);
    expect(enqueued).toEqual([expect.objectContaining({ id: 'github/guest/t/d-1', idempotencyKey: 'github:d-1', generation: 1, payload: { ref: 'refs/heads/main', github: { event: 'push', delivery: 'd-1', hookId: 9 } } })]);
    expect((await post('ping', '{}', 'd-2')).statusCode).toBe(200);
    expect((await post('issues', '{}', 'd-3')).json()).toMatchObject({ fired: false });
    expect(enqueued).toHaveLength(1);
  });

  it('answers bad deliveries with 4xx and queues nothing', async () => {
    const body = JSON.stringify({ ref: 'x' });
    expect((await post('push', body, 'd-4', await sign('wrong', body))).statusCode).toBe(400);
    expect((await post('push', body, 'd-5', null)).statusCode).toBe(400);
    expect((await post('push', body, 'd-6', 'sha256=' + '0'.repeat(64))).statusCode).toBe(400);
    expect((await post('push', '{"ref":', 'd-7')).statusCode).toBe(400);
    expect((await post('push', 'ref=x', 'd-8', undefined, 'application/x-www-form-urlencoded')).statusCode).toBe(415);
    expect((await post('push', JSON.stringify({ x: 'y'.repeat(5000) }), 'd-9')).statusCode).toBe(413);
    const unknown = await app.inject({ method: 'POST', url: `${HOOKS_PREFIX}/github/guest/other`, payload: body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'd-10', 'x-hub-signature-256': await sign(config.secret, body) } });
    expect(unknown.statusCode).toBe(404);
    expect(enqueued).toHaveLength(0);
    // A delivery refused for its signature claimed nothing: properly signed, it goes through.
    expect((await post('push', body, 'd-4')).statusCode).toBe(202);
  });
});

describe('delivery claims', () => {
  it('are kept for the retention, then swept away by a later claim, so the store does not grow without end', async () => {
    const claimsStore = await createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-claims-')));
    let now = 1_000_000_000;
    const deliveries = new Deliveries(claimsStore, { retentionMs: 60_000, clock: () => now });
    for (const id of ['d1', 'd2', 'd3']) expect(await deliveries.claim('github/guest/t', id)).toBe(true);
    await deliveries.idle();
    expect(await deliveries.claim('github/guest/t', 'd1')).toBe(false);

    now += 30_000; // within the retention: still a repeat, and not swept yet
    expect(await deliveries.claim('github/guest/t', 'd4')).toBe(true);
    await deliveries.idle();
    expect(await deliveries.claim('github/guest/t', 'd2')).toBe(false);

    now += 40_000; // d1-d3 are 70 s old, d4 40 s: this claim sets off a sweep of the first three
    expect(await deliveries.claim('github/guest/t', 'd5')).toBe(true);
    await deliveries.idle();
    const left = (await claimsStore.listDocs('feed-deliveries', { limit: 100, skip: 0 })).map((r) => r.id);
    expect(left).toEqual(['github/guest/t/d4', 'github/guest/t/d5']);
    expect(await deliveries.sweep(now + 1)).toBe(2);
    await claimsStore.close();
  });
});

describe('queueing a delivery once', () => {
  const setUp = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-queue-delivery-'));
    const store = await createEmbeddedStore(dir);
    const deliveries = new Deliveries(store);
    let enqueued = 0;
    // As the fire queues do: a job named after the delivery, a second one of the same name ignored.
    const enqueue = (delivery: string) => async () => {
      enqueued++;
      await store.putDoc('jobs', delivery, { delivery }).catch((err) => {
        if (!(err instanceof StoreConflictError)) throw err;
      });
    };
    const claimErrors: unknown[] = [];
    const queue = (delivery: string, enq = enqueue(delivery)) => queueDelivery(deliveries, 'github/guest/t', delivery, enq, (e) => claimErrors.push(e));
    return { dir, store, deliveries, queue, claimErrors, enqueued: () => enqueued };
  };

  it('queues the fire with the claim, the fire first in the log, and refuses the redelivery', async () => {
    const t = await setUp();
    expect(await t.queue('d1')).toBe('queued');
    // Never a claim without its fire: after a crash the log holds the fire at least.
    const log = readFileSync(join(t.dir, 'store.log'), 'utf8');
    expect(log.indexOf('"c":"jobs","id":"d1"')).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('"c":"jobs","id":"d1"')).toBeLessThan(log.indexOf('"id":"github/guest/t/d1"'));
    expect(await t.queue('d1')).toBe('duplicate');
    expect(t.enqueued()).toBe(1);
    await t.store.close();
  });

  it('queues one fire for two copies of a delivery arriving together', async () => {
    const t = await setUp();
    const outcomes = await Promise.all([t.queue('d2'), t.queue('d2')]);
    expect(outcomes.sort()).toEqual(['duplicate', 'queued']);
    expect((await t.store.listDocs('jobs', { limit: 10, skip: 0 })).map((r) => r.id)).toEqual(['d2']);
    await t.store.close();
  });

  it('leaves no claim when the fire could not be queued, so the redelivery gets through', async () => {
    const t = await setUp();
    await expect(t.queue('d3', async () => Promise.reject(new Error('queue down')))).rejects.toThrow('queue down');
    expect(await t.deliveries.seen('github/guest/t', 'd3')).toBe(false);
    expect(await t.queue('d3')).toBe('queued');
    await t.store.close();
  });

  it('keeps the fire queued when its claim cannot be written, and says so', async () => {
    const t = await setUp();
    const failing = new Deliveries({ ...t.store, putDoc: async () => Promise.reject(new Error('claims down')), getDoc: t.store.getDoc.bind(t.store) } as unknown as ArtifactStore);
    const claimErrors: unknown[] = [];
    expect(await queueDelivery(failing, 'github/guest/t', 'd4', async () => void (await t.store.putDoc('jobs', 'd4', {})), (e) => claimErrors.push(e))).toBe('queued');
    expect(claimErrors.map((e) => (e as Error).message)).toEqual(['claims down']);
    expect(await t.store.getDoc('jobs', 'd4')).toBeDefined();
    await t.store.close();
  });
});
