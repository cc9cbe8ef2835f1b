import type { FastifyInstance } from 'fastify';
import type { ActivationDoc } from '../../entities/documents.js';
import { notFound } from '../../entities/errors.js';
import { validateActivationId } from '../../entities/ids.js';
import type { RuleOutcome } from '../../triggers/fire-job.js';
import type { ControllerContext } from '../context.js';
import { requireOwner, resolveNamespace } from '../entity-access.js';
import { statusText } from '../serialize.js';

const FIRES = 'fires';

/**
 * `GET /namespaces/{ns}/activations/{id}/trace`: from a trigger activation id, the fire, every
 * rule's decision and each action activation with its status, in one call (the gap of
 * apache/openwhisk#966). While the fan-out is still running the trace says so.
 */
export function registerTraceRoute(app: FastifyInstance, ctx: ControllerContext): void {
  app.get<{ Params: { ns: string; id: string } }>('/namespaces/:ns/activations/:id/trace', async (req) => {
    const namespace = resolveNamespace(req.params.ns, req.identity);
    requireOwner(namespace, req.identity, namespace);
    const id = validateActivationId(req.params.id);
    const record = await ctx.store.getActivation(namespace, id);
    let outcomes: RuleOutcome[];
    let state: 'done' | 'in progress';
    if (record) {
      outcomes = record.logs.map((l) => JSON.parse(l) as RuleOutcome);
      state = 'done';
    } else {
      const job = await ctx.store.getDoc<{ namespace: string; rules: { ruleId: string; action: { path: string; name: string } }[]; outcomes: Record<string, RuleOutcome> }>(FIRES, id);
      if (!job || job.doc.namespace !== namespace) throw notFound();
      outcomes = job.doc.rules.map(
        (r) => job.doc.outcomes[r.ruleId] ?? { statusCode: -1, success: false, rule: r.ruleId, action: `${r.action.path}/${r.action.name}`, error: 'pending' },
      );
      state = 'in progress';
    }
    const rules = await Promise.all(
      outcomes.map(async (o) => {
        const decision = o.skipped ? 'filtered out' : o.activationId ? 'invoked' : o.deadLetter ? 'dead-lettered' : o.error === 'pending' ? 'pending' : 'not invoked';
        const activation = o.activationId ? await ctx.store.getActivation(namespace, o.activationId) : undefined;
        return { rule: o.rule, action: o.action, decision, error: decision === 'invoked' ? undefined : o.error, deadLetter: o.deadLetter, activation: o.activationId ? brief(o.activationId, activation) : undefined };
      }),
    );
    return {
      fire: record ? { activationId: id, trigger: record.name, start: record.start, payload: record.response.result } : { activationId: id },
      state,
      rules,
    };
  });
}

/** An action activation's status, or `running` while its record is not written yet. */
function brief(activationId: string, a: ActivationDoc | undefined) {
  if (!a) return { activationId, status: 'running' };
  return { activationId, status: statusText(a.response.statusCode), success: a.response.statusCode === 0, start: a.start, end: a.end, duration: a.duration };
}
