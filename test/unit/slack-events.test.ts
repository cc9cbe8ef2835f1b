import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Deliveries, HOOKS_PREFIX } from '../../feeds/kit/hooks.js';
import type { FeedEvents } from '../../feeds/kit/provider.js';
import { Registrations } from '../../feeds/kit/registrations.js';
import { slackHooks } from '../../feeds/slack/receive.js';
import { SlackProvider } from '../../feeds/slack/start.js';
import { validateSlackCreate, validateSlackUpdate } from '../../feeds/slack/validate.js';
import { installErrorHandling } from '../../src/controller/http/error-handler.js';
import { createLogger } from '../../src/logging/logger.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';

const SECRET = 'slack-signing-secret-for-tests';

describe('slack events parameters', () => {
  it('needs a signing secret; eventTypes is optional and trimmed', () => {
    expect(validateSlackCreate({ signingSecret: SECRET })).toEqual({ signingSecret: SECRET, eventTypes: [] });
    expect(validateSlackCreate({ signingSecret: SECRET, eventTypes: ' message , app_mention' }).eventTypes).toEqual(['message', 'app_mention']);
    expect(() => validateSlackCreate({})).toThrow(/signingSecret/);
    expect(() => validateSlackCreate({ signingSecret: SECRET, eventTypes: 'Bad Type' })).toThrow(/not a Slack event type/);
    expect(validateSlackUpdate({ signingSecret: SECRET, eventTypes: [] }, { eventTypes: 'message' })).toEqual({ signingSecret: SECRET, eventTypes: ['message'] });
    expect(() => validateSlackUpdate({ signingSecret: SECRET, eventTypes: [] }, {})).toThrow(/UPDATE needs/);
  });
});

describe('the Slack delivery endpoint', () => {
  let store: ArtifactStore;
  let app: FastifyInstance;
  let enqueued: any[];
  const path = `${HOOKS_PREFIX}/slack/guest/s`;

  beforeEach(async () => {
    store = await createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-slack-')));
    const registrations = new Registrations(store);
    const provider = new SlackProvider(registrations, new Deliveries(store), () => 'http://hub.example/', createLogger('silent'));
    enqueued = [];
    await provider.start({ enqueue: async (job: unknown) => void enqueued.push(job), count: () => undefined } as unknown as FeedEvents);
    await registrations.put({
      id: 'slack/guest/s', provider: 'slack', feed: 'events', namespace: 'guest', trigger: 's', authKey: 'u:k', config: validateSlackCreate({ signingSecret: SECRET, eventTypes: 'message' }),
      status: { active: true, dateChanged: 0 }, counters: { fired: 0, failed: 0, missed: 0, caughtUp: 0 }, generation: 3, activeSince: 0, created: 0, updated: 0,
    });
    expect(provider.describe((await registrations.get<any>('slack/guest/s'))!.doc).requestUrl).toBe('http://hub.example/hooks/v1/slack/guest/s');
    app = Fastify();
    installErrorHandling(app);
    await app.register(slackHooks(provider, 4096), { prefix: HOOKS_PREFIX });
  });

  afterEach(async () => {
    await app.close();
    await store.close();
  });

  /** Signed as Slack documents: v0=hex(HMAC-SHA256(secret, "v0:<ts>:<body>")). */
  const post = (body: string, o: { secret?: string; ts?: number; retry?: string } = {}) => {
    const ts = o.ts ?? Math.floor(Date.now() / 1000);
    const sig = 'v0=' + createHmac('sha256', o.secret ?? SECRET).update(`v0:${ts}:${body}`).digest('hex');
    return app.inject({ method: 'POST', url: path, payload: body, headers: { 'content-type': 'application/json', 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts), ...(o.retry ? { 'x-slack-retry-num': o.retry } : {}) } });
  };
  const event = (id: string, type = 'message') => JSON.stringify({ token: 'legacy', type: 'event_callback', event_id: id, event_time: 1700000000, event: { type, text: 'hi' } });

  it('answers url_verification, queues an event once (retries fire nothing), drops the legacy token', async () => {
    const v = await post(JSON.stringify({ type: 'url_verification', challenge: 'abc', token: 'legacy' }));
    expect(v.statusCode).toBe(200);
    expect(v.json()).toEqual({ challenge: 'abc' });
    expect((await post(event('Ev1'))).statusCode).toBe(200);
    expect((await post(event('Ev1'), { retry: '1' })).json()).toMatchObject({ fired: false });
    expect((await post(event('Ev2', 'reaction_added'))).json()).toMatchObject({ fired: false });
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]).toMatchObject({ id: 'slack/guest/s/Ev1', idempotencyKey: 'slack:Ev1', generation: 3, eventTime: 1700000000000 });
    expect(enqueued[0].payload).toEqual({ type: 'event_callback', event_id: 'Ev1', event_time: 1700000000, event: { type: 'message', text: 'hi' } });
  });

  it('refuses a wrong signature or a stale timestamp with 401, malformed JSON 400, too large 413', async () => {
    expect((await post(event('Ev3'), { secret: 'wrong' })).statusCode).toBe(401);
    expect((await post(event('Ev3'), { ts: Math.floor(Date.now() / 1000) - 301 })).statusCode).toBe(401);
    expect((await post(event('Ev3'), { ts: Math.floor(Date.now() / 1000) + 3600 })).statusCode).toBe(401);
    expect((await post('{"type":')).statusCode).toBe(400);
    expect((await post(JSON.stringify({ type: 'event_callback', event_id: 'Ev4', event: { type: 'message', text: 'x'.repeat(5000) } }))).statusCode).toBe(413);
    const unsigned = await app.inject({ method: 'POST', url: path, payload: event('Ev3'), headers: { 'content-type': 'application/json' } });
    expect(unsigned.statusCode).toBe(401);
    expect(enqueued).toHaveLength(0);
  });
});
