import { randomBytes, randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../support/controller-harness.js';
import { startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';
import { ECHO, sleep, until } from './alarms-support.js';
import { packageFeeds, slackHeaders, startStandIn } from './github-slack-support.js';

/**
 * GitHub and Slack events through `whiskhub standalone`: the feeds are created as `wsk` creates
 * them, a local stand-in plays GitHub's REST API and Slack's Web API, and deliveries are signed
 * as GitHub (with @octokit/webhooks-methods' own `sign`) and Slack (v0, as documented) sign them
 * and sent to the URL that CREATE registered.
 */
const SYSTEM_AUTH = '5d1c5a3e-7f41-4d7e-9c55-8a2b3c4d5e6f:' + 'G'.repeat(64);
const GH_TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const SLACK_SECRET = `slacksign${randomBytes(16).toString('hex')}`;
const SLACK_TOKEN = `xoxb-${randomBytes(12).toString('hex')}`;
const MAX_BODY = 64 * 1024;

let wh: StandaloneProcess;
let standIn: Awaited<ReturnType<typeof startStandIn>>;
const f = packageFeeds(() => wh);
const secrets: string[] = [GH_TOKEN, SLACK_SECRET, SLACK_TOKEN];

beforeAll(async () => {
  standIn = await startStandIn();
  wh = await startStandaloneProcess({
    env: {
      WHISKHUB_CONTAINER_FACTORY: 'process',
      WHISKHUB_AUTH_CACHE_MS: '0',
      WHISKHUB_SYSTEM_AUTH: SYSTEM_AUTH,
      WHISKHUB_LOG_LEVEL: 'debug',
      WHISKHUB_HOOKS_MAX_BODY_BYTES: String(MAX_BODY),
    },
  });
  for (const name of ['gh-echo', 'slack-echo']) {
    expect((await f.api('PUT', `/actions/${name}`, { exec: { kind: 'nodejs:default', code: ECHO } })).status).toBe(200);
  }
});

afterAll(async () => {
  const out = wh?.output() ?? '';
  expect(await wh?.stop()).toBe(0);
  await standIn?.close();
  // Nothing logged contains a secret: tokens, signing secrets, the hook secret, the guest key.
  for (const s of secrets) expect(out.includes(s), 'a secret was logged').toBe(false);
  // The guest key appears only in the two lines of the banner that tell users how to connect.
  expect(out.split(wh.guestAuth.split(':')[1]).length - 1).toBe(2);
});

const count = async (action: string) => (await f.api('GET', `/activations?count=true&name=${action}`)).body.activations as number;

describe('the catalog', () => {
  it('installs /whisk.system/github and /whisk.system/slack with their actions', async () => {
    const gh = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/actions/github/', { auth: wh.guestAuth });
    expect(gh.body.map((a: { name: string }) => a.name)).toEqual(['webhook']);
    const slack = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/actions/slack/', { auth: wh.guestAuth });
    expect(slack.body.map((a: { name: string }) => a.name).sort()).toEqual(['events', 'post']);
    const feed = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/actions/github/webhook?code=false', { auth: wh.guestAuth });
    expect(feed.body.annotations).toEqual(expect.arrayContaining([{ key: 'feed', value: true }]));
  });
});

describe('GitHub webhook feed', () => {
  const hookPath = '/hooks/v1/github/guest/gh-push';
  let secret = '';
  const deliver = async (event: string, body: string, delivery = randomUUID(), o: { signature?: string | null; contentType?: string; path?: string } = {}) => {
    const headers: Record<string, string> = { 'x-github-event': event, 'x-github-delivery': delivery, 'x-github-hook-id': '1', 'user-agent': 'GitHub-Hookshot/stand-in' };
    const sig = o.signature === undefined ? await sign(secret, body) : o.signature;
    if (sig !== null) headers['x-hub-signature-256'] = sig;
    const started = Date.now();
    const r = await http(wh.apiHost, 'POST', o.path ?? hookPath, { rawBody: body, contentType: o.contentType ?? 'application/json', headers });
    return { ...r, ms: Date.now() - started, delivery };
  };

  it('CREATE registers a signed repository hook with no API key in its URL, and deliveries fire the rule once each', async () => {
    const created = await f.create('gh-push', 'github/webhook', {
      username: 'octocat',
      repository: 'octocat/hello-world',
      accessToken: GH_TOKEN,
      events: 'push, issues',
      baseUrl: `${standIn.url}/gh`,
    });
    expect(created.status).toBe(200);
    const result = f.result(created);
    expect(result).toMatchObject({ status: 'success', trigger: '/guest/gh-push', hook: { id: 1, url: `${wh.apiHost}${hookPath}` } });
    expect(JSON.stringify(created.body)).not.toContain(GH_TOKEN);

    const made = standIn.seen.find((s) => s.method === 'POST' && s.path === '/gh/repos/octocat/hello-world/hooks')!;
    expect(made.headers.authorization).toBe(`Bearer ${GH_TOKEN}`);
    expect(made.body).toMatchObject({ name: 'web', active: true, events: ['push', 'issues'], config: { url: `${wh.apiHost}${hookPath}`, content_type: 'json' } });
    secret = made.body.config.secret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    secrets.push(secret);
    expect(made.body.config.url).not.toContain(wh.guestAuth.split(':')[1]);
    expect(made.body.config.url).not.toContain('@');

    expect((await f.api('PUT', '/rules/gh-rule', { trigger: '/_/gh-push', action: '/_/gh-echo' })).status).toBe(200);

    // ping is answered and fires nothing.
    const ping = await deliver('ping', JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 }));
    expect(ping.status).toBe(200);

    // A push fires the rule's action with the payload, the event name and the delivery id; GitHub is answered at once.
    const push = JSON.stringify({ ref: 'refs/heads/main', after: 'abc123', repository: { full_name: 'octocat/hello-world' }, pusher: { name: 'octocat' } });
    const first = await deliver('push', push);
    expect(first.status).toBe(202);
    expect(first.ms).toBeLessThan(2_000);
    const [fired] = await until('the push to reach gh-echo', async () => {
      const r = await f.results('gh-echo');
      return r.length ? r : undefined;
    });
    expect(fired).toEqual({ ref: 'refs/heads/main', after: 'abc123', repository: { full_name: 'octocat/hello-world' }, pusher: { name: 'octocat' }, github: { event: 'push', delivery: first.delivery, hookId: '1' } });

    // Redelivery of the same delivery id (GitHub's "Redeliver") fires nothing new.
    const again = await deliver('push', push, first.delivery);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ fired: false });
    // An event the feed did not ask for fires nothing.
    expect((await deliver('pull_request', JSON.stringify({ action: 'opened' }))).body).toMatchObject({ fired: false });

    // A second, different delivery fires again (an issues event).
    const issue = await deliver('issues', JSON.stringify({ action: 'opened', issue: { number: 7 } }));
    expect(issue.status).toBe(202);
    await until('the issue to reach gh-echo', async () => (await count('gh-echo')) === 2);

    // READ: the hook id, its URL and the last delivery; no secret.
    const read = await f.lifecycle('github/webhook', 'READ', 'gh-push');
    const status = f.result(read);
    expect(status.config).toEqual({ name: 'gh-push', namespace: 'guest', username: 'octocat', repository: 'octocat/hello-world', events: ['push', 'issues'], baseUrl: `${standIn.url}/gh` });
    expect(status.hook).toMatchObject({ id: 1, url: `${wh.apiHost}${hookPath}`, lastDelivery: { id: issue.delivery, event: 'issues' } });
    expect(status.status).toMatchObject({ active: true });
    for (const s of [GH_TOKEN, secret, wh.guestAuth.split(':')[1]]) expect(JSON.stringify(read.body)).not.toContain(s);
    await sleep(1_000);
    expect(await count('gh-echo')).toBe(2);
  });

  it('refuses bad deliveries with the right 4xx and fires nothing', async () => {
    const before = await count('gh-echo');
    const body = JSON.stringify({ ref: 'refs/heads/evil' });
    const bad = await deliver('push', body, randomUUID(), { signature: await sign('not-the-secret', body) });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain(secret);
    expect((await deliver('push', body, randomUUID(), { signature: null })).status).toBe(400);
    expect((await deliver('push', body, randomUUID(), { path: '/hooks/v1/github/guest/no-such-trigger' })).status).toBe(404);
    expect((await deliver('push', '{"ref": ', randomUUID())).status).toBe(400);
    expect((await deliver('push', 'ref=main', randomUUID(), { contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
    const huge = JSON.stringify({ blob: 'x'.repeat(MAX_BODY + 10) });
    expect((await deliver('push', huge, randomUUID())).status).toBe(413);
    await sleep(1_500);
    expect(await count('gh-echo')).toBe(before);
  });

  it('DELETE removes the repository hook it created; a CREATE that GitHub refuses fails with GitHub\'s answer', async () => {
    const deleted = await f.remove('gh-push', 'github/webhook');
    expect(f.result(deleted)).toEqual({ status: 'success' });
    expect(standIn.seen.some((s) => s.method === 'DELETE' && s.path === '/gh/repos/octocat/hello-world/hooks/1')).toBe(true);
    expect(standIn.hooks.has(1)).toBe(false);
    // Deliveries to the old URL now find nothing.
    expect((await deliver('push', JSON.stringify({ ref: 'x' }))).status).toBe(404);

    const refused = await f.create('gh-refused', 'github/webhook', { username: 'octocat', repository: 'forbidden', accessToken: GH_TOKEN, events: 'push', baseUrl: `${standIn.url}/gh` });
    expect(refused.body.response.success).toBe(false);
    expect(f.result(refused).error).toContain('GitHub refused to create the hook on octocat/forbidden (403): Resource not accessible by personal access token');
    expect((await f.api('GET', '/triggers/gh-refused')).status).toBe(404);
    const none = await f.lifecycle('github/webhook', 'READ', 'gh-refused');
    expect(f.result(none).error).toMatch(/could not find trigger \/guest\/gh-refused/);
  });
});

describe('Slack events feed', () => {
  const hookPath = '/hooks/v1/slack/guest/slack-events';
  const send = async (envelope: unknown, o: { secret?: string; timestamp?: number; headers?: Record<string, string>; raw?: string; path?: string } = {}) => {
    const body = o.raw ?? JSON.stringify(envelope);
    const started = Date.now();
    const r = await http(wh.apiHost, 'POST', o.path ?? hookPath, { rawBody: body, headers: { ...slackHeaders(o.secret ?? SLACK_SECRET, body, o.timestamp), ...o.headers } });
    return { ...r, ms: Date.now() - started };
  };
  const callback = (eventId: string, event: Record<string, unknown>) => ({
    token: 'legacy-verification-token',
    team_id: 'T0001',
    api_app_id: 'A0001',
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    event,
  });

  it('CREATE gives the Request URL; url_verification is answered; events fire once, retries fire nothing new', async () => {
    const created = await f.create('slack-events', 'slack/events', { signingSecret: SLACK_SECRET, eventTypes: 'app_mention, message' });
    expect(created.status).toBe(200);
    expect(f.result(created)).toMatchObject({ status: 'success', requestUrl: `${wh.apiHost}${hookPath}` });
    expect(JSON.stringify(created.body)).not.toContain(SLACK_SECRET);
    expect((await f.api('PUT', '/rules/slack-rule', { trigger: '/_/slack-events', action: '/_/slack-echo' })).status).toBe(200);

    const challenge = await send({ token: 'legacy', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
    expect(challenge.status).toBe(200);
    expect(challenge.body).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });

    const mention = callback('Ev0MENTION1', { type: 'app_mention', user: 'U123', text: '<@U0BOT> deploy please', channel: 'C123', ts: '1700000000.000200' });
    const acked = await send(mention);
    expect(acked.status).toBe(200);
    expect(acked.ms).toBeLessThan(2_000);
    const [fired] = await until('the mention to reach slack-echo', async () => {
      const r = await f.results('slack-echo');
      return r.length ? r : undefined;
    });
    const { token: _t, ...withoutToken } = mention;
    expect(fired).toEqual(withoutToken);

    // Slack retries the same event_id (X-Slack-Retry-Num) when it thinks we were slow: nothing new fires.
    const retry = await send(mention, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ fired: false });
    // Event types the feed did not ask for fire nothing.
    expect((await send(callback('Ev0REACT1', { type: 'reaction_added', reaction: 'tada' }))).body).toMatchObject({ fired: false });
    await sleep(1_500);
    expect(await count('slack-echo')).toBe(1);

    const read = f.result(await f.lifecycle('slack/events', 'READ', 'slack-events'));
    expect(read).toMatchObject({ config: { name: 'slack-events', namespace: 'guest', eventTypes: ['app_mention', 'message'] }, requestUrl: `${wh.apiHost}${hookPath}`, lastEvent: { id: 'Ev0MENTION1', type: 'app_mention' } });
    expect(JSON.stringify(read)).not.toContain(SLACK_SECRET);
  });

  it('refuses bad signatures, stale timestamps, unknown registrations, malformed JSON and oversize bodies, and fires nothing', async () => {
    const before = await count('slack-echo');
    const ev = callback('Ev0BAD1', { type: 'message', text: 'hi', channel: 'C123' });
    expect((await send(ev, { secret: 'wrong-secret' })).status).toBe(401);
    expect((await send(ev, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    expect((await send(ev, { path: '/hooks/v1/slack/guest/nobody' })).status).toBe(404);
    expect((await send(undefined, { raw: '{"type": "event_callback", ' })).status).toBe(400);
    expect((await send({ type: 'event_callback', event_id: 'Ev0HUGE', event: { type: 'message', text: 'x'.repeat(MAX_BODY) } })).status).toBe(413);
    await sleep(1_500);
    expect(await count('slack-echo')).toBe(before);
    // The same event, properly signed, still fires (the refusals claimed nothing).
    expect((await send(ev)).status).toBe(200);
    await until('the message to fire', async () => (await count('slack-echo')) === before + 1);
    expect(f.result(await f.remove('slack-events', 'slack/events'))).toEqual({ status: 'success' });
    expect((await send(ev)).status).toBe(404);
  });
});

describe('/whisk.system/slack/post', () => {
  it('posts with chat.postMessage and through incoming webhooks, and fails with Slack\'s error when Slack refuses', async () => {
    const ok = await f.invoke('slack/post', { token: SLACK_TOKEN, channel: 'general', text: 'deployed', baseUrl: `${standIn.url}/slack/api` });
    expect(ok.body.response.success).toBe(true);
    expect(ok.body.response.result).toEqual({ ok: true, channel: 'C0123', ts: '1700000000.000100' });
    const call = standIn.seen.filter((s) => s.path === '/slack/api/chat.postMessage').pop()!;
    expect(call.headers.authorization).toBe(`Bearer ${SLACK_TOKEN}`);
    expect(call.body).toMatchObject({ channel: 'general', text: 'deployed', username: 'Simple Message Bot' });

    const refused = await f.invoke('slack/post', { token: SLACK_TOKEN, channel: 'nope', text: 'deployed', baseUrl: `${standIn.url}/slack/api` });
    expect(refused.body.response.success).toBe(false);
    expect(refused.body.response.result.error).toBe('Slack refused the message: channel_not_found');
    expect(JSON.stringify(refused.body)).not.toContain(SLACK_TOKEN);

    const hook = await f.invoke('slack/post', { url: `${standIn.url}/slack/webhook/good`, text: 'hello', username: 'bot' });
    expect(hook.body.response.result).toEqual({ ok: true });
    const gone = await f.invoke('slack/post', { url: `${standIn.url}/slack/webhook/gone`, text: 'hello' });
    expect(gone.body.response.success).toBe(false);
    expect(gone.body.response.result.error).toBe('Slack refused the message (404): no_service');
  });
});
