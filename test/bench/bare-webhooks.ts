import { createServer } from 'node:http';
import { Webhooks } from '@octokit/webhooks';
import { readStdin } from './floor-log.js';

/**
 * The baseline of `bench webhooks`: a bare node HTTP server whose only work per delivery is
 * @octokit/webhooks' verifyAndReceive (signature check in constant time, JSON parse, dispatch to
 * a no-op handler), answering 202. The secret comes in on stdin.
 */
const webhooks = new Webhooks({ secret: await readStdin() });
webhooks.onAny(() => undefined);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    webhooks
      .verifyAndReceive({
        id: String(req.headers['x-github-delivery']),
        name: String(req.headers['x-github-event']) as 'push',
        payload: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['x-hub-signature-256']),
      })
      .then(
        () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}'),
        () => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad signature"}'),
      );
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\n'));
