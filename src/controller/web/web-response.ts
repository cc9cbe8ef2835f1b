import { HubError } from '../../entities/errors.js';
import { isJsonType, isTextType, mediaType } from './media-types.js';
import type { WebExtension } from './web-path.js';

/** An HTTP answer built from an action's result. */
export interface WebAnswer {
  status: number;
  headers: [string, string][];
  contentType?: string;
  body?: string | Buffer;
}

const invalidMedia = (type: string) => new HubError(400, 'WEB_INVALID_MEDIA', `Response is not valid '${type}'.`);
const typeMismatch = () => new HubError(400, 'WEB_CONTENT_TYPE', 'Response type in header did not match generated content type.');
const unknownType = () => new HubError(400, 'WEB_UNKNOWN_CONTENT_TYPE', 'Response did not specify a known content-type.');
const missingProperty = () => new HubError(404, 'WEB_PROPERTY_MISSING', 'Response does not include requested property.');

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Framing headers are Node's business; an action's value could only corrupt the answer. */
const DROPPED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function headerValues(name: string, value: unknown): [string, string][] {
  if (!HEADER_NAME.test(name)) throw invalidMedia('message/http');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    if (!HEADER_VALUE.test(String(value))) throw invalidMedia('message/http');
    return [[name, String(value)]];
  }
  if (Array.isArray(value)) return value.flatMap((v) => headerValues(name, v));
  throw invalidMedia('message/http');
}

function statusOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 100 || n > 599) throw invalidMedia('message/http');
  return n;
}

/** Adds `charset=UTF-8` to a textual type that names no charset, as OpenWhisk answers. */
const withCharset = (header: string) => (/;\s*charset=/i.test(header) ? header : `${header}; charset=UTF-8`);

/**
 * `.http`: the result is `{statusCode?, headers?, body?}`. An empty body answers 204 unless a
 * status is given; a string body is sent as text for textual content types (default text/html)
 * and base64-decoded for binary ones; any other JSON body needs a JSON content type.
 */
function asHttp(result: unknown, defaultStatus: number): WebAnswer {
  if (!isObject(result)) throw invalidMedia('message/http');
  if (result.headers !== undefined && !isObject(result.headers)) throw invalidMedia('message/http');
  const all = Object.entries(result.headers ?? {}).flatMap(([k, v]) => headerValues(k, v));
  const headers = all.filter(([k]) => !DROPPED_HEADERS.has(k.toLowerCase()) && k.toLowerCase() !== 'content-type');
  const given = all.find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  const status = statusOf(result.statusCode);
  const body = result.body;
  if (body === undefined || body === null || body === '') return { status: status ?? (defaultStatus === 200 ? 204 : defaultStatus), headers };
  if (given !== undefined && !MEDIA_TYPE.test(mediaType(given) ?? '')) throw unknownType();
  if (typeof body === 'string') {
    const type = given ? mediaType(given)! : 'text/html';
    if (isTextType(type)) return { status: status ?? defaultStatus, headers, contentType: withCharset(given ?? type), body };
    if (!BASE64.test(body)) throw typeMismatch();
    return { status: status ?? defaultStatus, headers, contentType: given, body: Buffer.from(body, 'base64') };
  }
  if (given && !isJsonType(mediaType(given)!)) throw typeMismatch();
  return { status: status ?? defaultStatus, headers, contentType: given ?? 'application/json', body: JSON.stringify(body) };
}

function asJson(result: unknown, status: number): WebAnswer {
  if (result === null || typeof result !== 'object') throw invalidMedia('application/json');
  return { status, headers: [], contentType: 'application/json', body: JSON.stringify(result) };
}

/** `.html` and `.svg`: the `body` field (else the `html`/`svg` field), which must be a string. */
function asMarkup(result: unknown, status: number, field: 'html' | 'svg', type: string): WebAnswer {
  const value = isObject(result) ? (result.body ?? result[field]) : result;
  if (typeof value !== 'string') throw invalidMedia(type);
  return { status, headers: [], contentType: field === 'html' ? withCharset(type) : type, body: value };
}

/** `.text`: the `body` field (else `text`) as text; JSON values pretty-printed. */
function asText(result: unknown, status: number): WebAnswer {
  let value: unknown = result;
  if (isObject(result)) {
    if ('body' in result) value = result.body;
    else if ('text' in result) value = result.text;
    else throw missingProperty();
  }
  const text = typeof value === 'string' ? value : value !== null && typeof value === 'object' ? JSON.stringify(value, null, 2) : String(value);
  return { status, headers: [], contentType: 'text/plain; charset=UTF-8', body: text };
}

/** The HTTP answer for a result (or an application error's `error` value) under an extension. */
export function transcode(extension: WebExtension, result: unknown, defaultStatus: number): WebAnswer {
  switch (extension) {
    case 'http':
      return asHttp(result, defaultStatus);
    case 'json':
      return asJson(result, defaultStatus);
    case 'html':
      return asMarkup(result, defaultStatus, 'html', 'text/html');
    case 'svg':
      return asMarkup(result, defaultStatus, 'svg', 'image/svg+xml');
    case 'text':
      return asText(result, defaultStatus);
  }
}
