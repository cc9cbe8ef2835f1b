import { badRequest } from '../entities/errors.js';

export const DEFAULT_LIST_LIMIT = 30;
export const MAX_LIST_LIMIT = 200;

export interface ListQuery {
  limit: number;
  skip: number;
  count: boolean;
}

/** OpenWhisk parses these as a JVM Int: anything outside 32 bits is "not an integer" too. */
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

function integer(value: unknown, collection: string): number {
  const s = String(value);
  const n = Number(s);
  if (!/^-?\d+$/.test(s) || n < INT_MIN || n > INT_MAX) {
    throw badRequest(`The value '${s}' is not an integer for ${collection}.`, 'BAD_QUERY');
  }
  return n;
}

/** `limit` (default 30, 0 = max, at most 200), `skip` (≥ 0) and `count`, worded as OpenWhisk does. */
export function parseListQuery(query: Record<string, unknown>, collection: string): ListQuery {
  let limit = DEFAULT_LIST_LIMIT;
  if (query.limit !== undefined && query.limit !== '') {
    limit = integer(query.limit, collection);
    if (limit < 0 || limit > MAX_LIST_LIMIT) {
      throw badRequest(`The value '${limit}' is not in the range of 0 to ${MAX_LIST_LIMIT} for ${collection}.`, 'BAD_QUERY');
    }
    if (limit === 0) limit = MAX_LIST_LIMIT;
  }
  let skip = 0;
  if (query.skip !== undefined && query.skip !== '') {
    skip = integer(query.skip, collection);
    if (skip < 0) throw badRequest(`The value '${skip}' is not greater than or equal to 0 for ${collection}.`, 'BAD_QUERY');
  }
  const count = query.count === 'true';
  return { limit, skip, count };
}
