import { createServer, type IncomingMessage } from 'node:http';

/**
 * The child side of the benches' bare servers (bare-webhooks.js, floor-webhooks.js,
 * floor-sink.js; child-server.ts starts them): a node HTTP server on loopback `port` that reads
 * each request's body whole and answers what `handle` makes of it, and says "ready" on stdout
 * once it listens.
 */
export function serveBodies(port: number, handle: (req: IncomingMessage, body: Buffer) => Promise<{ status: number; body: string }>): void {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, Buffer.concat(chunks)).then((a) => res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body));
    });
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
}

/** All of stdin, trimmed (the benches hand their child servers a secret this way, never in argv). */
export async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
}
