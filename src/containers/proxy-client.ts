import * as http from 'node:http';
import { stringifyDoc } from '../entities/json-text.js';

/**
 * HTTP to one container's action proxy (/init, /run), shared by the factories. One keep-alive
 * agent per container; no socket limit, so concurrent activations get their own connections.
 *
 * Until the proxy has answered once, a refused connection means "still starting": the call is
 * retried every few ms while the container lives and time is left (OpenWhisk does the same for
 * /init). A reused keep-alive socket that the other side had closed is retried once.
 */
export interface ProxyCallResult {
  /** 0 when no answer came. */
  statusCode: number;
  body: string;
  start: number;
  end: number;
  timedOut: boolean;
  /** Why no answer came, when it was not the time limit (connection refused or reset, …). */
  error?: NodeJS.ErrnoException;
}

export interface ProxyClientOptions {
  host: string;
  port: number;
  /** Longer answers are cut here (default 16 MiB; the invoker's result limit is 1 MB). */
  maxResponseBytes?: number;
  /** False once the container is known to be gone: stop waiting for it to start. */
  isAlive?: () => boolean;
}

type Attempt =
  | { kind: 'answer'; statusCode: number; body: string }
  | { kind: 'timeout' }
  | { kind: 'error'; error: NodeJS.ErrnoException; reusedSocket: boolean };

const STARTUP_POLL_MS = 5;

export class ProxyClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly maxResponseBytes: number;
  private answered = false;

  constructor(private readonly options: ProxyClientOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  }

  async post(path: string, payload: unknown, timeoutMs: number): Promise<ProxyCallResult> {
    const start = Date.now();
    const deadline = start + timeoutMs;
    // A /run's `value` may carry its JSON text already (a fire's arguments): see json-text.ts.
    const data = payload !== null && typeof payload === 'object' ? stringifyDoc(payload) : JSON.stringify(payload);
    let retriedReset = false;
    for (;;) {
      const attempt = await this.attempt(path, data, deadline);
      if (attempt.kind === 'answer') {
        this.answered = true;
        return { statusCode: attempt.statusCode, body: attempt.body, start, end: Date.now(), timedOut: false };
      }
      if (attempt.kind === 'timeout') return { statusCode: 0, body: '', start, end: Date.now(), timedOut: true };
      const code = attempt.error.code;
      const alive = this.options.isAlive?.() ?? true;
      if (!this.answered && code === 'ECONNREFUSED' && alive && Date.now() + STARTUP_POLL_MS < deadline) {
        await new Promise((r) => setTimeout(r, STARTUP_POLL_MS));
        continue;
      }
      if (attempt.reusedSocket && code === 'ECONNRESET' && alive && !retriedReset) {
        retriedReset = true;
        continue;
      }
      return { statusCode: 0, body: '', start, end: Date.now(), timedOut: false, error: attempt.error };
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private attempt(path: string, data: string, deadline: number): Promise<Attempt> {
    return new Promise((resolve) => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return resolve({ kind: 'timeout' });
      let settled = false;
      const settle = (a: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(a);
      };
      const req = http.request({
        host: this.options.host,
        port: this.options.port,
        path,
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      });
      const timer = setTimeout(() => {
        settle({ kind: 'timeout' });
        req.destroy();
      }, remaining);
      req.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', error, reusedSocket: req.reusedSocket }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < this.maxResponseBytes) chunks.push(chunk.subarray(0, this.maxResponseBytes - size));
          size += chunk.length;
        });
        res.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', error, reusedSocket: false }));
        res.on('close', () => {
          if (!res.complete) settle({ kind: 'error', error: Object.assign(new Error('connection lost mid-answer'), { code: 'ECONNRESET' }), reusedSocket: false });
        });
        res.on('end', () => settle({ kind: 'answer', statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.end(data);
    });
  }
}
