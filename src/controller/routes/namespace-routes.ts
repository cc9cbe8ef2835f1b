import type { FastifyInstance } from 'fastify';
import type { ControllerContext } from '../context.js';
import { requireOwner, resolveNamespace } from '../entity-access.js';

export function registerNamespaceRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  // Each key belongs to exactly one namespace, so the list has one entry.
  app.get('/namespaces', async (req) => [req.identity.namespace]);

  app.get<{ Params: { ns: string } }>('/namespaces/:ns/limits', async (req) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    requireOwner(namespace, req.identity, namespace);
    const t = ctx.throttles.limitsFor(req.identity);
    const b = ctx.config.limitBounds;
    return {
      invocationsPerMinute: t.invocationsPerMinute,
      concurrentInvocations: t.concurrentInvocations,
      firesPerMinute: t.firesPerMinute,
      maxActionInstances: t.concurrentInvocations,
      minActionMemory: b.minMemory,
      maxActionMemory: b.maxMemory,
      minActionLogs: b.minLogs,
      maxActionLogs: b.maxLogs,
      minActionTimeout: b.minTimeout,
      maxActionTimeout: b.maxTimeout,
      minActionConcurrency: b.minConcurrency,
      maxActionConcurrency: b.maxConcurrency,
      maxParameterSize: '1048576 B',
    };
  });
}
