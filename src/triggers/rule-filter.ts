/**
 * Rule filters, EventBridge-style: a pattern is an object whose leaves are arrays of allowed
 * matchers; every key of the pattern must match (AND), any matcher in an array may (OR). A
 * matcher is a literal (exact match), or one of `{prefix}`, `{suffix}`, `{numeric: [op, n, ...]}`,
 * `{exists: boolean}`, `{"anything-but": value | [values] | {prefix}}`. Nested objects match
 * nested fields; an array field matches when any element does.
 */
export type Pattern = { [key: string]: Pattern | Matcher[] };
type Matcher = string | number | boolean | null | Record<string, unknown>;

export class FilterError extends Error {}

const NUMERIC_OPS = new Set(['<', '<=', '=', '>=', '>']);

/** Checks a filter's shape when a rule is written, so a bad one is a 400, not a silent no-match. */
export function validateFilter(pattern: unknown, path = 'filter'): Pattern {
  if (!pattern || typeof pattern !== 'object' || Array.isArray(pattern)) throw new FilterError(`${path} must be an object`);
  for (const [key, value] of Object.entries(pattern)) {
    const at = `${path}.${key}`;
    if (Array.isArray(value)) {
      if (value.length === 0) throw new FilterError(`${at} must list at least one matcher`);
      value.forEach((m, i) => validateMatcher(m, `${at}[${i}]`));
    } else if (value && typeof value === 'object') {
      validateFilter(value, at);
    } else {
      throw new FilterError(`${at} must be an array of matchers or a nested pattern`);
    }
  }
  return pattern as Pattern;
}

function validateMatcher(m: unknown, at: string): void {
  if (m === null || typeof m !== 'object') return;
  const keys = Object.keys(m);
  if (keys.length !== 1) throw new FilterError(`${at} must have exactly one operator`);
  const [op] = keys;
  const arg = (m as Record<string, unknown>)[op];
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (typeof arg !== 'string') throw new FilterError(`${at}.${op} must be a string`);
      return;
    case 'exists':
      if (typeof arg !== 'boolean') throw new FilterError(`${at}.exists must be true or false`);
      return;
    case 'numeric': {
      if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) throw new FilterError(`${at}.numeric must be [op, number, ...]`);
      for (let i = 0; i < arg.length; i += 2) {
        if (!NUMERIC_OPS.has(arg[i] as string) || typeof arg[i + 1] !== 'number') {
          throw new FilterError(`${at}.numeric must pair operators (< <= = >= >) with numbers`);
        }
      }
      return;
    }
    case 'anything-but':
      if (arg && typeof arg === 'object' && !Array.isArray(arg)) validateMatcher(arg, `${at}.anything-but`);
      return;
    default:
      throw new FilterError(`${at}: unknown operator '${op}'`);
  }
}

export function matches(pattern: Pattern, event: unknown): boolean {
  const obj = event && typeof event === 'object' && !Array.isArray(event) ? (event as Record<string, unknown>) : {};
  for (const [key, rule] of Object.entries(pattern)) {
    const present = Object.prototype.hasOwnProperty.call(obj, key);
    const value = obj[key];
    if (Array.isArray(rule)) {
      if (!rule.some((m) => matchOne(m, present, value))) return false;
    } else if (!present || !matches(rule, value)) {
      return false;
    }
  }
  return true;
}

function matchOne(m: Matcher, present: boolean, value: unknown): boolean {
  if (m !== null && typeof m === 'object') {
    const [op] = Object.keys(m);
    const arg = m[op];
    if (op === 'exists') return arg === present;
    if (!present) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => operator(op, arg, v));
  }
  if (!present) return false;
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => v === m);
}

function operator(op: string, arg: unknown, v: unknown): boolean {
  switch (op) {
    case 'prefix':
      return typeof v === 'string' && v.startsWith(arg as string);
    case 'suffix':
      return typeof v === 'string' && v.endsWith(arg as string);
    case 'numeric': {
      if (typeof v !== 'number') return false;
      const terms = arg as (string | number)[];
      for (let i = 0; i < terms.length; i += 2) {
        const n = terms[i + 1] as number;
        const ok = { '<': v < n, '<=': v <= n, '=': v === n, '>=': v >= n, '>': v > n }[terms[i] as string];
        if (!ok) return false;
      }
      return true;
    }
    case 'anything-but': {
      if (Array.isArray(arg)) return !arg.includes(v);
      if (arg && typeof arg === 'object') {
        const [inner] = Object.keys(arg);
        return !operator(inner, (arg as Record<string, unknown>)[inner], v);
      }
      return v !== arg;
    }
    default:
      return false;
  }
}
