import type { AlarmConfig } from './alarm-config.js';

/**
 * The body of an alarm's fire: the stored trigger_payload, plus (unless `includeSchedule=false`)
 * an `alarm` object saying which tick this is, which OpenWhisk's alarms never tell an action:
 *
 *   alarm: { feed: "alarm", scheduledTime: "2025-05-01T10:00:05.000Z", cron: "*\/5 * * * * *", timezone: "UTC" }
 *   alarm: { feed: "once", scheduledTime, date }
 *   alarm: { feed: "interval", scheduledTime, minutes, startDate }
 *
 * plus `late: true` for a missed tick fired by the catch-up policy. A trigger_payload that has
 * its own `alarm` key keeps it.
 */
export function firePayload(c: AlarmConfig, scheduledAt: number, late: boolean): Record<string, unknown> {
  if (!c.includeSchedule) return c.payload;
  const when = { scheduledTime: new Date(scheduledAt).toISOString() };
  const alarm =
    c.type === 'alarm'
      ? { feed: 'alarm', ...when, cron: c.cron, timezone: c.timezone ?? 'UTC' }
      : c.type === 'once'
        ? { feed: 'once', ...when, date: new Date(c.date).toISOString() }
        : { feed: 'interval', ...when, minutes: c.minutes, startDate: new Date(c.startDate).toISOString() };
  return { alarm: late ? { ...alarm, late: true } : alarm, ...c.payload };
}
