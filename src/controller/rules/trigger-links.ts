import type { RuleDoc, RuleLink, TriggerDoc } from '../../entities/documents.js';
import { StoreConflictError, type ArtifactStore } from '../../store/artifact-store.js';

export const triggerIdOf = (rule: RuleDoc) => `${rule.trigger.path}/${rule.trigger.name}`;
export const ruleIdOf = (rule: RuleDoc) => `${rule.namespace}/${rule.name}`;

/**
 * Changes one entry of a trigger's `rules` map (a rule's link and status live on the trigger, as
 * in OpenWhisk, so firing needs one read). Retries on a concurrent write; a missing trigger is
 * reported as `false`.
 */
export async function updateTriggerLink(
  store: ArtifactStore,
  triggerId: string,
  ruleId: string,
  link: RuleLink | undefined,
): Promise<boolean> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const got = await store.getEntity(triggerId);
    if (!got || got.doc.entityType !== 'trigger') return false;
    const trigger = got.doc as TriggerDoc;
    const rules = { ...(trigger.rules ?? {}) };
    if (link) rules[ruleId] = link;
    else if (!(ruleId in rules)) return true;
    else delete rules[ruleId];
    try {
      await store.putEntity(triggerId, { ...trigger, rules }, got.rev);
      return true;
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
    }
  }
  throw new StoreConflictError(triggerId);
}

/** A rule's status is read from its trigger: no trigger or no entry means inactive. */
export async function ruleStatus(store: ArtifactStore, rule: RuleDoc): Promise<'active' | 'inactive'> {
  const got = await store.getEntity(triggerIdOf(rule));
  if (!got || got.doc.entityType !== 'trigger') return 'inactive';
  return (got.doc as TriggerDoc).rules?.[ruleIdOf(rule)]?.status ?? 'inactive';
}
