import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../entities/errors.js';
import type { AdminService } from './admin-service.js';

/**
 * The admin API a running standalone exposes so that `whiskhub admin` works while it runs (the
 * embedded store allows one process). Guarded by a bearer token kept in the data directory with
 * mode 0600: whoever can read the data can already do anything with it.
 */
export function registerAdminRoutes(app: FastifyInstance, admin: AdminService, token: string): void {
  app.register(
    async (api) => {
      api.addHook('onRequest', async (req) => {
        const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
        const want = Buffer.from(token);
        if (given.length !== want.length || !timingSafeEqual(given, want)) {
          throw new HubError(401, 'UNAUTHENTICATED', 'The admin API needs the token from the data directory.');
        }
      });
      api.post<{ Body: { subject: string; namespace?: string; auth?: string } }>('/users', async (req) =>
        admin.createUser(String(req.body?.subject ?? ''), { namespace: req.body?.namespace, auth: req.body?.auth }),
      );
      api.get<{ Querystring: { namespace?: string } }>('/users', async (req) => admin.listUsers(req.query.namespace));
      api.get<{ Params: { subject: string } }>('/users/:subject', async (req) => admin.getUser(req.params.subject));
      api.delete<{ Params: { subject: string }; Querystring: { namespace?: string } }>('/users/:subject', async (req) => {
        await admin.deleteUser(req.params.subject, req.query.namespace);
        return { ok: true };
      });
      api.post<{ Params: { subject: string }; Body: { blocked: boolean } }>('/users/:subject/blocked', async (req) => {
        await admin.setBlocked(req.params.subject, req.body?.blocked === true);
        return { ok: true };
      });
      api.put<{ Params: { namespace: string }; Body: Record<string, number> | null }>('/limits/:namespace', async (req) =>
        admin.setLimits(req.params.namespace, req.body ?? undefined),
      );
    },
    { prefix: '/admin/v1' },
  );
}
