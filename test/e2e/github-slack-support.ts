import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { http, type HttpResult } from '../support/controller-harness.js';
import type { StandaloneProcess } from '../support/standalone-process.js';

/** One request a stand-in received. */
export interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

/**
 * A local stand-in for GitHub's REST API (repository hooks, under /gh) and Slack's Web API and
 * incoming webhooks (under /slack), on 127.0.0.1. The real services are never contacted.
 *   POST   /gh/repos/{o}/{r}/hooks        201 {id}; repository `forbidden`: 403 like GitHub
 *   PATCH  /gh/repos/{o}/{r}/hooks/{id}   200, 404 when unknown
 *   DELETE /gh/repos/{o}/{r}/hooks/{id}   204, 404 when unknown
 *   POST   /slack/api/chat.postMessage    {ok, channel, ts}; channel `nope`: {ok:false, error:'channel_not_found'}; no Bearer: not_authed
 *   POST   /slack/webhook/good            200 ok;  /slack/webhook/gone: 404 no_service
 */
export async function startStandIn(): Promise<{ url: string; seen: Seen[]; hooks: Map<number, any>; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const hooks = new Map<number, any>();
  let nextId = 1;
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      let body: any;
      try {
        body = data ? JSON.parse(data) : undefined;
      } catch {
        body = data;
      }
      const path = req.url ?? '';
      seen.push({ method: req.method ?? '', path, headers: req.headers, body });
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      const hook = /^\/gh\/repos\/([^/]+)\/([^/]+)\/hooks(?:\/(\d+))?$/.exec(path);
      if (hook) {
        if (hook[2] === 'forbidden') return json(403, { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com/rest' });
        if (req.method === 'POST' && !hook[3]) {
          const id = nextId++;
          hooks.set(id, body);
          return json(201, { id, type: 'Repository', name: 'web', active: true, events: body.events, config: { ...body.config, secret: '********' } });
        }
        const id = Number(hook[3]);
        if (!hooks.has(id)) return json(404, { message: 'Not Found' });
        if (req.method === 'PATCH') {
          hooks.set(id, body);
          return json(200, { id });
        }
        if (req.method === 'DELETE') {
          hooks.delete(id);
          res.writeHead(204).end();
          return;
        }
      }
      if (path === '/slack/api/chat.postMessage') {
        if (!/^Bearer xoxb-/.test(String(req.headers.authorization))) return json(200, { ok: false, error: 'not_authed' });
        if (body.channel === 'nope') return json(200, { ok: false, error: 'channel_not_found' });
        return json(200, { ok: true, channel: 'C0123', ts: '1700000000.000100', message: { text: body.text } });
      }
      if (path === '/slack/webhook/good') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      if (path === '/slack/webhook/gone') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service');
      json(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, hooks, close: () => new Promise((r) => server.close(() => r())) };
}

/** Signs a Slack request exactly as Slack documents it: v0=hex(HMAC-SHA256(secret, "v0:<ts>:<body>")). */
export function slackHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-signature': sig, 'x-slack-request-timestamp': String(timestamp) };
}

/** Feeds of any /whisk.system package, driven as `wsk` drives them (see alarms-support.ts). */
export function packageFeeds(wh: () => StandaloneProcess) {
  const api = (method: string, path: string, body?: unknown, key = wh().guestAuth) => http(wh().apiHost, method, `/api/v1/namespaces/_${path}`, { auth: key, body });
  const invoke = (action: string, params: Record<string, unknown>) =>
    http(wh().apiHost, 'POST', `/api/v1/namespaces/whisk.system/actions/${action}?blocking=true&result=false`, { auth: wh().guestAuth, body: params });
  const lifecycle = (feed: string, event: string, trigger: string, params: Record<string, unknown> = {}) =>
    invoke(feed, { authKey: wh().guestAuth, ...params, lifecycleEvent: event, triggerName: `/_/${trigger}` });
  const result = (r: HttpResult) => r.body?.response?.result;

  /** `wsk trigger create <trigger> --feed /whisk.system/<feed> -p ...` */
  async function create(trigger: string, feed: string, params: Record<string, unknown>) {
    const put = await api('PUT', `/triggers/${trigger}?overwrite=false`, { name: trigger, annotations: [{ key: 'feed', value: `/whisk.system/${feed}` }] });
    if (put.status !== 200) throw new Error(`PUT trigger ${trigger}: ${put.status} ${put.text}`);
    const r = await lifecycle(feed, 'CREATE', trigger, params);
    if (r.status !== 200 || !r.body?.response?.success) await api('DELETE', `/triggers/${trigger}`);
    return r;
  }

  /** `wsk trigger delete <trigger>`: DELETE through the feed, then the trigger. */
  async function remove(trigger: string, feed: string) {
    const r = await lifecycle(feed, 'DELETE', trigger);
    await api('DELETE', `/triggers/${trigger}`);
    return r;
  }

  async function results(action: string): Promise<Record<string, any>[]> {
    const r = await api('GET', `/activations?name=${action}&docs=true&limit=200`);
    return (r.body as { response: { result: Record<string, any> } }[]).map((a) => a.response.result);
  }

  return { api, invoke, lifecycle, result, create, remove, results };
}
