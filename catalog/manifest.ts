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
  /** npm packages the code requires: the action is installed as a zip holding them (binary code). */
  bundle?: string[];
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
  /** The GitHub provider's address (default: alarmsProviderUrl, the one feed provider URL). */
  githubProviderUrl?: string;
  /** The Slack provider's address (default: alarmsProviderUrl). */
  slackProviderUrl?: string;
  /** The Kafka provider's address (default: alarmsProviderUrl). */
  kafkaProviderUrl?: string;
}

/** Every feed action runs the same code; these bound parameters tell it which provider and feed. */
const FEED_ACTION = 'packages/feed-action.js';
const feedTarget = (provider: string, feed: string): KeyValue[] => [
  { key: 'feedProvider', value: provider },
  { key: 'feedName', value: feed },
];

const providerParams = (url?: string): KeyValue[] => (url ? [{ key: 'providerUrl', value: url }] : []);

/** A feed action of github, slack or messaging. */
const providerFeed = (provider: string, name: string, description: string, params: ReturnType<typeof param>[]): CatalogAction => ({
  name,
  file: FEED_ACTION,
  kind: 'nodejs:20',
  annotations: [
    { key: 'feed', value: true },
    { key: 'description', value: description },
    { key: 'parameters', value: params },
    { key: 'provide-api-key', value: false },
  ],
  parameters: feedTarget(provider, name),
  limits: { timeout: 60_000 },
});

const param = (name: string, description: string, required = false) => ({ name, required, description });

const COMMON_PARAMS = [
  param('trigger_payload', 'The fire body: an object, or a string sent as {"payload": "<string>"}'),
  param('includeSchedule', 'Add {"alarm": {feed, scheduledTime, …}} to each fire (default true)'),
  param('catchUp', 'Missed ticks (0-100) to fire late after the provider was down (default 0: none)'),
  param('catchUpWindow', 'Only ticks missed less than this many seconds ago are caught up (default 3600)'),
];

const feed = (name: string, description: string, params: ReturnType<typeof param>[], bound: KeyValue[] = []): CatalogAction => ({
  name,
  file: FEED_ACTION,
  kind: 'nodejs:20',
  annotations: [
    { key: 'feed', value: true },
    { key: 'description', value: description },
    { key: 'parameters', value: [...params, ...COMMON_PARAMS] },
    // The feed gets the caller's authKey as a parameter; it needs no key of its own.
    { key: 'provide-api-key', value: false },
  ],
  parameters: [...feedTarget('alarms', name), ...bound],
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
    {
      name: 'github',
      publish: true,
      annotations: [{ key: 'description', value: 'GitHub repository events as triggers: signed, deduplicated webhook deliveries' }],
      parameters: providerParams(o.githubProviderUrl ?? o.alarmsProviderUrl),
      actions: [
        providerFeed('github', 'webhook', 'Fire a trigger on GitHub repository events (creates a signed repository hook)', [
          param('username', 'GitHub user name (owner of repository when it has no owner/)', true),
          param('repository', 'owner/repo, or a repository of username', true),
          param('accessToken', 'A token that can write repository hooks', true),
          param('events', 'Comma-separated GitHub event names (push,pull_request,issues), or *', true),
          param('baseUrl', 'GitHub REST API root (default https://api.github.com; Enterprise: https://<host>/api/v3)'),
        ]),
      ],
    },
    {
      name: 'slack',
      publish: true,
      annotations: [{ key: 'description', value: 'Slack: Events API deliveries as triggers, and posting messages' }],
      parameters: providerParams(o.slackProviderUrl ?? o.alarmsProviderUrl),
      actions: [
        providerFeed('slack', 'events', 'Fire a trigger on Slack Events API events (answer: the Request URL for the Slack app)', [
          param('signingSecret', 'The Slack app\'s Signing Secret', true),
          param('eventTypes', 'Comma-separated event types that fire (message,app_mention); default all'),
        ]),
        {
          name: 'post',
          file: 'packages/slack/post.js',
          kind: 'nodejs:20',
          annotations: [
            { key: 'description', value: 'Post a message to Slack; fails with Slack\'s error when Slack refuses it' },
            {
              key: 'parameters',
              value: [
                param('url', 'Incoming-webhook URL (or a Web API method URL with token)'),
                param('token', 'Bot token for chat.postMessage (with channel)'),
                param('channel', 'Channel to post to'),
                param('text', 'The message text', true),
                param('username', 'Name shown as the sender'),
                param('baseUrl', 'Slack Web API root (default https://slack.com/api)'),
              ],
            },
          ],
          parameters: [],
          limits: { timeout: 60_000 },
        },
      ],
    },
    {
      name: 'messaging',
      publish: true,
      annotations: [{ key: 'description', value: 'Kafka topics as triggers (at least once, nothing skipped), and producing messages' }],
      parameters: providerParams(o.kafkaProviderUrl ?? o.alarmsProviderUrl),
      actions: [
        providerFeed('kafka', 'kafkaFeed', 'Fire a trigger with batches of the messages produced to a Kafka topic', KAFKA_FEED_PARAMS),
        providerFeed('kafka', 'messageHubFeed', 'kafkaFeed for IBM Event Streams style parameters: kafka_brokers_sasl, user, password (SASL PLAIN over TLS)', [
          param('kafka_brokers_sasl', 'The brokers, host:port (a JSON array or comma-separated)', true),
          param('user', 'SASL user name', true),
          param('password', 'SASL password', true),
          ...KAFKA_FEED_PARAMS.filter((p) => p.name !== 'brokers'),
        ]),
        {
          name: 'kafkaProduce',
          file: 'packages/messaging/kafkaProduce.js',
          bundle: ['kafkajs'],
          kind: 'nodejs:20',
          annotations: [
            { key: 'description', value: 'Produce a message to a Kafka topic; fails with the broker\'s error' },
            {
              key: 'parameters',
              value: [
                param('brokers', 'The brokers, host:port (a JSON array or comma-separated)', true),
                param('topic', 'The topic', true),
                param('value', 'The message value (a string; other JSON values are sent as JSON text)', true),
                param('key', 'The message key'),
                param('base64DecodeValue', 'Send the bytes that value holds in base64'),
                param('base64DecodeKey', 'Send the bytes that key holds in base64'),
              ],
            },
          ],
          parameters: [],
          limits: { timeout: 60_000 },
        },
      ],
    },
  ];
}

const KAFKA_FEED_PARAMS = [
  param('brokers', 'The brokers, host:port (a JSON array or comma-separated)', true),
  param('topic', 'The topic to read', true),
  param('isJSONData', 'Parse each value as JSON (text that does not parse is passed as text)'),
  param('isBinaryKey', 'Pass keys as base64'),
  param('isBinaryValue', 'Pass values as base64 (not with isJSONData)'),
  param('groupId', 'Consumer group to read with (default: one of the feed\'s own, new on each CREATE)'),
  param('fromBeginning', 'Start partitions the group never read at their beginning (default: only messages produced after CREATE)'),
  param('maxBatchBytes', 'Largest fire body in bytes (default and maximum: the provider\'s WHISKHUB_KAFKA_FEED_MAX_BATCH_BYTES)'),
  param('maxBatchMessages', 'Most messages in one fire'),
  param('username', 'SASL user name'),
  param('password', 'SASL password'),
  param('saslMechanism', 'plain (default), scram-sha-256 or scram-sha-512'),
  param('tls', 'Connect with TLS'),
  param('tlsRejectUnauthorized', 'Check the brokers\' certificates (default true)'),
  param('tlsCa', 'PEM of the CA that signed the brokers\' certificates'),
];
