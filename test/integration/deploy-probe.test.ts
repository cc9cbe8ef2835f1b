import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, run } from '../deploy/chart-support.js';

/**
 * whiskhub-probe (deploy/docker/whiskhub/probe.mjs): what the chart's init containers wait with,
 * what its exec probes check, and how invokers get their runtime images, against the real
 * services deploy/dev/services-up.sh starts (their addresses from .data/services/env).
 */
const PROBE = join(REPO, 'deploy/docker/whiskhub/probe.mjs');
const probe = (args: string[], env: NodeJS.ProcessEnv = process.env) => run(process.execPath, [PROBE, ...args], { env, timeoutMs: 60_000 });

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the services with deploy/dev/services-up.sh and \`. .data/services/env\``);
  return v;
}

let silent: Server;
let silentPort: number;

beforeAll(async () => {
  for (const n of ['WHISKHUB_COUCHDB_URL', 'WHISKHUB_KAFKA_BROKERS', 'WHISKHUB_REDIS_URL', 'DOCKER_HOST']) required(n);
  // A port that accepts connections and never answers: what a hung service looks like.
  silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
});

afterAll(() => silent?.close());

describe('whiskhub-probe check', () => {
  it('passes for CouchDB, Kafka (an ApiVersions round trip), Redis (PING) and the Docker engine', async () => {
    const r = await probe(['check', 'couchdb', 'kafka', 'redis', 'docker']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('fails, without printing credentials, for wrong credentials and for services that do not answer', async () => {
    const redis = new URL(required('WHISKHUB_REDIS_URL'));
    redis.password = 'not-the-password';
    const couch = new URL(required('WHISKHUB_COUCHDB_URL'));
    couch.username = 'nobody';
    couch.password = 'not-the-password';
    const cases: [string, NodeJS.ProcessEnv][] = [
      ['redis', { ...process.env, WHISKHUB_REDIS_URL: redis.toString() }],
      ['kafka', { ...process.env, WHISKHUB_KAFKA_BROKERS: `127.0.0.1:${silentPort}` }],
      ['docker', { ...process.env, WHISKHUB_DOCKER_HOST: 'unix:///nonexistent/docker.sock' }],
      [`tcp://127.0.0.1:1`, process.env],
    ];
    for (const [target, env] of cases) {
      const r = await probe(['check', target], env);
      expect(r.code, `${target}: ${r.stderr}`).toBe(1);
      expect(r.stderr).not.toContain('not-the-password');
    }
    // pouchdb-server (CouchDB's HTTP API here) has no users to refuse; a real CouchDB answers 401.
  });

  it('couchdb-ready waits for the init Job: the whisk.system subject in <prefix>subjects', async () => {
    const r = await probe(['check', 'couchdb-ready'], { ...process.env, WHISKHUB_COUCHDB_PREFIX: 'nowhere_' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not initialized yet');
  });

  it('says which setting is missing, and rejects unknown targets', async () => {
    const env = { PATH: process.env.PATH };
    const missing = await probe(['check', 'redis'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('WHISKHUB_REDIS_URL is not set');
    const unknown = await probe(['check', 'mongodb'], env);
    expect(unknown.code).toBe(2);
  });
});

describe('whiskhub-probe wait', () => {
  it('returns once every target answers', async () => {
    const r = await probe(['wait', '--timeout', '30', 'couchdb', 'kafka', 'redis', 'docker']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/kafka: ready/);
  });

  it('gives up after --timeout when a target never answers', async () => {
    const started = Date.now();
    const r = await probe(['wait', '--timeout', '3', 'kafka'], { ...process.env, WHISKHUB_KAFKA_BROKERS: `127.0.0.1:${silentPort}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gave up after 3 s');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('whiskhub-probe pull', () => {
  it('leaves a present image alone, tags SOURCE=IMAGE without a registry, and reports a failed pull', async () => {
    const built = await run('bash', ['deploy/runtimes/build-nodejs-image.sh'], { timeoutMs: 300_000 });
    expect(built.code, built.stderr).toBe(0);
    const present = await probe(['pull', 'whiskhub/action-nodejs:20']);
    expect(present.code, present.stderr).toBe(0);
    expect(present.stderr).toContain('whiskhub/action-nodejs:20: present');

    const tag = `whiskhub/probe-test:${process.pid}`;
    try {
      const tagged = await probe(['pull', `whiskhub/action-nodejs:20=${tag}`]);
      expect(tagged.code, tagged.stderr).toBe(0);
      expect(tagged.stderr).toContain(`tagged ${tag}`);
      const again = await probe(['pull', `whiskhub/action-nodejs:20=${tag}`]);
      expect(again.stderr).toContain(`${tag}: present`);
    } finally {
      await run('docker', ['rmi', tag]);
    }

    const failed = await probe(['pull', '127.0.0.1:1/nothing/here:1']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('pulling 127.0.0.1:1/nothing/here:1');
  });
});
