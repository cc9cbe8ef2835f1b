import type Dockerode from 'dockerode';
import type { CollectedLogs, Container, ContainerSpec, ProxyResponse } from '../container-factory.js';
import type { LogCollector } from '../log-collector.js';
import { ProxyClient } from '../proxy-client.js';

/**
 * One Docker container running an action proxy. Its output arrives through an attach stream
 * (opened before start) into the shared LogCollector; the proxy is reached at `host:port`
 * (127.0.0.1 and an assigned port on the host network, the container's address and 8080 on a
 * bridge). When a call loses its connection, the container is inspected to tell a crash or an
 * OOM kill from a mere network hiccup.
 */
export interface DockerContainerParts {
  spec: ContainerSpec;
  container: Dockerode.Container;
  host: string;
  port: number;
  logs: LogCollector;
  /** The attach stream: it ends when the container stops. */
  output: NodeJS.ReadableStream;
  maxResponseBytes?: number;
  onDestroyed: (container: DockerContainer) => void;
}

const EXIT_WAIT_MS = 1000;
const PAUSE_RETRIES = 20;

function isConflict(err: unknown, message: RegExp): boolean {
  const e = err as { statusCode?: number; message?: string };
  return e.statusCode === 409 && message.test(e.message ?? '');
}

export class DockerContainer implements Container {
  readonly id: string;
  readonly spec: ContainerSpec;
  private readonly client: ProxyClient;
  private readonly stopped: Promise<void>;
  private outputEnded = false;
  private destroying?: Promise<void>;

  constructor(private readonly parts: DockerContainerParts) {
    this.id = parts.container.id;
    this.spec = parts.spec;
    this.client = new ProxyClient({
      host: parts.host,
      port: parts.port,
      maxResponseBytes: parts.maxResponseBytes,
      isAlive: () => !this.outputEnded,
    });
    this.stopped = new Promise((resolve) => {
      const ended = () => {
        this.outputEnded = true;
        parts.logs.end();
        resolve();
      };
      parts.output.on('end', ended);
      parts.output.on('close', ended);
      parts.output.on('error', ended);
    });
  }

  init(payload: Record<string, unknown>, timeoutMs: number): Promise<ProxyResponse> {
    return this.call('/init', { value: payload }, timeoutMs);
  }

  run(body: Record<string, unknown>, timeoutMs: number): Promise<ProxyResponse> {
    return this.call('/run', body, timeoutMs);
  }

  collectLogs(limitBytes: number, waitMs?: number): Promise<CollectedLogs> {
    return this.parts.logs.collect(limitBytes, waitMs);
  }

  /**
   * The engine updates a container's paused state a moment after unpause returns, so a pause
   * right after a resume can be refused as "already paused": try again briefly.
   */
  async pause(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.parts.container.pause();
      } catch (err) {
        if (!isConflict(err, /already paused/) || attempt >= PAUSE_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  /** Resuming a container that is not paused is not an error: it runs, as asked. */
  async resume(): Promise<void> {
    try {
      await this.parts.container.unpause();
    } catch (err) {
      if (!isConflict(err, /is not paused/)) throw err;
    }
  }

  destroy(): Promise<void> {
    this.destroying ??= this.release();
    return this.destroying;
  }

  private async call(path: string, payload: unknown, timeoutMs: number): Promise<ProxyResponse> {
    const { error, ...result } = await this.client.post(path, payload, timeoutMs);
    if (!error && !this.outputEnded) return { ...result, exited: false, oomKilled: false };
    await Promise.race([this.stopped, new Promise((r) => setTimeout(r, EXIT_WAIT_MS).unref())]);
    const state = await this.parts.container.inspect().then(
      (info) => info.State,
      () => undefined, // removed meanwhile
    );
    return { ...result, exited: !state || !state.Running, oomKilled: state?.OOMKilled === true };
  }

  private async release(): Promise<void> {
    try {
      await this.parts.container.remove({ force: true });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) {
        this.destroying = undefined; // let a later destroy() try again
        throw err;
      }
    }
    this.client.close();
    (this.parts.output as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    this.parts.logs.end();
    this.parts.onDestroyed(this);
  }
}
