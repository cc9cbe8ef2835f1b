/**
 * The system packages the catalog installer puts in `/whisk.system`. Each action's code is a file
 * under packages/ (found from the repository or the installed npm package).
 */
export interface KeyValue {
  key: string;
  value: unknown;
}

export interface CatalogAction {
  name: string;
  /** Path of the code, relative to the repository root. */
  file: string;
  kind: string;
  annotations: KeyValue[];
  parameters: KeyValue[];
  limits?: { timeout?: number; memory?: number };
}

export interface CatalogPackage {
  name: string;
  publish: boolean;
  annotations: KeyValue[];
  parameters: KeyValue[];
  actions: CatalogAction[];
}

export interface CatalogOptions {
  /** Bound as the package's `providerUrl` when set (the cluster: the alarms provider's address). */
  alarmsProviderUrl?: string;
}

const param = (name: string, description: string, required = false) => ({ name, required, description });

const COMMON_PARAMS = [
  param('trigger_payload', 'The fire body: an object, or a string sent as {"payload": "<string>"}'),
  param('includeSchedule', 'Add {"alarm": {feed, scheduledTime, …}} to each fire (default true)'),
  param('catchUp', 'Missed ticks (0-100) to fire late after the provider was down (default 0: none)'),
  param('catchUpWindow', 'Only ticks missed less than this many seconds ago are caught up (default 3600)'),
];

const feed = (name: string, description: string, params: ReturnType<typeof param>[], bound: KeyValue[] = []): CatalogAction => ({
  name,
  file: 'packages/alarms/alarm.js',
  kind: 'nodejs:20',
  annotations: [
    { key: 'feed', value: true },
    { key: 'description', value: description },
    { key: 'parameters', value: [...params, ...COMMON_PARAMS] },
    // The feed gets the caller's authKey as a parameter; it needs no key of its own.
    { key: 'provide-api-key', value: false },
  ],
  parameters: bound,
  limits: { timeout: 60_000 },
});

export function catalogPackages(o: CatalogOptions = {}): CatalogPackage[] {
  return [
    {
      name: 'alarms',
      publish: true,
      annotations: [{ key: 'description', value: 'Alarms and periodic triggers: cron schedules, one-shot dates and fixed intervals' }],
      parameters: o.alarmsProviderUrl ? [{ key: 'providerUrl', value: o.alarmsProviderUrl }] : [],
      actions: [
        feed('alarm', 'Fire a trigger on a cron schedule (5 fields, or 6 with leading seconds)', [
          param('cron', 'The cron pattern, e.g. "*/5 * * * *"', true),
          param('timezone', 'IANA time zone the pattern is read in (default UTC)'),
          param('startDate', 'No fire before this date (ISO or epoch ms)'),
          param('stopDate', 'No fire after this date; the trigger is disabled after its last tick'),
          param('maxTriggers', 'Fire at most this many times (-1: unlimited; not with stopDate)'),
          param('strict', 'Fire at second 0 even when the operator spreads 5-field patterns'),
        ]),
        feed('once', 'Fire a trigger once, at a date', [
          param('date', 'When to fire (ISO or epoch ms, in the future)', true),
          param('deleteAfterFire', 'false (default), true (delete the trigger after the fire) or rules (its rules too)'),
        ], [{ key: 'fireOnce', value: true }]),
        feed('interval', 'Fire a trigger every N minutes', [
          param('minutes', 'Minutes between fires (an integer > 0)', true),
          param('startDate', 'First fire (default: 30 s after creation); later fires stay on this grid'),
          param('stopDate', 'No fire after this date'),
          param('maxTriggers', 'Fire at most this many times (-1: unlimited; not with stopDate)'),
        ], [{ key: 'isInterval', value: true }]),
      ],
    },
  ];
}
