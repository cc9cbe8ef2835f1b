import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../../src/entities/errors.js';
import type { FeedKit } from './feed-kit.js';
import { FeedLifecycle, type FeedRequest } from './lifecycle.js';

/** Where the provider API lives, on the controller's port in standalone and on a provider's own port in the cluster. */
export const FEEDS_PREFIX = '/feeds/v1';

type Params = { provider: string; ns: string; trigger: string };

function authKeyOf(req: FastifyRequest): string {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  const key = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
  if (!key.includes(':')) throw new HubError(401, 'FEED_AUTH', 'The feed request needs the caller\'s authKey as Basic authorization.');
  return key;
}

function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new HubError(400, 'MALFORMED', 'The feed parameters must be a JSON object.');
  return b as Record<string, unknown>;
}

/**
 * The provider API the feed actions call (a Fastify plugin; register it under FEEDS_PREFIX):
 *
 *   POST   /{provider}/triggers/{ns}/{trigger}          CREATE  body: {feed, ...feed parameters}
 *   GET    /{provider}/triggers/{ns}/{trigger}          READ
 *   PUT    /{provider}/triggers/{ns}/{trigger}          UPDATE  body: the parameters to change
 *   DELETE /{provider}/triggers/{ns}/{trigger}          DELETE
 *   POST   /{provider}/triggers/{ns}/{trigger}/pause    PAUSE
 *   POST   /{provider}/triggers/{ns}/{trigger}/unpause  UNPAUSE
 *   GET    /health, GET /metrics (Prometheus text)
 *
 * Authorization: Basic with the trigger owner's `uuid:key` (the feed action's `authKey`); `{ns}`
 * may be `_`. Errors are `{error, code}` with the status (400 invalid parameters, 401/403/404 from
 * the trigger check).
 */
export function feedProviderApi(kit: FeedKit) {
  const lifecycle = new FeedLifecycle(kit);
  return async function routes(app: FastifyInstance): Promise<void> {
    const ref = (req: FastifyRequest<{ Params: Params }>): FeedRequest => ({
      provider: req.params.provider,
      namespace: req.params.ns,
      trigger: req.params.trigger,
      authKey: authKeyOf(req),
    });
    const path = '/:provider/triggers/:ns/:trigger';

    app.get('/health', async () => kit.health());
    app.get('/metrics', async (_req, reply) => reply.header('content-type', 'text/plain; version=0.0.4').send(await kit.metricsText()));

    app.post<{ Params: Params }>(path, async (req) => {
      const { feed, ...params } = bodyOf(req);
      if (typeof feed !== 'string' || !feed) throw new HubError(400, 'BAD_REQUEST', 'The CREATE request names no feed (alarm, once, interval, …).');
      return lifecycle.create(ref(req), feed, params);
    });
    app.get<{ Params: Params }>(path, async (req) => lifecycle.read(ref(req)));
    app.put<{ Params: Params }>(path, async (req) => {
      const { feed: _feed, ...params } = bodyOf(req);
      return lifecycle.update(ref(req), params);
    });
    app.delete<{ Params: Params }>(path, async (req) => lifecycle.delete(ref(req)));
    app.post<{ Params: Params }>(`${path}/pause`, async (req) => lifecycle.pause(ref(req)));
    app.post<{ Params: Params }>(`${path}/unpause`, async (req) => lifecycle.unpause(ref(req)));
  };
}
