/** `type/subtype` of a Content-Type header, lower-cased, without parameters. */
export function mediaType(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const type = value?.split(';')[0].trim().toLowerCase();
  return type || undefined;
}

/** `application/json` and the `+json` family. */
export function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

const TEXTUAL_APPLICATION_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/graphql',
  'application/yaml',
  'application/x-yaml',
]);

/**
 * Whether content of this type is text (sent and received as a string) rather than bytes (carried
 * as base64 in action arguments and results): text/*, JSON and XML families, and a few
 * well-known textual application types. Everything else, unknown types included, is binary.
 */
export function isTextType(type: string): boolean {
  return type.startsWith('text/') || isJsonType(type) || type.endsWith('+xml') || TEXTUAL_APPLICATION_TYPES.has(type);
}
