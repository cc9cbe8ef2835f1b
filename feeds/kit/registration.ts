/**
 * A feed registration: one trigger fed by one provider. Kept in the ArtifactStore (collection
 * `feed-registrations`, id `<provider>/<namespace>/<trigger>`) so that every replica of a provider
 * sees the same state, and so that counters (fires, failures, what remains of maxTriggers) survive
 * restarts. The owner's key is kept to fire with; it never leaves the provider (see `publicView`).
 */
export type ReasonKind = 'AUTO' | 'USER' | 'ADMIN';

export interface StatusReason {
  kind: ReasonKind;
  /** The HTTP status that caused an automatic disable, when there was one. */
  statusCode?: number;
  message: string;
}

export interface RegistrationStatus {
  active: boolean;
  /** Epoch ms of the last change of `active` or `reason`. */
  dateChanged: number;
  reason?: StatusReason;
}

export interface RegistrationCounters {
  /** Fires the controller accepted (202 or 204). */
  fired: number;
  /** Fires that ended in an automatic disable or a dead letter. */
  failed: number;
  /** Ticks that were due but not fired (missed while down with catch-up off, or late). */
  missed: number;
  /** Missed ticks fired late by the catch-up policy. */
  caughtUp: number;
  /** Fires still allowed by maxTriggers; absent when unlimited. */
  remaining?: number;
}

export interface LastFire {
  /** The event time (for alarms: the scheduled tick), ISO. */
  scheduledTime: string;
  /** When the controller answered, ISO. */
  at: string;
  statusCode: number;
  activationId?: string;
  error?: string;
}

export interface Registration<C = Record<string, unknown>> {
  id: string;
  provider: string;
  /** The feed action's short name (alarm, once, interval, …). */
  feed: string;
  namespace: string;
  trigger: string;
  /** The trigger owner's `uuid:key`: fires are made with it. Never shown, never logged. */
  authKey: string;
  config: C;
  status: RegistrationStatus;
  counters: RegistrationCounters;
  /**
   * Changes on every CREATE, UPDATE, PAUSE and UNPAUSE: events and queued fires carry the
   * generation they were made for, and one of an older generation is dropped (a stop wins over
   * any fire still in flight).
   */
  generation: number;
  /** Epoch ms since the registration is active (CREATE, UPDATE, UNPAUSE): nothing older is caught up. */
  activeSince: number;
  /** Epoch ms of the newest event handled (fired or skipped). */
  lastEvent?: number;
  /**
   * The newest events claimed (epoch ms, ascending, at most RECENT_EVENTS): an event older than
   * `lastEvent` that a dead replica held (redelivered later) may still be claimed once, if it is
   * not among them and not older than the oldest of them.
   */
  recentEvents?: number[];
  lastFire?: LastFire;
  /** Late fires since the last fire on time: what the current outage used of its catch-up budget. */
  catchUpRun?: number;
  /**
   * Names the write of the newest claim. A write can go through while its answer says it did not
   * (a conflict reported for a request that was applied, a retry of one that was): the claimer,
   * reading again, finds its own token and queues the fires of that claim instead of losing them.
   */
  claimToken?: string;
  created: number;
  updated: number;
}

export const REGISTRATIONS = 'feed-registrations';

/** How many claimed events a registration remembers (for alarms: that many ticks back). */
export const RECENT_EVENTS = 100;

export const registrationId = (provider: string, namespace: string, trigger: string) => `${provider}/${namespace}/${trigger}`;

/** A generation newer than `previous`, also after a DELETE and a re-CREATE (clock-based). */
export const nextGeneration = (previous = 0) => Math.max(previous + 1, Date.now());

export const iso = (ms: number) => new Date(ms).toISOString();

/** What READ shows of the status: OpenWhisk's shape (dateChangedISO included). */
export function statusView(s: RegistrationStatus) {
  return { active: s.active, dateChanged: s.dateChanged, dateChangedISO: iso(s.dateChanged), ...(s.reason ? { reason: s.reason } : {}) };
}
