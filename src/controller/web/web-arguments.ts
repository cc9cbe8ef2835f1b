import type { IncomingHttpHeaders } from 'node:http';
import { badRequest, HubError } from '../../entities/errors.js';
import { isJsonType, isTextType, mediaType } from './media-types.js';

/** The request context a web action receives; a caller may not set these itself. */
export const RESERVED_ARGUMENTS = ['__ow_method', '__ow_headers', '__ow_path', '__ow_user', '__ow_query', '__ow_body'] as const;

const PARAMETERS_NOT_ALLOWED = 'Request defines parameters that are not allowed (e.g., reserved properties).';

export interface WebRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** The query string as sent, without `?`. */
  query: string;
  /** The unmatched tail of the path (`__ow_path`). */
  path: string;
  /** The raw body; undefined or empty when there is none. */
  body: Buffer | undefined;
  /** The namespace of the caller, when the request carried valid credentials. */
  user?: string;
}

/** Lower-cased header names (Node already lower-cases them) with single string values. */
function headerMap(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * The body as OpenWhisk hands it on: a JSON object's fields or a form's fields merge into the
 * arguments (not for raw actions); anything else is `__ow_body`, as text for textual types and
 * base64 for binary ones (and for JSON in raw actions, as OpenWhisk does for legacy reasons).
 */
function bodyValue(req: WebRequest, raw: boolean): { fields?: Record<string, unknown>; body?: unknown } {
  if (!req.body || req.body.length === 0) return raw ? { body: '' } : {};
  const type = mediaType(req.headers['content-type']);
  if (!raw && type && isJsonType(type)) {
    const text = req.body.toString('utf8');
    if (text.trim() === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new HubError(400, 'MALFORMED', `The request content was malformed:\n${(err as Error).message}`);
    }
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? { fields: parsed as Record<string, unknown> } : { body: parsed };
  }
  if (!raw && type === 'application/x-www-form-urlencoded') {
    return { fields: Object.fromEntries(new URLSearchParams(req.body.toString('utf8'))) };
  }
  const binary = !type || !isTextType(type) || isJsonType(type);
  return { body: req.body.toString(binary ? 'base64' : 'utf8') };
}

/**
 * The arguments of a web action (OpenWhisk's WebActions Context): `__ow_method` (lower-case),
 * `__ow_headers`, `__ow_path`, `__ow_user` when authenticated, then query parameters, then body
 * fields (last wins). A raw-http action gets the query string as `__ow_query` and the body as
 * `__ow_body` instead. Query or body fields named like the context are refused with 400.
 */
export function webArguments(req: WebRequest, raw: boolean): Record<string, unknown> {
  const args: Record<string, unknown> = {
    __ow_method: req.method.toLowerCase(),
    __ow_headers: headerMap(req.headers),
    __ow_path: req.path,
  };
  if (req.user) args.__ow_user = req.user;
  const { fields, body } = bodyValue(req, raw);
  if (raw) {
    args.__ow_query = req.query;
    args.__ow_body = body;
    return args;
  }
  const query = Object.fromEntries(new URLSearchParams(req.query));
  const given = [...Object.keys(query), ...Object.keys(fields ?? {})];
  if (given.some((k) => (RESERVED_ARGUMENTS as readonly string[]).includes(k))) throw badRequest(PARAMETERS_NOT_ALLOWED, 'RESERVED_PARAMETER');
  Object.assign(args, query, fields);
  if (body !== undefined) args.__ow_body = body;
  return args;
}
