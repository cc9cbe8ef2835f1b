import * as net from 'node:net';

/**
 * Ports for proxies that share the host's network (process containers, Docker in host mode).
 * The OS picks a free port; the allocator also remembers what it handed out until released, so
 * two containers created at the same moment never get the same one. (A port can still be taken
 * by someone else between the pick and the proxy's bind; the proxy then exits and the call
 * reports the container exited.)
 */
/** Shared by every allocator in the process: docker and process containers on one host. */
const inUse = new Set<number>();

export class PortAllocator {
  private readonly inUse = inUse;

  constructor(private readonly host = '127.0.0.1') {}

  async allocate(): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = await freePort(this.host);
      if (!this.inUse.has(port)) {
        this.inUse.add(port);
        return port;
      }
    }
    throw new Error(`no free port on ${this.host} after 50 attempts`);
  }

  release(port: number): void {
    this.inUse.delete(port);
  }
}

/** A port that nothing listened on a moment ago (listen on port 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
