import type { FastifyInstance } from 'fastify';
import { HubError } from '../../entities/errors.js';

/**
 * JSON bodies the way OpenWhisk clients send them: an empty body means "no payload" (the npm
 * client fires triggers with none), malformed JSON is a 400 in OpenWhisk's words, and every other
 * content type is left unparsed so the error handler answers 415.
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(/^application\/(.+\+)?json/i, { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HubError(400, 'MALFORMED', `The request content was malformed:\n${(err as Error).message}`), undefined);
    }
  });
}

/** The body as an object, or a 400 naming what was wrong. */
export function objectBody(body: unknown, what = 'request body'): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new HubError(400, 'MALFORMED', `The request content was malformed:\nthe ${what} must be a JSON object`);
  }
  return body as Record<string, unknown>;
}
