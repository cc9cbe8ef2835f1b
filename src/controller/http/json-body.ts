import type { FastifyInstance } from 'fastify';
import { HubError } from '../../entities/errors.js';
import { MIN_NOTED_TEXT } from '../../entities/json-text.js';

/**
 * JSON bodies the way OpenWhisk clients send them: an empty body means "no payload" (the npm
 * client fires triggers with none), malformed JSON is a 400 in OpenWhisk's words, and every other
 * content type is left unparsed so the error handler answers 415.
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(/^application\/(.+\+)?json/i, { parseAs: 'string' }, (_req, raw, done) => {
    const text = (raw as string).trim();
    if (text === '') return done(null, undefined);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return done(new HubError(400, 'MALFORMED', `The request content was malformed:\n${(err as Error).message}`), undefined);
    }
    if (text.length >= MIN_NOTED_TEXT && body !== null && typeof body === 'object') texts.set(body, text);
    done(null, body);
  });
}

/**
 * The text each large parsed JSON body came as, for the routes that store a body as it is (a
 * fire's payload): see bodyJsonText. Weak: it goes with the request. Small bodies are left out:
 * stringifying them again is cheaper than keeping their text.
 */
const texts = new WeakMap<object, string>();

/** The JSON text a large parsed request body object came as (parsed from it, so equal to it). */
export function bodyJsonText(body: unknown): string | undefined {
  return body !== null && typeof body === 'object' ? texts.get(body) : undefined;
}

/** The body as an object, or a 400 naming what was wrong. */
export function objectBody(body: unknown, what = 'request body'): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new HubError(400, 'MALFORMED', `The request content was malformed:\nthe ${what} must be a JSON object`);
  }
  return body as Record<string, unknown>;
}
