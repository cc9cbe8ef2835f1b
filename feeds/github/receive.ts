import { verify } from '@octokit/webhooks-methods';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError, notFound } from '../../src/entities/errors.js';
import { appendField, withLargeJsonText } from '../../src/entities/json-text.js';
import { parseObject, queueHookDelivery, rawBody, rawJsonBodies } from '../kit/hooks.js';
import { registrationId } from '../kit/registration.js';
import type { GitHubConfig } from './github-config.js';
import type { GitHubProvider } from './start.js';

type Params = { ns: string; trigger: string };

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' && v ? v : undefined;
};

/**
 * GitHub deliveries, `POST /github/{ns}/{trigger}` under HOOKS_PREFIX. As @octokit/webhooks'
 * middleware answers: non-JSON 415, missing X-GitHub-Event / X-Hub-Signature-256 /
 * X-GitHub-Delivery 400, a signature that does not verify (constant time, over the raw body)
 * 400, malformed JSON 400; unknown registration 404; too large 413. Then: `ping` is answered
 * and not fired, events the feed did not ask for are answered and not fired, a delivery id seen
 * before fires nothing new, and anything else is queued (durably) and answered 202 at once: the
 * fire happens after the answer, well inside GitHub's 10 s.
 */
export function githubHooks(provider: GitHubProvider, maxBodyBytes: number) {
  return async function routes(app: FastifyInstance): Promise<void> {
    rawJsonBodies(app, maxBodyBytes);
    app.post<{ Params: Params }>('/github/:ns/:trigger', async (req, reply) => receive(provider, req, reply));
  };
}

async function receive(provider: GitHubProvider, req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) {
  const event = header(req, 'x-github-event');
  const signature = header(req, 'x-hub-signature-256');
  const delivery = header(req, 'x-github-delivery');
  const missing = [!event && 'X-GitHub-Event', !signature && 'X-Hub-Signature-256', !delivery && 'X-GitHub-Delivery'].filter(Boolean);
  if (missing.length) throw new HubError(400, 'BAD_DELIVERY', `Required headers missing: ${missing.join(', ')}`);
  const id = registrationId(provider.name, req.params.ns, req.params.trigger);
  const got = await provider.registrations.get<GitHubConfig>(id);
  if (!got) throw notFound('There is no GitHub feed registration at this URL.');
  const reg = got.doc;
  const raw = rawBody(req.body).toString('utf8');
  if (!(await verify(reg.config.secret, raw, signature!).catch(() => false))) {
    provider.events?.count(provider.name, 'rejected');
    throw new HubError(400, 'BAD_SIGNATURE', 'signature does not match event payload and secret');
  }
  const payload = parseObject(raw);
  if (event === 'ping') return reply.code(200).send({ ok: true, ping: true });
  if (!reg.status.active) return reply.code(200).send({ ok: true, fired: false, reason: 'the feed registration is not active' });
  if (!reg.config.events.includes('*') && !reg.config.events.includes(event!)) {
    return reply.code(200).send({ ok: true, fired: false, reason: `the feed does not fire for '${event}' events` });
  }
  const outcome = await queueHookDelivery(provider, req.log, delivery!, {
    id: `${id}/${delivery}`,
    registrationId: id,
    generation: reg.generation,
    namespace: reg.namespace,
    trigger: reg.trigger,
    payload: withGitHub(payload, raw, { event: event!, delivery: delivery!, hookId: header(req, 'x-github-hook-id') ?? reg.config.hookId }),
    idempotencyKey: `github:${delivery}`,
    eventTime: Date.now(),
  });
  if (outcome === 'duplicate') return reply.code(200).send({ ok: true, fired: false, reason: 'delivery already received' });
  const at = new Date().toISOString();
  provider.lastDeliveries.note<GitHubConfig>(id, (cur) => ({ ...cur, config: { ...cur.config, lastDelivery: { id: delivery!, event: event!, at } } }));
  return reply.code(202).send({ ok: true, fired: 'queued', delivery });
}

/**
 * The fire payload: GitHub's event with what we know of the delivery under `github`. Its JSON
 * text is made from the delivery's own (already parsed, so valid), noted on it for the stores.
 */
function withGitHub(event: Record<string, unknown>, eventJson: string, github: { event: string; delivery: string; hookId?: unknown }): Record<string, unknown> {
  return withLargeJsonText({ ...event, github }, appendField(eventJson, 'github', JSON.stringify(github)));
}
