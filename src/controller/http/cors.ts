import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, DELETE, POST, PUT, HEAD',
  'Access-Control-Allow-Headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

/** The headers every answer carries, also those refused before routing (see framework-errors.ts). */
export function setCommonHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.headers(CORS);
  reply.header('X-Request-ID', request.id);
}

/** CORS headers and X-Request-ID on every answer, and 200 for any OPTIONS. */
export function installCommonHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    setCommonHeaders(request, reply);
    done();
  });
  app.options('/*', (_request, reply) => reply.code(200).send());
}
