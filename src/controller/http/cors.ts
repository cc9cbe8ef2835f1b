import type { FastifyInstance } from 'fastify';

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, DELETE, POST, PUT, HEAD',
  'Access-Control-Allow-Headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

/** CORS headers and X-Request-ID on every answer, and 200 for any OPTIONS. */
export function installCommonHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(CORS);
    reply.header('X-Request-ID', request.id);
    done();
  });
  app.options('/*', (_request, reply) => reply.code(200).send());
}
