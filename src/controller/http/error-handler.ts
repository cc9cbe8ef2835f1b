import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError, Messages } from '../../entities/errors.js';

/** OpenWhisk's error body: the message, and the transaction id as `code` (== X-Request-ID). */
export function sendError(reply: FastifyReply, request: FastifyRequest, err: HubError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.status).header('content-type', 'application/json').send({ error: err.message, code: request.id });
}

/** Turns framework rejections into HubErrors with OpenWhisk's wording. */
function fromFramework(err: FastifyError, request: FastifyRequest): HubError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HubError(415, 'UNSUPPORTED_MEDIA_TYPE', `The request's Content-Type is not supported. Expected 'application/json'.`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const len = Number(request.headers['content-length'] ?? 0);
      const limit = request.routeOptions.bodyLimit ?? 0;
      return new HubError(413, 'TOO_LARGE', `Request larger than allowed: ${len} > ${limit} bytes.`);
    }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HubError(400, 'MALFORMED', `The request content was malformed:\n${err.message}`);
  }
  if (err.validation) return new HubError(400, 'MALFORMED', `The request content was malformed:\n${err.message}`);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new HubError(err.statusCode, err.code ?? 'CLIENT_ERROR', err.message);
  }
  return undefined;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const hub = error instanceof HubError ? error : fromFramework(error, request);
    if (hub) {
      // A read that finds nothing is routine (clients look before they create: `wsk action
      // update`, the catalog installer at every start), so it is logged at debug; other refusals
      // stay visible at info.
      const routine = hub.status === 404 && (request.method === 'GET' || request.method === 'HEAD');
      request.log[routine ? 'debug' : 'info']({ reqId: request.id, kind: hub.kind, status: hub.status, reason: hub.message }, 'request refused');
      return sendError(reply, request, hub);
    }
    request.log.error({ reqId: request.id, err: error, method: request.method, url: request.url }, 'unexpected error');
    return sendError(reply, request, new HubError(500, 'INTERNAL', 'An unexpected error occurred. Quote the code when reporting it.'));
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, request, new HubError(404, 'NO_ROUTE', Messages.notFound)));
}
