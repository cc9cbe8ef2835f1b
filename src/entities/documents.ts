import type { KeyValue } from './params.js';
import type { ActionLimits } from './limits.js';

/** The four entity kinds share one name space per namespace (document id `ns[/pkg]/name`). */
export type EntityType = 'action' | 'trigger' | 'rule' | 'package';

export interface EntityBase {
  entityType: EntityType;
  /** `ns` or, for packaged actions, `ns/pkg`. */
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  annotations: KeyValue[];
  /** Epoch ms of the last write. */
  updated: number;
}

export interface CodeExec {
  kind: string;
  code: string;
  binary: boolean;
  main?: string;
}
export interface BlackboxExec {
  kind: 'blackbox';
  image: string;
  code?: string;
  binary: boolean;
  main?: string;
}
export interface SequenceExec {
  kind: 'sequence';
  components: string[];
}
export type Exec = CodeExec | BlackboxExec | SequenceExec;

/** `kind` alone cannot narrow the union (a code kind is any string), hence these guards. */
export const isSequence = (e: Exec): e is SequenceExec => e.kind === 'sequence';
export const isBlackbox = (e: Exec): e is BlackboxExec => e.kind === 'blackbox';

export interface ActionDoc extends EntityBase {
  entityType: 'action';
  exec: Exec;
  parameters: KeyValue[];
  limits: ActionLimits;
}

export interface RuleLink {
  action: { path: string; name: string };
  status: 'active' | 'inactive';
  /** The rule's `filter` annotation, copied here so a fire needs no rule reads. */
  filter?: Record<string, unknown>;
}

export interface TriggerDoc extends EntityBase {
  entityType: 'trigger';
  parameters: KeyValue[];
  limits: Record<string, never>;
  /** Rule doc id (`ns/rule`) → linked action and status; maintained by the rules API. */
  rules?: Record<string, RuleLink>;
}

export interface RuleDoc extends EntityBase {
  entityType: 'rule';
  trigger: { path: string; name: string };
  action: { path: string; name: string };
}

export interface PackageDoc extends EntityBase {
  entityType: 'package';
  /** Present for bindings: the package this one binds to. */
  binding?: { namespace: string; name: string };
  parameters: KeyValue[];
}

export type EntityDoc = ActionDoc | TriggerDoc | RuleDoc | PackageDoc;

/** A namespace a subject owns, with the key that authenticates for it. */
export interface NamespaceKey {
  name: string;
  uuid: string;
  key: string;
}

/** Per-namespace overrides of the deployment's throttles. */
export interface NamespaceLimits {
  invocationsPerMinute?: number;
  concurrentInvocations?: number;
  firesPerMinute?: number;
}

export interface SubjectDoc {
  subject: string;
  namespaces: NamespaceKey[];
  blocked?: boolean;
  limits?: NamespaceLimits;
}

/** What an authenticated request acts as. */
export interface Identity {
  subject: string;
  namespace: string;
  uuid: string;
  key: string;
  limits: NamespaceLimits;
}

export interface ActivationResponse {
  statusCode: number;
  status?: string;
  success?: boolean;
  result?: unknown;
  size?: number;
}

export interface ActivationDoc {
  /** The namespace charged for the activation (the invoker's caller). */
  namespace: string;
  name: string;
  version: string;
  subject: string;
  publish: boolean;
  activationId: string;
  start: number;
  end: number;
  duration?: number;
  cause?: string;
  response: ActivationResponse;
  logs: string[];
  annotations: KeyValue[];
  /** Names the activation can be listed by (`action` or `pkg/action`), for the `name` filter. */
  entityPaths?: string[];
}
