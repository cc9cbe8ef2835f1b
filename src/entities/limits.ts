import { badRequest } from './errors.js';

export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

/** Bounds a deployment allows for per-action limits (OpenWhisk's defaults). */
export interface LimitBounds {
  minTimeout: number;
  maxTimeout: number;
  minMemory: number;
  maxMemory: number;
  minLogs: number;
  maxLogs: number;
  minConcurrency: number;
  maxConcurrency: number;
}

export const DEFAULT_BOUNDS: LimitBounds = {
  minTimeout: 100,
  maxTimeout: 300_000,
  minMemory: 128,
  maxMemory: 512,
  minLogs: 0,
  maxLogs: 10,
  minConcurrency: 1,
  maxConcurrency: 1,
};

export const DEFAULT_LIMITS: ActionLimits = { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 };

function whole(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badRequest(`${what} limit must be whole number`, 'BAD_LIMIT');
  return value;
}

/** Validates `limits` from a PUT body, filling gaps from `base` (defaults on create, old values on update). */
export function parseLimits(input: unknown, base: ActionLimits, bounds: LimitBounds): ActionLimits {
  if (input === undefined || input === null) return { ...base };
  if (typeof input !== 'object' || Array.isArray(input)) throw badRequest('limits malformed!', 'BAD_LIMIT');
  const raw = input as Record<string, unknown>;
  const out = { ...base };
  if (raw.timeout !== undefined) {
    const t = whole(raw.timeout, 'timeout');
    if (t < bounds.minTimeout) {
      throw badRequest(`duration ${t} milliseconds below allowed threshold of ${bounds.minTimeout} milliseconds`, 'BAD_LIMIT');
    }
    if (t > bounds.maxTimeout) {
      throw badRequest(`duration ${t} milliseconds exceeds allowed threshold of ${bounds.maxTimeout} milliseconds`, 'BAD_LIMIT');
    }
    out.timeout = t;
  }
  if (raw.memory !== undefined) {
    const m = whole(raw.memory, 'memory');
    if (m < bounds.minMemory) throw badRequest(`memory size ${m} MB below allowed threshold of ${bounds.minMemory} MB`, 'BAD_LIMIT');
    if (m > bounds.maxMemory) throw badRequest(`memory size ${m} MB exceeds allowed threshold of ${bounds.maxMemory} MB`, 'BAD_LIMIT');
    out.memory = m;
  }
  if (raw.logs !== undefined) {
    const l = whole(raw.logs, 'logs');
    if (l < bounds.minLogs) throw badRequest(`log size ${l} MB below allowed threshold of ${bounds.minLogs} MB`, 'BAD_LIMIT');
    if (l > bounds.maxLogs) throw badRequest(`log size ${l} MB exceeds allowed threshold of ${bounds.maxLogs} MB`, 'BAD_LIMIT');
    out.logs = l;
  }
  if (raw.concurrency !== undefined) {
    const c = whole(raw.concurrency, 'concurrency');
    if (c < bounds.minConcurrency) {
      throw badRequest(`concurrency ${c} below allowed threshold of ${bounds.minConcurrency}`, 'BAD_LIMIT');
    }
    if (c > bounds.maxConcurrency) {
      throw badRequest(`concurrency ${c} exceeds allowed threshold of ${bounds.maxConcurrency}`, 'BAD_LIMIT');
    }
    out.concurrency = c;
  }
  return out;
}
