import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HubError, Messages } from '../../entities/errors.js';
import { MAX_NAME_LENGTH } from '../../entities/names.js';
import { setCommonHeaders } from './cors.js';
import { sendError } from './error-handler.js';

/** The longest percent-decoded segment of a path (undecodable segments count as written). */
function longestSegment(url: string): number {
  const path = url.split('?')[0];
  return Math.max(
    ...path.split('/').map((seg) => {
      try {
        return decodeURIComponent(seg).length;
      } catch {
        return seg.length;
      }
    }),
  );
}

/**
 * Fastify refuses some requests before routing, so no hook runs for them and by default they get
 * Fastify's own body: a bad percent-encoding (`%E0%A4%A`) and a path segment longer than the
 * router's parameter limit. Give them OpenWhisk's `{error, code}` body, the usual headers, and
 * the wording OpenWhisk uses for such names, so clients read them as any other 400.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  setCommonHeaders(request, reply);
  let hub: HubError;
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    hub = new HubError(400, 'NAME_TOO_LONG', `Name segement longer than allowed: ${longestSegment(request.url)} > ${MAX_NAME_LENGTH}.`);
  } else if (error.code === 'FST_ERR_BAD_URL') {
    hub = new HubError(400, 'ILLEGAL_NAME', Messages.illegalName);
  } else {
    // Only async route constraints remain, which we do not use: a failure there is ours.
    hub = new HubError(error.statusCode ?? 500, 'ROUTING', `The request could not be routed: ${error.message}`);
  }
  request.log.info({ reqId: request.id, kind: hub.kind, status: hub.status, reason: hub.message }, 'request refused');
  sendError(reply, request, hub);
}
