import type { Identity, TriggerDoc } from '../entities/documents.js';
import { newActivationId } from '../entities/ids.js';
import { withFieldTexts } from '../entities/json-text.js';
import { toObject } from '../entities/params.js';
import { StoreConflictError, type ArtifactStore } from '../store/artifact-store.js';
import type { FireJob } from './fire-job.js';
import type { FireQueue } from './fire-queue.js';

export interface FireRequestInput {
  identity: Identity;
  trigger: TriggerDoc;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  transactionId: string;
  /** From the `X-Idempotency-Key` header: a repeat within the window fires nothing. */
  idempotencyKey?: string;
}

export interface FireAnswer {
  /** 202 with the trigger activation id, or 204 when no rule is active. */
  status: 202 | 204;
  activationId?: string;
  /** True when an earlier fire with the same idempotency key answered this. */
  repeated: boolean;
}

interface FireKeyDoc {
  status: 202 | 204;
  activationId?: string;
  at: number;
}

const KEYS = 'fire-keys';

/**
 * Accepts fires: decides 202 or 204 as OpenWhisk does, makes the fire durable in the FireQueue
 * before answering, and honours caller idempotency keys within a window.
 */
export class FireService {
  constructor(
    private readonly queue: FireQueue,
    private readonly store: ArtifactStore,
    private readonly idempotencyWindowMs: number,
  ) {}

  async fire(input: FireRequestInput): Promise<FireAnswer> {
    const keyId = input.idempotencyKey ? `${input.identity.namespace}/${input.trigger.name}/${input.idempotencyKey}` : undefined;
    const seen = keyId ? await this.store.getDoc<FireKeyDoc>(KEYS, keyId) : undefined;
    if (seen && Date.now() - seen.doc.at < this.idempotencyWindowMs) {
      return { status: seen.doc.status, activationId: seen.doc.activationId, repeated: true };
    }

    const rules = Object.entries(input.trigger.rules ?? {}).map(([ruleId, link]) => ({ ruleId, ...link }));
    let answer: FireAnswer;
    if (!rules.some((r) => r.status === 'active')) {
      answer = { status: 204, repeated: false };
    } else {
      const fireId = newActivationId();
      const job: FireJob = {
        fireId,
        namespace: input.identity.namespace,
        subject: input.identity.subject,
        trigger: { name: input.trigger.name, version: input.trigger.version },
        rules,
        baseArgs: { ...toObject(input.trigger.parameters), __ow_headers: input.headers },
        payload: input.payload,
        start: Date.now(),
        transactionId: input.transactionId,
        outcomes: {},
        attempts: {},
      };
      // A payload with its text noted (a large fire body) is written as that text.
      await this.queue.enqueue(withFieldTexts(job, 'payload'));
      answer = { status: 202, activationId: fireId, repeated: false };
    }
    if (keyId) await this.remember(keyId, answer, seen?.rev);
    return answer;
  }

  private async remember(keyId: string, answer: FireAnswer, rev: string | undefined): Promise<void> {
    const doc: FireKeyDoc = { status: answer.status, activationId: answer.activationId, at: Date.now() };
    try {
      await this.store.putDoc(KEYS, keyId, doc, rev);
    } catch (err) {
      // Two fires with one key at the same moment: the first one recorded wins; both fired is the
      // price of not locking (the window protects against retries, which come one after another).
      if (!(err instanceof StoreConflictError)) throw err;
    }
  }
}
