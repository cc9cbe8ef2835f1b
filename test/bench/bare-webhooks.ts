import { Webhooks } from '@octokit/webhooks';
import { readStdin, serveBodies } from './body-server.js';

/**
 * The baseline of `bench webhooks`: a bare node HTTP server whose only work per delivery is
 * @octokit/webhooks' verifyAndReceive (signature check in constant time, JSON parse, dispatch to
 * a no-op handler), answering 202. The secret comes in on stdin.
 */
const webhooks = new Webhooks({ secret: await readStdin() });
webhooks.onAny(() => undefined);

serveBodies(Number(process.argv[2]), (req, raw) =>
  webhooks
    .verifyAndReceive({
      id: String(req.headers['x-github-delivery']),
      name: String(req.headers['x-github-event']) as 'push',
      payload: raw.toString('utf8'),
      signature: String(req.headers['x-hub-signature-256']),
    })
    .then(
      () => ({ status: 202, body: '{"ok":true}' }),
      () => ({ status: 400, body: '{"error":"bad signature"}' }),
    ),
);
