import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HubError, notFound } from '../../entities/errors.js';
import type { EntityRef } from '../../entities/names.js';
import { getValue } from '../../entities/params.js';
import type { ControllerContext } from '../context.js';
import { resolveAction, type ResolvedAction } from '../resolve-action.js';
import { MAX_BLOCKING_WAIT_MS } from '../routes/invoke-query.js';
import type { InvokeOutcome } from '../activation-gateway.js';
import { webArguments } from './web-arguments.js';
import { mayInvoke, optionalCaller, ownerIdentity, unauthorized } from './web-identity.js';
import { parseWebPath, type WebExtension } from './web-path.js';
import { transcode, type WebAnswer } from './web-response.js';

export const WEB_PREFIX = '/api/v1/web';
const MAX_REQUEST_BYTES = 1024 * 1024;

const API_CORS_HEADERS = ['Access-Control-Allow-Origin', 'Access-Control-Allow-Methods', 'Access-Control-Allow-Headers'];
const DEFAULT_ALLOW_HEADERS = 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent';

const errorProcessing = () => new HubError(400, 'WEB_ACTION_FAILED', 'There was an error processing your request.');

/** OpenWhisk's web CORS defaults (CorsSettings.WebActions); requested headers are allowed back. */
function setWebCors(request: FastifyRequest, reply: FastifyReply): void {
  const requested = request.headers['access-control-request-headers'];
  reply.header('Access-Control-Allow-Origin', '*');
  reply.header('Access-Control-Allow-Methods', 'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH');
  reply.header('Access-Control-Allow-Headers', typeof requested === 'string' ? requested : DEFAULT_ALLOW_HEADERS);
}

/** The exported action the path names, run as its owner; anything else reads as 404. */
async function findWebAction(ctx: ControllerContext, ref: EntityRef) {
  const owner = await ownerIdentity(ctx.store, ref.namespace);
  let resolved: ResolvedAction;
  try {
    resolved = await resolveAction(ctx.store, ref, owner);
  } catch (err) {
    if (err instanceof HubError && err.status < 500) throw notFound();
    throw err;
  }
  if (getValue(resolved.action.annotations, 'web-export') !== true) throw notFound();
  return { owner, resolved };
}

/**
 * The HTTP answer for a finished activation: a success's result, or an application error's
 * `error` value, through the extension's transcoder. An application error answers 400 unless its
 * value says otherwise (`.http` statusCode); if its value does not fit the extension, it is sent
 * as `{error}`. Developer and system errors hide their details.
 */
function answerFor(outcome: InvokeOutcome, extension: WebExtension): WebAnswer {
  if (Array.isArray(outcome.body)) return transcode(extension, outcome.body, 200);
  const response = (outcome.body as { response?: { status?: string; result?: unknown } } | undefined)?.response;
  if (response?.status === 'success') return transcode(extension, response.result, 200);
  if (response?.status !== 'application error') throw errorProcessing();
  const error = (response.result as { error?: unknown } | undefined)?.error;
  try {
    return transcode(extension, error, 400);
  } catch {
    return { status: 400, headers: [], contentType: 'application/json', body: JSON.stringify({ error }) };
  }
}

function send(reply: FastifyReply, answer: WebAnswer): FastifyReply {
  const byName = new Map<string, string[]>();
  for (const [k, v] of answer.headers) byName.set(k, [...(byName.get(k) ?? []), v]);
  for (const [k, values] of byName) reply.header(k, values.length === 1 ? values[0] : values);
  if (answer.contentType) reply.header('content-type', answer.contentType);
  return reply.code(answer.status).send(answer.body);
}

async function serveWebAction(ctx: ControllerContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const [pathname, query = ''] = request.url.slice(WEB_PREFIX.length + 1).split(/\?(.*)/s);
  let found;
  try {
    const target = parseWebPath(pathname);
    found = { target, ...(await findWebAction(ctx, target.ref)) };
  } catch (err) {
    // A preflight for something that is not there gets the API's generic OPTIONS answer.
    if (request.method === 'OPTIONS' && err instanceof HubError && err.status === 404) return reply.code(200).send();
    throw err;
  }
  const { target, owner, resolved } = found;
  const annotations = resolved.action.annotations;
  const customOptions = getValue(annotations, 'web-custom-options') === true;
  for (const h of API_CORS_HEADERS) reply.removeHeader(h);
  if (!customOptions) {
    setWebCors(request, reply);
    if (request.method === 'OPTIONS') return reply.code(200).send();
  }
  const caller = await optionalCaller(ctx.auth, request.headers.authorization);
  // An action answering its own OPTIONS gets them unauthenticated (browsers send no credentials).
  if (request.method !== 'OPTIONS' && !mayInvoke(annotations, request.headers, caller)) throw unauthorized();
  const payload = webArguments(
    { method: request.method, headers: request.headers, query, path: target.path, body: request.body as Buffer | undefined, user: caller?.namespace },
    getValue(annotations, 'raw-http') === true,
  );
  await ctx.throttles.checkInvoke(owner);
  const outcome = await ctx.activations.invoke({
    identity: owner,
    action: target.ref,
    resolved,
    payload,
    blocking: true,
    resultOnly: false,
    waitMs: MAX_BLOCKING_WAIT_MS,
    transactionId: request.id,
  });
  if (outcome.activationId) reply.header('x-openwhisk-activation-id', outcome.activationId);
  if (outcome.status === 202) return reply.code(202).header('content-type', 'application/json').send({ error: 'Response not yet ready.', code: request.id });
  return send(reply, answerFor(outcome, target.extension));
}

/**
 * Web actions (OpenWhisk §7.2): `/api/v1/web/{namespace}/{package|default}/{action}[.ext][/path]`
 * for any of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, without credentials, for actions
 * annotated `web-export: true`. Bodies of any type are taken raw (the action decides).
 */
export function webActionRoutes(ctx: ControllerContext): FastifyPluginAsync {
  return async (web) => {
    web.removeAllContentTypeParsers();
    web.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    web.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
      url: '/*',
      exposeHeadRoute: false,
      bodyLimit: MAX_REQUEST_BYTES,
      handler: (request, reply) => serveWebAction(ctx, request, reply),
    });
  };
}
