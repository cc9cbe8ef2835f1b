import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { DockerContainerFactory } from '../../src/containers/docker/docker-container-factory.js';
import { describeContainerFactory } from './container-factory.contract.js';

// No skipping: this file runs after deploy/dev/services-up.sh, which starts the engine and
// exports DOCKER_HOST. A missing engine means the services were not started: a failure.
const dockerHost = process.env.DOCKER_HOST;
if (!dockerHost) {
  throw new Error('DOCKER_HOST is not set: start the services with deploy/dev/services-up.sh (it exports DOCKER_HOST) before running the contract-services tests');
}

beforeAll(async () => {
  try {
    await new DockerContainerFactory({ dockerHost }).docker.ping();
  } catch (err) {
    throw new Error(`no Docker engine answers at DOCKER_HOST=${dockerHost}: ${String(err)}`);
  }
  // The local runtime image (a no-op when it is up to date).
  execFileSync('bash', ['deploy/runtimes/build-nodejs-image.sh'], { stdio: 'inherit', timeout: 120_000 });
}, 150_000);

describeContainerFactory('docker', {
  newFactory: () => new DockerContainerFactory({ dockerHost, network: 'host' }),
  memory: {
    // A hard cgroup limit: memory outside the V8 heap (Buffers) counts too, and the kernel's
    // OOM killer ends the container, which Docker reports as OOMKilled.
    limitMB: 128,
    hogCode: 'function main() { const keep = []; for (let i = 0; i < 100; i++) keep.push(Buffer.alloc(16 * 1024 * 1024, 1)); return { n: keep.length }; }',
    reportsOomKilled: true,
  },
});

describe('DockerContainerFactory specifics', () => {
  it('labels and names containers, limits memory without swap and uses the host network', async () => {
    const factory = new DockerContainerFactory({ dockerHost });
    const c = await factory.create({
      name: 'whiskhub-test/odd name',
      kind: 'nodejs:20',
      memoryMB: 192,
      env: { A: 'b' },
      labels: { 'whiskhub.test': 'specifics' },
    });
    try {
      const info = await factory.docker.getContainer(c.id).inspect();
      expect(info.Name).toBe('/whiskhub-test_odd_name');
      expect(info.Config.Labels).toMatchObject({ 'whiskhub.test': 'specifics' });
      expect(info.HostConfig.Memory).toBe(192 * 1024 * 1024);
      expect(info.HostConfig.MemorySwap).toBe(192 * 1024 * 1024);
      expect(info.HostConfig.NetworkMode).toBe('host');
      expect(info.Config.Env).toEqual(expect.arrayContaining(['A=b', '__OW_PROXY_HOST=127.0.0.1']));
    } finally {
      await factory.close();
    }
    await expect(factory.docker.getContainer(c.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('says how to build a missing image', async () => {
    const factory = new DockerContainerFactory({ dockerHost, images: { 'nodejs:20': 'whiskhub/action-nodejs:20' } });
    await expect(
      factory.create({ name: 'x', kind: 'blackbox', image: 'whiskhub/no-such-image:1', memoryMB: 128, env: {}, labels: {} }),
    ).rejects.toThrow(/Docker image whiskhub\/no-such-image:1 not found/);
  });
});
