import * as http from 'node:http';
import * as https from 'node:https';

export interface KeepAliveAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface KeepAliveRequest {
  method: string;
  headers?: Record<string, string>;
  /** Sent as is (a JSON body the caller serialized, possibly spliced from parts). */
  body?: string | Buffer;
  /** No answer in this long: the request is abandoned and the promise rejects. */
  timeoutMs?: number;
}

/**
 * Requests on node's own HTTP client with keep-alive, for the hot paths between our own
 * processes (CouchDB's _bulk_docs, a provider's fires into the controller). Through `fetch`
 * (undici, a web-streams body) a 900 KB body was encoded and copied twice more and one small
 * request cost about 2 ms of CPU on the development machine; through this about 0.6 ms.
 */
export class KeepAliveClient {
  private readonly agents = new Map<string, http.Agent>();

  /**
   * One request. A kept-alive socket that the server closed just as it was reused fails before
   * any answer: such a request never reached the server, and is sent once more on a new socket.
   */
  async request(url: URL | string, r: KeepAliveRequest): Promise<KeepAliveAnswer> {
    const target = typeof url === 'string' ? new URL(url) : url;
    try {
      return await this.once(target, r);
    } catch (err) {
      if (!(err as { reusedSocket?: boolean }).reusedSocket) throw err;
      return this.once(target, r);
    }
  }

  private once(target: URL, r: KeepAliveRequest): Promise<KeepAliveAnswer> {
    const secure = target.protocol === 'https:';
    const client = secure ? https : http;
    let agent = this.agents.get(target.protocol);
    if (!agent) this.agents.set(target.protocol, (agent = new client.Agent({ keepAlive: true })));
    const headers: Record<string, string | number> = { ...r.headers };
    if (r.body !== undefined) headers['content-length'] = typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length;
    return new Promise<KeepAliveAnswer>((resolve, reject) => {
      let answered = false;
      const req = client.request(target, { method: r.method, agent, headers }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      });
      if (r.timeoutMs !== undefined) {
        req.setTimeout(r.timeoutMs, () => req.destroy(new Error(`no answer from ${target.host} in ${r.timeoutMs} ms`)));
      }
      req.on('error', (err: NodeJS.ErrnoException) => {
        const stale = !answered && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        reject(stale ? Object.assign(err, { reusedSocket: true }) : err);
      });
      req.end(r.body);
    });
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

/** A JSON answer's body, or undefined when it is empty or not JSON. */
export function jsonOf(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
