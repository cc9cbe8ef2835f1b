import Fastify from 'fastify';

/**
 * The baseline of `bench api`: a bare Fastify route answering, with no auth and no store, the
 * exact JSON the benchmarked GET returns (passed in by the parent on stdin).
 */
const body = JSON.parse(await new Promise<string>((resolve) => {
  let text = '';
  process.stdin.on('data', (d) => (text += d));
  process.stdin.on('end', () => resolve(text));
}));
const app = Fastify();
app.get('/api/v1/namespaces/:ns/actions/:name', async () => body);
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.stdout.write('ready\n');
