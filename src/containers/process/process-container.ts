import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import type { CollectedLogs, Container, ContainerSpec, ProxyResponse } from '../container-factory.js';
import { LogCollector } from '../log-collector.js';
import { ProxyClient, type ProxyCallResult } from '../proxy-client.js';
import { waitStopped } from './proc-state.js';

/**
 * A "container" that is a child process running the action proxy on 127.0.0.1 and its own
 * port. Pause and resume are SIGSTOP and SIGCONT; destroy is SIGKILL. The memory limit is V8's
 * heap limit (--max-old-space-size), so it is approximate: Buffers and other memory outside
 * the heap are not counted. Running out of heap aborts Node with "JavaScript heap out of
 * memory" on stderr, which is how oomKilled is told.
 */
export interface ProcessContainerParts {
  spec: ContainerSpec;
  child: ChildProcess;
  host: string;
  port: number;
  tmpDir: string;
  maxBufferedLogBytes?: number;
  maxResponseBytes?: number;
  /** Called once the process is gone and its resources are released. */
  onDestroyed: (container: ProcessContainer) => void;
}

const HEAP_OOM = /JavaScript heap out of memory|Reached heap limit/;
const EXIT_WAIT_MS = 500;

export class ProcessContainer implements Container {
  readonly id: string;
  readonly spec: ContainerSpec;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly client: ProxyClient;
  private readonly logs: LogCollector;
  private readonly closed: Promise<void>;
  private exited = false;
  private heapExhausted = false;
  private stderrTail = '';
  private destroying?: Promise<void>;

  constructor(private readonly parts: ProcessContainerParts) {
    this.spec = parts.spec;
    this.child = parts.child;
    this.pid = parts.child.pid ?? -1;
    this.id = `${parts.spec.name}-${this.pid}`;
    this.logs = new LogCollector({ maxBufferedBytes: parts.maxBufferedLogBytes });
    this.client = new ProxyClient({
      host: parts.host,
      port: parts.port,
      maxResponseBytes: parts.maxResponseBytes,
      isAlive: () => !this.exited,
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.logs.push('stdout', chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.logs.push('stderr', chunk);
      const text = this.stderrTail + chunk.toString('latin1');
      if (HEAP_OOM.test(text)) this.heapExhausted = true;
      this.stderrTail = text.slice(-64);
    });
    this.child.stdin?.on('error', () => undefined);
    this.child.on('exit', () => {
      this.exited = true;
    });
    this.child.on('error', () => {
      this.exited = true; // could not be spawned or signalled
    });
    // 'close': exited and both pipes drained, so everything it wrote has been seen.
    this.closed = new Promise((resolve) => {
      this.child.on('close', () => {
        this.exited = true;
        this.logs.end();
        resolve();
      });
    });
  }

  init(payload: Record<string, unknown>, timeoutMs: number): Promise<ProxyResponse> {
    return this.call('/init', { value: payload }, timeoutMs);
  }

  run(body: Record<string, unknown>, timeoutMs: number): Promise<ProxyResponse> {
    return this.call('/run', body, timeoutMs);
  }

  collectLogs(limitBytes: number, waitMs?: number): Promise<CollectedLogs> {
    return this.logs.collect(limitBytes, waitMs);
  }

  async pause(): Promise<void> {
    this.signal('SIGSTOP');
    await waitStopped(this.pid, true);
  }

  async resume(): Promise<void> {
    this.signal('SIGCONT');
    await waitStopped(this.pid, false);
  }

  destroy(): Promise<void> {
    this.destroying ??= this.release();
    return this.destroying;
  }

  private async call(path: string, payload: unknown, timeoutMs: number): Promise<ProxyResponse> {
    const result: ProxyCallResult = await this.client.post(path, payload, timeoutMs);
    // A lost connection usually means the process died: give the exit a moment to be seen.
    if (result.error || this.exited) await this.waitClosed(EXIT_WAIT_MS);
    const { error: _error, ...response } = result;
    return { ...response, exited: this.exited, oomKilled: this.exited && this.heapExhausted };
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.exited || !this.child.kill(signal)) throw new Error(`process container ${this.id} is not running`);
  }

  private waitClosed(ms: number): Promise<void> {
    return Promise.race([this.closed, new Promise<void>((r) => setTimeout(r, ms).unref())]);
  }

  private async release(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.waitClosed(5000);
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    this.client.close();
    this.logs.end();
    await rm(this.parts.tmpDir, { recursive: true, force: true });
    this.parts.onDestroyed(this);
  }
}
