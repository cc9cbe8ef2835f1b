import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Container, ContainerFactory, ContainerSpec } from '../container-factory.js';
import { PortAllocator } from '../free-port.js';
import { findProxyScript } from './find-proxy-script.js';
import { findLeftoverProcesses, identityArgs, killLeftover } from './leftover-processes.js';
import { ProcessContainer } from './process-container.js';

/**
 * ContainerFactory without Docker: each container is a `node` child process running the
 * compiled action proxy (dist/src/runtime/main.js) on 127.0.0.1 and a free port. Only code
 * kinds of the nodejs family run this way (no images, so no blackbox actions).
 *
 * Isolation is that of a process: the action sees the same file system and network as the
 * invoker, but not its environment (a child starts from `baseEnv` plus the spec's env).
 * Memory: V8's heap limit, approximate (see ProcessContainer). A child exits when its stdin
 * closes, so containers die with the invoker; ones stopped (paused) at that moment stay, and
 * cleanup() finds them by their command line.
 */
export interface ProcessContainerFactoryOptions {
  /** The compiled proxy; default dist/src/runtime/main.js of this package. */
  proxyScript?: string;
  /** Node binary; default the one running this process. */
  nodePath?: string;
  /** Extra Node flags for every container. */
  nodeArgs?: string[];
  /** Address proxies bind to (default 127.0.0.1). */
  host?: string;
  /** Environment every container starts from (default: only a standard PATH). */
  baseEnv?: Record<string, string>;
  maxBufferedLogBytes?: number;
  maxResponseBytes?: number;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const TMP_PREFIX = 'whiskhub-proc-';

export class ProcessContainerFactory implements ContainerFactory {
  readonly name = 'process' as const;
  private readonly proxyScript: string;
  private readonly host: string;
  private readonly ports: PortAllocator;
  private readonly live = new Set<ProcessContainer>();

  constructor(private readonly options: ProcessContainerFactoryOptions = {}) {
    this.proxyScript = options.proxyScript ?? findProxyScript();
    this.host = options.host ?? '127.0.0.1';
    this.ports = new PortAllocator(this.host);
  }

  async create(spec: ContainerSpec): Promise<Container> {
    if (!spec.kind.startsWith('nodejs:')) {
      throw new Error(`the process container factory runs nodejs actions only, not kind ${spec.kind}${spec.image ? ` (image ${spec.image})` : ''}`);
    }
    const port = await this.ports.allocate();
    let tmpDir: string | undefined;
    try {
      tmpDir = await mkdtemp(join(tmpdir(), TMP_PREFIX));
      const args = [
        ...(this.options.nodeArgs ?? []),
        `--max-old-space-size=${Math.max(16, Math.floor(spec.memoryMB))}`,
        this.proxyScript,
        ...identityArgs(spec.labels, tmpDir),
      ];
      const env = {
        PATH: DEFAULT_PATH,
        ...this.options.baseEnv,
        ...spec.env,
        TMPDIR: tmpDir,
        __OW_PROXY_HOST: this.host,
        __OW_PROXY_PORT: String(port),
        __OW_PROXY_EXIT_WITH_STDIN: '1',
      };
      const child = spawn(this.options.nodePath ?? process.execPath, args, { cwd: tmpDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
      const dir = tmpDir;
      const container = new ProcessContainer({
        spec,
        child,
        host: this.host,
        port,
        tmpDir: dir,
        maxBufferedLogBytes: this.options.maxBufferedLogBytes,
        maxResponseBytes: this.options.maxResponseBytes,
        onDestroyed: (c) => {
          this.live.delete(c);
          this.ports.release(port);
        },
      });
      this.live.add(container);
      return container;
    } catch (err) {
      this.ports.release(port);
      if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Kills processes that carry all the labels and are not this factory's own live containers. */
  async cleanup(labels: Record<string, string>): Promise<number> {
    if (Object.keys(labels).length === 0) throw new Error('cleanup needs at least one label (it would remove every container)');
    const own = new Set([...this.live].map((c) => c.pid));
    let removed = 0;
    for (const leftover of findLeftoverProcesses(labels)) {
      if (own.has(leftover.pid) || leftover.pid === process.pid) continue;
      if (!(await killLeftover(leftover.pid))) continue;
      removed++;
      // Only ever a folder this factory made: directly in the temp dir, with our prefix.
      const dir = leftover.tmpDir;
      if (dir && dirname(dir) === tmpdir() && basename(dir).startsWith(TMP_PREFIX)) {
        await rm(dir, { recursive: true, force: true });
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    await Promise.all([...this.live].map((c) => c.destroy()));
  }
}
