import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAliveClient } from '../../src/http/keep-alive-client.js';

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`;

/**
 * A raw HTTP server scripted per connection and request: `plan(connection, request)` answers or
 * drops the socket (as a server does when it closes an idle kept-alive connection).
 */
function scripted(plan: (connection: number, request: number) => 'answer' | 'drop') {
  let connections = 0;
  const seen: [number, number][] = [];
  const server = createServer((socket: Socket) => {
    const connection = ++connections;
    let request = 0;
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString();
      while (buffered.includes('\r\n\r\n')) {
        const end = buffered.indexOf('\r\n\r\n') + 4;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + length) return;
        buffered = buffered.slice(end + length);
        request++;
        seen.push([connection, request]);
        if (plan(connection, request) === 'drop') {
          socket.resetAndDestroy();
          return;
        }
        socket.write(ok(JSON.stringify({ connection, request })));
      }
    });
  });
  return { server, seen };
}

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function listen(s: Server): Promise<string> {
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}/x`;
}

describe('KeepAliveClient', () => {
  it('sends a request again, once, when the kept-alive socket it reused was closed under it', async () => {
    const s = scripted((connection, request) => (connection === 1 && request === 2 ? 'drop' : 'answer'));
    const url = await listen(s.server);
    const client = new KeepAliveClient();
    const first = await client.request(url, { method: 'POST', body: '{"n":1}' });
    expect(JSON.parse(first.text)).toEqual({ connection: 1, request: 1 });
    const second = await client.request(url, { method: 'POST', body: '{"n":2}' });
    expect(second.status).toBe(200);
    expect(JSON.parse(second.text)).toEqual({ connection: 2, request: 1 });
    expect(s.seen).toEqual([[1, 1], [1, 2], [2, 1]]);
    client.close();
  });

  it('does not send again what failed on a new connection', async () => {
    const s = scripted(() => 'drop');
    const url = await listen(s.server);
    const client = new KeepAliveClient();
    await expect(client.request(url, { method: 'POST', body: '{}' })).rejects.toThrow();
    expect(s.seen).toEqual([[1, 1]]);
    client.close();
  });
});
