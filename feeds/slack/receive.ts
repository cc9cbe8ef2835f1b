import { isValidSlackRequest } from '@slack/bolt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError, notFound } from '../../src/entities/errors.js';
import { parseObject, queueHookDelivery, rawBody, rawJsonBodies } from '../kit/hooks.js';
import { registrationId } from '../kit/registration.js';
import type { SlackConfig } from './slack-config.js';
import type { SlackProvider } from './start.js';

type Params = { ns: string; trigger: string };

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' && v ? v : undefined;
};

/**
 * Slack Events API deliveries, `POST /slack/{ns}/{trigger}` under HOOKS_PREFIX. Verified as Bolt
 * verifies them (its own `isValidSlackRequest`: v0 HMAC of `v0:<timestamp>:<raw body>` in
 * constant time, timestamps older than 5 minutes refused): 401 otherwise. Then url_verification
 * is answered with the challenge, an event_callback whose event_id was seen before (Slack's
 * retries) fires nothing new, event types the feed did not ask for are skipped, and the rest is
 * queued and answered 200 at once, well inside Slack's 3 s. The envelope's legacy verification
 * `token` is not passed on.
 */
export function slackHooks(provider: SlackProvider, maxBodyBytes: number) {
  return async function routes(app: FastifyInstance): Promise<void> {
    rawJsonBodies(app, maxBodyBytes);
    app.post<{ Params: Params }>('/slack/:ns/:trigger', async (req, reply) => receive(provider, req, reply));
  };
}

async function receive(provider: SlackProvider, req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) {
  const id = registrationId(provider.name, req.params.ns, req.params.trigger);
  const got = await provider.registrations.get<SlackConfig>(id);
  if (!got) throw notFound('There is no Slack feed registration at this URL.');
  const reg = got.doc;
  const raw = rawBody(req.body).toString('utf8');
  const signature = header(req, 'x-slack-signature');
  const timestamp = Number(header(req, 'x-slack-request-timestamp'));
  const valid =
    !!signature &&
    Number.isInteger(timestamp) &&
    timestamp <= Math.floor(Date.now() / 1000) + 300 &&
    isValidSlackRequest({ signingSecret: reg.config.signingSecret, body: raw, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } });
  if (!valid) {
    provider.events?.count(provider.name, 'rejected');
    throw new HubError(401, 'BAD_SIGNATURE', 'The request is not signed with the Slack app\'s signing secret, or its timestamp is more than 5 minutes off.');
  }
  const { token: _legacyToken, ...envelope } = parseObject(Buffer.from(raw, 'utf8'));
  if (envelope.type === 'url_verification') return reply.code(200).send({ challenge: envelope.challenge });
  if (envelope.type !== 'event_callback') return reply.code(200).send({ ok: true, fired: false, reason: `'${String(envelope.type)}' requests do not fire` });
  const event = (envelope.event ?? {}) as Record<string, unknown>;
  const eventId = typeof envelope.event_id === 'string' && envelope.event_id ? envelope.event_id : undefined;
  if (!eventId) throw new HubError(400, 'BAD_DELIVERY', 'The event_callback carries no event_id.');
  const type = String(event.type ?? '');
  if (!reg.status.active) return reply.code(200).send({ ok: true, fired: false, reason: 'the feed registration is not active' });
  if (reg.config.eventTypes.length && !reg.config.eventTypes.includes(type)) {
    return reply.code(200).send({ ok: true, fired: false, reason: `the feed does not fire for '${type}' events` });
  }
  const outcome = await queueHookDelivery(provider, req.log, eventId, {
    id: `${id}/${eventId}`,
    registrationId: id,
    generation: reg.generation,
    namespace: reg.namespace,
    trigger: reg.trigger,
    payload: envelope,
    idempotencyKey: `slack:${eventId}`,
    eventTime: typeof envelope.event_time === 'number' ? envelope.event_time * 1000 : Date.now(),
  });
  if (outcome === 'duplicate') return reply.code(200).send({ ok: true, fired: false, reason: 'event already received' });
  const at = new Date().toISOString();
  provider.lastDeliveries.note<SlackConfig>(id, (cur) => ({ ...cur, config: { ...cur.config, lastEvent: { id: eventId, type, at } } }));
  return reply.code(200).send({ ok: true, fired: 'queued', event_id: eventId });
}
