import { badRequest } from '../../src/entities/errors.js';
import type { KafkaFeedConfig, KafkaFeedRules, KafkaSasl, KafkaTls } from './kafka-config.js';

type Params = Record<string, unknown>;

const given = (p: Params, k: string) => p[k] !== undefined && p[k] !== null && p[k] !== '';

function bool(p: Params, k: string, dflt = false): boolean {
  const v = p[k];
  if (v === undefined || v === null || v === '') return dflt;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw badRequest(`${k} must be true or false (got ${JSON.stringify(v)})`);
}

function str(p: Params, k: string): string | undefined {
  if (!given(p, k)) return undefined;
  if (typeof p[k] !== 'string') throw badRequest(`${k} must be a string`);
  return (p[k] as string).trim();
}

function int(p: Params, k: string, min: number, max: number, dflt: number): number {
  if (!given(p, k)) return dflt;
  const n = Number(p[k]);
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`${k} must be a whole number from ${min} to ${max} (got ${JSON.stringify(p[k])})`);
  return n;
}

/** `brokers`: a JSON array of `host:port`, a string holding one, or a comma-separated string. */
export function parseBrokers(v: unknown, name = 'brokers'): string[] {
  let list: unknown = v;
  if (typeof v === 'string' && /^\[\s*("|\])/.test(v.trim())) {
    try {
      list = JSON.parse(v);
    } catch {
      throw badRequest(`${name} is not a valid JSON array`);
    }
  }
  const items = Array.isArray(list) ? list : typeof list === 'string' ? list.split(',') : undefined;
  if (!items) throw badRequest(`${name} must be a list of host:port (a JSON array or a comma-separated string)`);
  const brokers = items.map((b) => String(b).trim()).filter(Boolean);
  if (!brokers.length) throw badRequest(`you must supply a '${name}' parameter: the Kafka brokers, host:port`);
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw badRequest(`broker '${b}' is not host:port`);
  }
  return brokers;
}

/** Kafka topic names: 1-249 of [a-zA-Z0-9._-]. */
function parseTopic(v: string | undefined): string {
  if (!v) throw badRequest("you must supply a 'topic' parameter");
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(v) || v === '.' || v === '..') throw badRequest(`'${v}' is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)`);
  return v;
}

function parseFlags(p: Params, cur?: Pick<KafkaFeedConfig, 'isJSONData' | 'isBinaryKey' | 'isBinaryValue'>) {
  const flags = {
    isJSONData: bool(p, 'isJSONData', cur?.isJSONData ?? false),
    isBinaryKey: bool(p, 'isBinaryKey', cur?.isBinaryKey ?? false),
    isBinaryValue: bool(p, 'isBinaryValue', cur?.isBinaryValue ?? false),
  };
  if (flags.isJSONData && flags.isBinaryValue) throw badRequest('isJSONData and isBinaryValue cannot both be enabled');
  return flags;
}

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** SASL from `saslMechanism` + `username` + `password` (kafkaFeed), or `user` + `password` (messageHubFeed: PLAIN). */
function parseSasl(p: Params, messageHub: boolean, cur?: KafkaSasl): KafkaSasl | undefined {
  const username = str(p, 'username') ?? str(p, 'user') ?? cur?.username;
  const password = str(p, 'password') ?? cur?.password;
  const mechanism = (str(p, 'saslMechanism')?.toLowerCase() ?? cur?.mechanism ?? 'plain') as KafkaSasl['mechanism'];
  if (!MECHANISMS.includes(mechanism)) throw badRequest(`saslMechanism must be one of ${MECHANISMS.join(', ')}`);
  if (!username && !password) {
    if (messageHub) throw badRequest("messageHubFeed needs 'user' and 'password'");
    if (given(p, 'saslMechanism')) throw badRequest('saslMechanism needs username and password');
    return undefined;
  }
  if (!username || !password) throw badRequest('SASL needs both a username (or user) and a password');
  return { mechanism, username, password };
}

