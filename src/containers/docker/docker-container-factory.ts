import Dockerode from 'dockerode';
import { Writable } from 'node:stream';
import type { Container, ContainerFactory, ContainerSpec } from '../container-factory.js';
import { PortAllocator } from '../free-port.js';
import { LogCollector } from '../log-collector.js';
import { DockerContainer } from './docker-container.js';

/**
 * ContainerFactory on a Docker engine (dockerode).
 *
 * Network modes:
 * - `host`: containers share the host's network; each proxy is told (through __OW_PROXY_HOST
 *   and __OW_PROXY_PORT) to listen on 127.0.0.1 and a port this factory assigns. What runs here,
 *   where Docker has no bridge. Only images whose proxy honours those variables work (ours).
 * - `bridge`: OpenWhisk's way in production: the proxy listens on 8080 in its own network
 *   namespace and is reached at the container's address on `bridgeNetwork`.
 *
 * Memory is a hard limit (HostConfig.Memory, MemorySwap equal: no swap); an action beyond it is
 * killed by the kernel and reported as oomKilled. Output is read through `attach`, so the
 * engine keeps no log files (`logDriver` 'none' by default).
 */
export type DockerNetworkMode = 'host' | 'bridge';

export interface DockerContainerFactoryOptions {
  /** A client; default one for `dockerHost`, else dockerode's own default (DOCKER_HOST). */
  docker?: Dockerode;
  /** `unix:///run/whiskhub-docker.sock`, `tcp://127.0.0.1:2375`. */
  dockerHost?: string;
  network?: DockerNetworkMode;
  /** The Docker network for `bridge` mode (default `bridge`). */
  bridgeNetwork?: string;
  /** The address proxies bind to and are called on in `host` mode (default 127.0.0.1). */
  hostAddress?: string;
  /** Image per runtime kind; default `nodejs:20` → whiskhub/action-nodejs:20. */
  images?: Record<string, string>;
  /** Engine log driver for action containers (default 'none': logs come through attach). */
  logDriver?: string;
  maxBufferedLogBytes?: number;
  maxResponseBytes?: number;
}

export const DEFAULT_IMAGES: Readonly<Record<string, string>> = { 'nodejs:20': 'whiskhub/action-nodejs:20' };
const PROXY_PORT = 8080;

export class DockerContainerFactory implements ContainerFactory {
  readonly name = 'docker' as const;
  readonly docker: Dockerode;
  private readonly network: DockerNetworkMode;
  private readonly hostAddress: string;
  private readonly images: Record<string, string>;
  private readonly ports: PortAllocator;
  private readonly live = new Set<DockerContainer>();

  constructor(private readonly options: DockerContainerFactoryOptions = {}) {
    this.docker = options.docker ?? (options.dockerHost ? new Dockerode(dockerConnection(options.dockerHost)) : new Dockerode());
    this.network = options.network ?? 'host';
    this.hostAddress = options.hostAddress ?? '127.0.0.1';
    this.images = { ...DEFAULT_IMAGES, ...options.images };
    this.ports = new PortAllocator(this.hostAddress);
  }

  async create(spec: ContainerSpec): Promise<Container> {
    const image = spec.image ?? this.images[spec.kind];
    if (!image) throw new Error(`no runtime image for kind ${spec.kind}`);
    const hostNetwork = this.network === 'host';
    const port = hostNetwork ? await this.ports.allocate() : PROXY_PORT;
    const env: Record<string, string> = { ...spec.env };
    if (hostNetwork) Object.assign(env, { __OW_PROXY_HOST: this.hostAddress, __OW_PROXY_PORT: String(port) });
    const memory = Math.floor(spec.memoryMB * 1024 * 1024);

    let created: Dockerode.Container;
    try {
      created = await this.docker.createContainer({
        name: containerName(spec.name),
        Image: image,
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: spec.labels,
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        HostConfig: {
          NetworkMode: hostNetwork ? 'host' : (this.options.bridgeNetwork ?? 'bridge'),
          Memory: memory,
          MemorySwap: memory,
          LogConfig: { Type: this.options.logDriver ?? 'none', Config: {} },
        },
      });
    } catch (err) {
      if (hostNetwork) this.ports.release(port);
      if ((err as { statusCode?: number }).statusCode === 404) {
        throw new Error(`Docker image ${image} not found${image === DEFAULT_IMAGES['nodejs:20'] ? ': build it with deploy/runtimes/build-nodejs-image.sh' : ''}`);
      }
      throw err;
    }

    try {
      const logs = new LogCollector({ maxBufferedBytes: this.options.maxBufferedLogBytes });
      // Attach before start, so not a byte of output is missed.
      const output = (await created.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
      this.docker.modem.demuxStream(output, sink(logs, 'stdout'), sink(logs, 'stderr'));
      await created.start();
      const host = hostNetwork ? this.hostAddress : await this.bridgeAddress(created);
      const container = new DockerContainer({
        spec,
        container: created,
        host,
        port,
        logs,
        output,
        maxResponseBytes: this.options.maxResponseBytes,
        onDestroyed: (c) => {
          this.live.delete(c);
          if (hostNetwork) this.ports.release(port);
        },
      });
      this.live.add(container);
      return container;
    } catch (err) {
      await created.remove({ force: true }).catch(() => undefined);
      if (hostNetwork) this.ports.release(port);
      throw err;
    }
  }

  /** Removes every container with all the labels, except this factory's own live ones. */
  async cleanup(labels: Record<string, string>): Promise<number> {
    const filters = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    if (filters.length === 0) throw new Error('cleanup needs at least one label (it would remove every container)');
    const own = new Set([...this.live].map((c) => c.id));
    const found = await this.docker.listContainers({ all: true, filters: JSON.stringify({ label: filters }) });
    let removed = 0;
    for (const info of found) {
      if (own.has(info.Id)) continue;
      try {
        await this.docker.getContainer(info.Id).remove({ force: true });
        removed++;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    }
    return removed;
  }

  /** Removes the containers this factory created and still holds. */
  async close(): Promise<void> {
    await Promise.all([...this.live].map((c) => c.destroy()));
  }

  private async bridgeAddress(container: Dockerode.Container): Promise<string> {
    const info = await container.inspect();
    const networkName = this.options.bridgeNetwork ?? 'bridge';
    // Older engines also give the default bridge's address at the top level.
    const legacy = (info.NetworkSettings as { IPAddress?: string }).IPAddress;
    const address = info.NetworkSettings.Networks?.[networkName]?.IPAddress || legacy;
    if (!address) throw new Error(`container ${info.Name} has no address on network ${networkName}`);
    return address;
  }
}

/** `unix:///path` or `tcp://host:port` (as DOCKER_HOST spells it) → dockerode options. */
export function dockerConnection(dockerHost: string): Dockerode.DockerOptions {
  const url = new URL(dockerHost);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'tcp:' || url.protocol === 'http:') return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
  if (url.protocol === 'https:') return { host: url.hostname, port: Number(url.port || 2376), protocol: 'https' };
  throw new Error(`unsupported Docker host ${dockerHost} (use unix:// or tcp://)`);
}

/** Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; anything else becomes `_`. */
export function containerName(name: string): string {
  const safe = name.replace(/[^a-zA-Z0-9_.-]/g, '_');
  return /^[a-zA-Z0-9]/.test(safe) ? safe : `w${safe}`;
}

function sink(logs: LogCollector, stream: 'stdout' | 'stderr'): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(stream, chunk);
      done();
    },
  });
}
