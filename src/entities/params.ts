import { badRequest, Messages, tooLarge } from './errors.js';

/** A key/value pair as OpenWhisk stores parameters and annotations. */
export interface KeyValue {
  key: string;
  value: unknown;
  init?: boolean;
  encryption?: string;
}

export const MAX_PARAMETERS_BYTES = 1024 * 1024;

/**
 * Validates a parameters or annotations array from a request body. Later duplicates win, as in
 * OpenWhisk; a JSON object instead of an array is refused.
 */
export function parseKeyValues(value: unknown, field: 'parameters' | 'annotations'): KeyValue[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest(Messages.paramsMalformed, 'PARAMETERS_MALFORMED');
  const byKey = new Map<string, KeyValue>();
  for (const item of value) {
    if (!item || typeof item !== 'object' || typeof (item as KeyValue).key !== 'string') {
      throw badRequest(Messages.paramsMalformed, 'PARAMETERS_MALFORMED');
    }
    const kv = item as KeyValue;
    const clean: KeyValue = { key: kv.key, value: kv.value === undefined ? null : kv.value };
    if (kv.init === true) clean.init = true;
    if (typeof kv.encryption === 'string') clean.encryption = kv.encryption;
    byKey.delete(kv.key);
    byKey.set(kv.key, clean);
  }
  const list = [...byKey.values()];
  const size = Buffer.byteLength(JSON.stringify(list));
  if (size > MAX_PARAMETERS_BYTES) {
    throw tooLarge(`${field} larger than allowed: ${size} > ${MAX_PARAMETERS_BYTES} bytes.`);
  }
  return list;
}

/** Overlays `top` on `base`: keys in `top` replace those in `base`, others are kept. */
export function mergeKeyValues(base: KeyValue[], top: KeyValue[]): KeyValue[] {
  const out = new Map(base.map((kv) => [kv.key, kv] as const));
  for (const kv of top) {
    out.delete(kv.key);
    out.set(kv.key, kv);
  }
  return [...out.values()];
}

export function withoutKeys(list: KeyValue[], keys: readonly string[]): KeyValue[] {
  const drop = new Set(keys);
  return list.filter((kv) => !drop.has(kv.key));
}

export function getValue(list: KeyValue[] | undefined, key: string): unknown {
  return list?.find((kv) => kv.key === key)?.value;
}

export function setValue(list: KeyValue[], key: string, value: unknown): KeyValue[] {
  return mergeKeyValues(list, [{ key, value }]);
}

export function toObject(list: KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) out[kv.key] = kv.value;
  return out;
}