function parseTls(p: Params, messageHub: boolean, cur?: KafkaTls): KafkaTls | undefined {
  const on = bool(p, 'tls', cur !== undefined || messageHub);
  if (!on) return undefined;
  return { rejectUnauthorized: bool(p, 'tlsRejectUnauthorized', cur?.rejectUnauthorized ?? true), ...(str(p, 'tlsCa') ?? cur?.ca ? { ca: str(p, 'tlsCa') ?? cur?.ca } : {}) };
}

function parseGroupId(p: Params): { groupId?: string } {
  const g = str(p, 'groupId');
  if (!g) return {};
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(g)) throw badRequest(`groupId '${g}' may hold only letters, digits, '.', '_' and '-'`);
  return { groupId: g };
}

/**
 * CREATE of /whisk.system/messaging/kafkaFeed (brokers, topic) or messageHubFeed
 * (kafka_brokers_sasl, user, password; SASL PLAIN over TLS), with the flags of the reference feed
 * and ours: groupId, fromBeginning, SASL and TLS settings, maxBatchBytes, maxBatchMessages.
 */
export function validateKafkaCreate(feed: string, p: Params, rules: KafkaFeedRules): KafkaFeedConfig {
  const messageHub = feed === 'messageHubFeed';
  const brokerParam = messageHub && given(p, 'kafka_brokers_sasl') ? 'kafka_brokers_sasl' : 'brokers';
  if (!given(p, brokerParam)) throw badRequest(`you must supply a '${brokerParam}' parameter: the Kafka brokers, host:port`);
  const brokers = parseBrokers(p[brokerParam], brokerParam);
  const topic = parseTopic(str(p, 'topic'));
  const sasl = parseSasl(p, messageHub);
  const tls = parseTls(p, messageHub);
  return {
    brokers,
    topic,
    ...parseFlags(p),
    ...parseGroupId(p),
    fromBeginning: bool(p, 'fromBeginning'),
    ...(sasl ? { sasl } : {}),
    ...(tls ? { tls } : {}),
    maxBatchBytes: int(p, 'maxBatchBytes', 1024, rules.maxBatchBytes, rules.maxBatchBytes),
    maxBatchMessages: int(p, 'maxBatchMessages', 1, 1_000_000, rules.defaultBatchMessages),
  };
}

/** What an UPDATE may change and keep the group's position: decoding, batch size, credentials, TLS, the bootstrap list. */
const UPDATABLE = ['isJSONData', 'isBinaryKey', 'isBinaryValue', 'maxBatchBytes', 'maxBatchMessages', 'brokers', 'kafka_brokers_sasl', 'username', 'user', 'password', 'saslMechanism', 'tls', 'tlsRejectUnauthorized', 'tlsCa'];
const FIXED = ['topic', 'groupId', 'fromBeginning'];

export function validateKafkaUpdate(cur: KafkaFeedConfig, p: Params, rules: KafkaFeedRules): KafkaFeedConfig {
  const fixed = FIXED.filter((k) => given(p, k) && String(p[k]) !== String(cur[k as keyof KafkaFeedConfig] ?? ''));
  if (fixed.length) throw badRequest(`${fixed.join(', ')} cannot be updated (the consumer would lose its position): delete the feed and create it again`);
  if (!UPDATABLE.some((k) => given(p, k))) throw badRequest(`UPDATE needs at least one of ${UPDATABLE.join(', ')}`);
  const brokerParam = given(p, 'kafka_brokers_sasl') ? 'kafka_brokers_sasl' : 'brokers';
  const sasl = parseSasl(p, false, cur.sasl);
  const tls = parseTls(p, false, cur.tls);
  const { sasl: _s, tls: _t, ...rest } = cur;
  return {
    ...rest,
    ...(given(p, brokerParam) ? { brokers: parseBrokers(p[brokerParam], brokerParam) } : {}),
    ...parseFlags(p, cur),
    ...(sasl ? { sasl } : {}),
    ...(tls ? { tls } : {}),
    maxBatchBytes: int(p, 'maxBatchBytes', 1024, rules.maxBatchBytes, cur.maxBatchBytes),
    maxBatchMessages: int(p, 'maxBatchMessages', 1, 1_000_000, cur.maxBatchMessages),
  };
}
