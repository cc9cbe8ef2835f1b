/**
 * An alarm registration's configuration, as validated from the feed parameters (validate.ts) and
 * stored in the registration. Dates are epoch ms.
 */
export interface AlarmCommon {
  /** The fire body: `trigger_payload` (a string becomes `{payload: string}`). */
  payload: Record<string, unknown>;
  /** Adds `alarm: {feed, scheduledTime, …}` to each fire (on unless `includeSchedule=false`). */
  includeSchedule: boolean;
  /** Missed ticks to fire late after every replica was down (0: none, the default). */
  catchUp: number;
  /** Only ticks missed less than this long ago are caught up, in seconds. */
  catchUpWindow: number;
}

export interface CronAlarm extends AlarmCommon {
  type: 'alarm';
  cron: string;
  timezone?: string;
  strict?: boolean;
  startDate?: number;
  stopDate?: number;
  /** -1: unlimited. */
  maxTriggers: number;
}

export interface OnceAlarm extends AlarmCommon {
  type: 'once';
  date: number;
  deleteAfterFire: 'false' | 'true' | 'rules';
}

export interface IntervalAlarm extends AlarmCommon {
  type: 'interval';
  minutes: number;
  startDate: number;
  stopDate?: number;
  /** -1: unlimited. */
  maxTriggers: number;
}

export type AlarmConfig = CronAlarm | OnceAlarm | IntervalAlarm;

/** Deployment-wide rules for alarms (settings). */
export interface AlarmRules {
  /** Refuse 6-field patterns whose seconds field is not `0`. */
  limitCronFields: boolean;
  /** 0: off. Else a 5-field pattern of a non-strict alarm fires at a stable second 0..N of its minute (spreads the top of the minute). */
  delayLimitSeconds: number;
  /** A tick handled later than this after its time counts as missed (catch-up decides). */
  lateToleranceMs: number;
}

export const DEFAULT_ALARM_RULES: AlarmRules = { limitCronFields: false, delayLimitSeconds: 0, lateToleranceMs: 10_000 };

export const CATCH_UP_MAX = 100;
export const CATCH_UP_WINDOW_MAX = 7 * 24 * 3600;
export const CATCH_UP_WINDOW_DEFAULT = 3600;
