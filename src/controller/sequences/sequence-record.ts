import type { ActivationDoc, ActivationResponse, Identity } from '../../entities/documents.js';
import { docId } from '../../entities/names.js';
import type { KeyValue } from '../../entities/params.js';
import type { ResolvedAction } from '../resolve-action.js';

/** What a sequence run adds up as its components finish (OpenWhisk's SequenceAccounting). */
export interface SequenceAccounting {
  /** Component activation ids, in order: the sequence record's `logs`. */
  logs: string[];
  /** Sum of the components' durations (user time, not wall time). */
  duration: number;
  /** The largest memory limit among the components that ran. */
  maxMemory?: number;
  /** When the first component started (for `waitTime`). */
  firstStart?: number;
  /** The last component's response; the input, as a success, before any ran. */
  response: ActivationResponse;
}

export interface SequenceRun {
  activationId: string;
  identity: Identity;
  resolved: ResolvedAction;
  topmost: boolean;
  /** The enclosing sequence's id, for an inner sequence. */
  cause?: string;
  start: number;
}

/**
 * The sequence's own record, written by the controller: `kind: sequence`, `topmost`, `path`,
 * `limits` (memory = the largest among the components), `waitTime`, the component ids as `logs`;
 * an inner sequence carries `cause` and `causedBy` like any component.
 */
export function sequenceRecord(run: SequenceRun, acc: SequenceAccounting, end: number): ActivationDoc {
  const { action, ref, binding } = run.resolved;
  const annotations: KeyValue[] = [
    { key: 'topmost', value: run.topmost },
    { key: 'path', value: docId(ref) },
    { key: 'kind', value: 'sequence' },
    { key: 'waitTime', value: acc.firstStart === undefined ? 0 : Math.max(0, acc.firstStart - run.start) },
    { key: 'limits', value: { ...action.limits, memory: acc.maxMemory ?? action.limits.memory } },
  ];
  if (!run.topmost) annotations.push({ key: 'causedBy', value: 'sequence' });
  if (binding) annotations.push({ key: 'binding', value: `${binding.namespace}/${binding.name}` });
  const entityPaths = [ref.pkg ? `${ref.pkg}/${ref.name}` : ref.name];
  if (binding) entityPaths.push(`${binding.name}/${ref.name}`);
  return {
    namespace: run.identity.namespace,
    name: ref.name,
    version: action.version,
    subject: run.identity.subject,
    publish: false,
    activationId: run.activationId,
    start: run.start,
    end,
    duration: acc.duration,
    ...(run.topmost ? {} : { cause: run.cause }),
    response: acc.response,
    logs: acc.logs,
    annotations,
    entityPaths,
  };
}

/** The memory limit a component's record ran with (its `limits` annotation). */
export function memoryOf(record: ActivationDoc): number | undefined {
  const limits = record.annotations.find((a) => a.key === 'limits')?.value as { memory?: unknown } | undefined;
  return typeof limits?.memory === 'number' ? limits.memory : undefined;
}
