import type { ActionMain } from './action-loader.js';

/**
 * One activation: the `__OW_*` environment, the call, and how its outcome becomes the /run reply
 * (what the invoker then classifies, spec §5.3):
 * - an object or array → 200 with it (an `{error}` object too: the invoker calls that an
 *   application error);
 * - `undefined` (a bare `return;`) → 200 `{}`, as the reference runtime does;
 * - any other value → 502 "The action did not return a dictionary or array.";
 * - a throw or a rejection → 502 `{error: <message>}`, the stack going to stderr.
 */
export interface ProxyReply {
  status: number;
  /** JSON text. */
  body: string;
}

export const NOT_A_DICTIONARY = 'The action did not return a dictionary or array.';

/** Run-body keys other than `value` become `__OW_<KEY>` for the call (process-wide: with
 * concurrent activations in one container, the latest call's values are the ones visible). */
export function setActivationEnv(body: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(body)) {
    if (key === 'value' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) continue;
    process.env[`__OW_${key.toUpperCase()}`] = toEnvString(value);
  }
}

/** Environment values are strings: objects compact JSON, null and undefined empty. */
export function toEnvString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export async function runAction(main: ActionMain, params: Record<string, unknown>): Promise<ProxyReply> {
  let result: unknown;
  try {
    result = await main(params);
  } catch (err) {
    console.error(err);
    return reply(502, errorBody(err));
  }
  if (result === undefined) result = {};
  if (result === null || typeof result !== 'object') {
    console.error(`The action returned ${result === null ? 'null' : `a ${typeof result}`}, not a dictionary or array.`);
    return reply(502, { error: NOT_A_DICTIONARY });
  }
  return reply(200, result);
}

function reply(status: number, body: unknown): ProxyReply {
  try {
    return { status, body: JSON.stringify(body) };
  } catch (err) {
    const message = `The action returned a result that is not valid JSON: ${(err as Error).message}`;
    console.error(message);
    return { status: 502, body: JSON.stringify({ error: message }) };
  }
}

/** Errors become their message; a rejected `{error: …}` object is kept as it is. */
function errorBody(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.message || String(err) };
  if (err !== null && typeof err === 'object' && !Array.isArray(err)) {
    return 'error' in err ? (err as Record<string, unknown>) : { error: err };
  }
  return { error: err === undefined ? {} : err };
}
