import type { ActivationDoc, Identity, TriggerDoc } from '../entities/documents.js';
import { HubError } from '../entities/errors.js';
import { newActivationId } from '../entities/ids.js';
import { parseQualifiedName, type EntityRef } from '../entities/names.js';
import { toObject } from '../entities/params.js';
import type { Logger } from '../logging/logger.js';

/** Invokes one rule's action, non-blocking, as the firing user (with the usual checks). */
export type InvokeForRule = (identity: Identity, action: EntityRef, args: Record<string, unknown>, transactionId: string) => Promise<{ activationId: string }>;

export interface FireInput {
  identity: Identity;
  trigger: TriggerDoc;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  transactionId: string;
}

/** One line of a trigger record's logs: a rule's outcome, as OpenWhisk writes it. */
interface RuleOutcome {
  statusCode: number;
  success: boolean;
  activationId?: string;
  error?: string;
  rule: string;
  action: string;
}

/**
 * Trigger firing with OpenWhisk's semantics: no active rule means nothing happens (the caller
 * gets 204 and no record); otherwise the caller gets the trigger activation id at once, every
 * active rule invokes its action with the trigger's parameters under the fire payload, and the
 * trigger record lists each rule's outcome.
 */
export class TriggerFirer {
  constructor(
    private readonly invoke: InvokeForRule,
    private readonly writeRecord: (doc: ActivationDoc) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** Undefined when no rule is active (204); else the trigger activation id, fan-out under way. */
  fire(input: FireInput): { activationId: string; done: Promise<ActivationDoc> } | undefined {
    const rules = Object.entries(input.trigger.rules ?? {});
    if (!rules.some(([, link]) => link.status === 'active')) return undefined;
    const activationId = newActivationId();
    const start = Date.now();
    const done = this.fanOut(input, rules, activationId, start);
    return { activationId, done };
  }

  private async fanOut(input: FireInput, rules: [string, NonNullable<TriggerDoc['rules']>[string]][], activationId: string, start: number) {
    const args = { ...toObject(input.trigger.parameters), __ow_headers: input.headers, ...input.payload };
    const outcomes = await Promise.all(
      rules.map(async ([ruleId, link]): Promise<RuleOutcome> => {
        const action = `${link.action.path}/${link.action.name}`;
        if (link.status !== 'active') {
          return { statusCode: 1, success: false, error: `Rule '${ruleId}' is inactive, action '${action}' was not activated.`, rule: ruleId, action };
        }
        try {
          const ref = parseQualifiedName(`/${action}`, input.identity.namespace);
          const { activationId: id } = await this.invoke(input.identity, ref, args, input.transactionId);
          return { statusCode: 0, success: true, activationId: id, rule: ruleId, action };
        } catch (err) {
          const status = err instanceof HubError ? err.status : 500;
          return { statusCode: status < 500 ? 1 : 3, success: false, error: (err as Error).message, rule: ruleId, action };
        }
      }),
    );
    const record: ActivationDoc = {
      namespace: input.identity.namespace,
      name: input.trigger.name,
      version: input.trigger.version,
      subject: input.identity.subject,
      publish: false,
      activationId,
      start,
      end: 0,
      response: { statusCode: 0, status: 'success', success: true, result: input.payload },
      logs: outcomes.map((o) => JSON.stringify(o)),
      annotations: [],
      entityPaths: [input.trigger.name],
    };
    try {
      await this.writeRecord(record);
    } catch (err) {
      this.logger.error({ err, activationId }, 'could not store a trigger activation record');
    }
    return record;
  }
}
