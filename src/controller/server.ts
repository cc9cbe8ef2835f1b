import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ControllerContext } from './context.js';
import { installCommonHeaders } from './http/cors.js';
import { installErrorHandling } from './http/error-handler.js';
import { handleFrameworkError } from './http/framework-errors.js';
import { installJsonParser } from './http/json-body.js';
import { requestId } from './http/request-id.js';
import { registerActionRoutes } from './routes/action-routes.js';
import { registerActivationRoutes } from './routes/activation-routes.js';
import { registerDeadLetterRoutes } from './routes/deadletter-routes.js';
import { registerTraceRoute } from './routes/trace-route.js';
import { registerMetaRoutes } from './routes/meta-routes.js';
import { registerNamespaceRoutes } from './routes/namespace-routes.js';
import { registerPackageRoutes } from './routes/package-routes.js';
import { registerRuleRoutes } from './routes/rule-routes.js';
import { registerTriggerRoutes } from './routes/trigger-routes.js';
import { WEB_PREFIX, webActionRoutes } from './web/web-routes.js';

/** Action code may be up to 48 MB; the rest of a PUT body rides on top of that. */
const MAX_BODY_BYTES = 50 * 1024 * 1024;

/** Builds the controller's HTTP app: the OpenWhisk REST API under /api/v1. */
export async function buildControllerApp(ctx: ControllerContext, extra?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // Per-request log lines would halve throughput; refusals and failures are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    // No per-request child logger: building one (with redaction) costs more than the rest of an
    // authenticated GET. The few lines a request logs carry its id explicitly (error-handler.ts).
    childLoggerFactory: (logger) => logger,
    bodyLimit: MAX_BODY_BYTES,
    routerOptions: { maxParamLength: 2048 },
    frameworkErrors: handleFrameworkError,
  });
  installJsonParser(app);
  installCommonHeaders(app);
  installErrorHandling(app);
  app.decorateRequest('identity', null as never);
  registerMetaRoutes(app, ctx);

  await app.register(
    async (api) => {
      api.addHook('onRequest', (request, _reply, done) => {
        try {
          const cached = ctx.auth.authenticateCached(request.headers.authorization);
          if (cached) {
            request.identity = cached;
            return done();
          }
        } catch (err) {
          return done(err as Error);
        }
        ctx.auth.authenticate(request.headers.authorization).then((identity) => {
          request.identity = identity;
          done();
        }, done);
      });
      registerNamespaceRoutes(api, ctx);
      registerActionRoutes(api, ctx);
      registerPackageRoutes(api, ctx);
      registerTriggerRoutes(api, ctx);
      registerRuleRoutes(api, ctx);
      registerActivationRoutes(api, ctx);
      registerTraceRoute(api, ctx);
      registerDeadLetterRoutes(api, ctx);
    },
    { prefix: '/api/v1' },
  );
  await app.register(webActionRoutes(ctx), { prefix: WEB_PREFIX });
  extra?.(app);
  return app;
}
