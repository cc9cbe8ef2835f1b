import type { FastifyInstance } from 'fastify';
import { RUNTIMES } from '../../entities/runtimes.js';
import type { ControllerContext } from '../context.js';
import { VERSION } from '../../version.js';

/** Unauthenticated routes: the API description, system information and a liveness ping. */
export function registerMetaRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  const description = {
    description: 'OpenWhisk API',
    api_version: '1.0.0',
    api_version_path: 'v1',
    build: `whiskhub ${VERSION}`,
    buildno: VERSION,
    swagger_paths: { ui: '/docs', 'api-docs': '/api-docs' },
  };
  app.get('/api/v1', async () => description);
  app.get('/api/v1/', async () => description);
  app.get('/ping', async (_req, reply) => reply.type('text/plain').send('pong'));
  // A bare `application/json` (fastify would add a charset): wskdeploy trusts this answer only when
  // its content type is a substring of "application/json; charset=UTF-8", as OpenWhisk's is;
  // otherwise it falls back to a built-in runtime list whose nodejs default we do not run.
  app.get('/', { onSend: async (_req, reply, payload) => (reply.header('content-type', 'application/json'), payload) }, async () => {
    const t = ctx.config.throttles;
    const b = ctx.config.limitBounds;
    return {
      description: 'whiskhub, an OpenWhisk-compatible platform',
      support: { github: 'whiskhub', version: VERSION },
      runtimes: Object.fromEntries(
        Object.entries(RUNTIMES).map(([family, r]) => [family, r.kinds.map((kind) => ({ kind, default: kind === r.default }))]),
      ),
      limits: {
        actions_per_minute: t.invocationsPerMinute,
        triggers_per_minute: t.firesPerMinute,
        concurrent_actions: t.concurrentInvocations,
        sequence_length: ctx.config.sequenceMaxLength,
        min_action_duration: b.minTimeout,
        max_action_duration: b.maxTimeout,
        min_action_memory: b.minMemory * 1024 * 1024,
        max_action_memory: b.maxMemory * 1024 * 1024,
        min_action_logs: b.minLogs * 1024 * 1024,
        max_action_logs: b.maxLogs * 1024 * 1024,
      },
    };
  });
}
