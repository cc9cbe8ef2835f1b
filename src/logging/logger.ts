import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Secrets never reach a log line: auth headers, keys and tokens are censored wherever they sit
 * in a logged object (one level of nesting is enough for what we log).
 */
const REDACT = [
  'authorization',
  'authKey',
  'key',
  'token',
  'accessToken',
  'secret',
  'signingSecret',
  'password',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  '*.authKey',
  '*.key',
  '*.token',
  '*.secret',
  '*.password',
];

export function createLogger(level: string, component = 'whiskhub', destination?: DestinationStream): Logger {
  return pino(
    { level, base: { component }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}
