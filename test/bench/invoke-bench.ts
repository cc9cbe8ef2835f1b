import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Container, ContainerFactory } from '../../src/containers/container-factory.js';
import { DockerContainerFactory } from '../../src/containers/docker/docker-container-factory.js';
import { ProcessContainerFactory } from '../../src/containers/process/process-container-factory.js';
import type { ProcessContainer } from '../../src/containers/process/process-container.js';
import { buildRuntimeImage, startCluster } from '../support/cluster-processes.js';
import { startStandaloneProcess } from '../support/standalone-process.js';
import { closedLoop, type LoopResult, type Target } from './http-loop.js';
import { median } from './measure.js';

/**
 * `bench invoke`: blocking invokes of a warm no-op action, through
 *   (a) the cluster: `whiskhub controller` + one `whiskhub invoker` over Kafka, CouchDB, Docker;
 *   (b) `whiskhub standalone`, on process containers and (when an engine answers) on Docker;
 *   (c) direct POST /run to a warm container of the same factory and image, with the same code,
 *       measured in the same run, alternating with (a) or (b) round by round.
 * For (c) the bench starts its own container with the platform's factory rather than calling
 * the pool's: /run calls behind the invoker's back would leave end-of-activation sentinels that
 * the invoker's log collector then takes for later activations (making (a) and (b) look faster
 * than they are), and the pool may pause its idle container under a direct caller.
 * Goals (issue 3), at concurrency 1: p50 added over (c) ≤ 3 ms for (a), ≤ 1 ms for (b);
 * at concurrency 32: throughput of (a) ≥ 0.5 × (c). Also: cold start on a stem cell vs warm,
 * a cold start without one, and pause + resume (raw, and as a caller sees it).
 */
const NOOP = 'function main() { return {}; }';
const CONCURRENCY = [1, 32] as const;
/** Warm-up of the platform's path at each concurrency before the measured rounds. */
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP_S ?? 8);

interface Platform {
  label: string;
  apiHost: string;
  auth: string;
  factory: 'docker' | 'process';
  stop(): Promise<void>;
}

interface Options {
  rounds: number;
  seconds: number;
}

type Figures = Record<string, number>;

export async function benchInvoke(opts: Options) {
  const figures: Figures = {};
  const goals: { text: string; met: boolean }[] = [];
  const docker = await dockerAvailable();
  const cluster = docker && process.env.WHISKHUB_KAFKA_BROKERS && process.env.WHISKHUB_COUCHDB_URL;
  if (docker) await buildRuntimeImage();
  const limits = {
    WHISKHUB_LOG_LEVEL: 'warn',
    WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE: '100000000',
    WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS: '10000',
    WHISKHUB_LIMIT_ACTION_MAX_CONCURRENCY: '32',
    WHISKHUB_INVOKER_PREWARM: '1',
  };

  const runs: { key: string; label: string; start: () => Promise<Platform>; goalMs: number }[] = [];
  if (cluster) {
    runs.push({
      key: 'a',
      label: '(a) cluster: controller + invoker over Kafka, CouchDB, Docker',
      goalMs: 3,
      start: async () => {
        const c = await startCluster({ invokers: 1, env: { ...limits, WHISKHUB_LOG_LEVEL: 'info' } });
        return { label: 'cluster', apiHost: c.apiHost, auth: c.auth, factory: 'docker', stop: () => c.stop() };
      },
    });
  } else console.error('bench invoke: no Kafka, CouchDB or Docker in the environment (. .data/services/env): skipping (a)');
  for (const factory of docker ? (['process', 'docker'] as const) : (['process'] as const)) {
    runs.push({
      key: `b-${factory}`,
      label: `(b) standalone, ${factory} containers`,
      goalMs: 1,
      start: async () => {
        const wh = await startStandaloneProcess({ dataDir: mkdtempSync(join(tmpdir(), 'whiskhub-bench-')), env: { ...limits, WHISKHUB_CONTAINER_FACTORY: factory } });
        return { label: `standalone-${factory}`, apiHost: wh.apiHost, auth: wh.guestAuth, factory, stop: async () => void (await wh.stop()) };
      },
    });
  }

  for (const run of runs) {
    console.error(`bench invoke: ${run.label} ...`);
    const p = await run.start();
    const direct = await startDirect(p.factory);
    try {
      await measurePath(p, direct, run.key, opts, figures);
      const c1 = figures[`${run.key} c=1 p50 ms`] - figures[`${run.key} direct c=1 p50 ms`];
      figures[`${run.key} c=1 p50 added over direct ms`] = round(c1);
      goals.push({ text: `${run.label}: p50 added over direct /run at c=1 is ${round(c1)} ms (goal <= ${run.goalMs} ms)`, met: c1 <= run.goalMs });
      const ratio = figures[`${run.key} c=32 req/s`] / figures[`${run.key} direct c=32 req/s`];
      figures[`${run.key} c=32 throughput / direct`] = round(ratio, 3);
      if (run.key === 'a') goals.push({ text: `${run.label}: throughput at c=32 is ${round(ratio, 3)} of direct /run (goal >= 0.5)`, met: ratio >= 0.5 });
      await measureStarts(p, run.key, figures);
    } finally {
      await direct.close();
      await p.stop();
    }
  }
  await measureRawPause(docker, figures);

  console.log('\n## bench invoke: goals');
  for (const g of goals) console.log(`  [${g.met ? 'met' : 'NOT met'}] ${g.text}`);
  return { name: 'invoke', figures: { ...figures, rounds: opts.rounds, 'seconds per measurement': opts.seconds }, met: goals.every((g) => g.met) };
}

/** (a) or (b) against (c), alternating, `rounds` times, at each concurrency; medians. */
async function measurePath(p: Platform, direct: Direct, key: string, opts: Options, figures: Figures): Promise<void> {
  const authHeader = `Basic ${Buffer.from(p.auth).toString('base64')}`;
  await api(p, 'PUT', '/actions/noop?overwrite=true', { exec: { kind: 'nodejs:20', code: NOOP }, limits: { memory: 128, concurrency: 32 } });
  const platform: Target = {
    url: `${p.apiHost}/api/v1/namespaces/_/actions/noop?blocking=true&result=true`,
    headers: { authorization: authHeader },
    body: '{}',
  };
  // Warm both at each concurrency measured: the container, connections, the action and auth
  // caches, and the JIT of every process on the path. The cluster's path (HTTP, two Kafka hops
  // through kafkajs, the invoker) takes thousands of requests of its own kind to reach its
  // steady state: after a warm-up at c=32 only, its first c=1 round still ran about twice as
  // slow as later ones, and so does a bare kafkajs ping-pong for its first thousand messages.
  for (const c of CONCURRENCY) {
    await closedLoop(platform, c, WARM_UP_SECONDS);
    await closedLoop(direct.target, c, 1);
  }
  const samples: Record<string, LoopResult[]> = {};
  for (let r = 0; r < opts.rounds; r++) {
    for (const c of CONCURRENCY) {
      for (const [name, target] of [
        [`${key} c=${c}`, platform],
        [`${key} direct c=${c}`, direct.target],
      ] as const) {
        const res = await closedLoop(target, c, opts.seconds);
        if (res.errors) throw new Error(`${name}: ${res.errors} of ${res.requests} requests failed or did not answer 200`);
        (samples[name] ??= []).push(res);
      }
    }
  }
  for (const [name, list] of Object.entries(samples)) {
    figures[`${name} p50 ms`] = round(median(list.map((x) => x.p50)));
    figures[`${name} p99 ms`] = round(median(list.map((x) => x.p99)));
    figures[`${name} req/s`] = Math.round(median(list.map((x) => x.rps)));
  }
}

/**
 * Cold start on a stem cell (a new action of the stem cell's 256 MB: claimed, /init, /run), a
 * cold start without one (192 MB: the factory creates a container first), warm, and warm after
 * the pool paused the container (it pauses after 500 ms idle), all as a blocking caller sees it.
 */
async function measureStarts(p: Platform, key: string, figures: Figures): Promise<void> {
  const SAMPLES = 5;
  const invoke = async (name: string) => {
    const t0 = performance.now();
    const r = await api(p, 'POST', `/actions/${name}?blocking=true`, {});
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`invoking ${name} answered ${r.status}: ${JSON.stringify(r.body)}`);
    const initTime = (r.body.annotations as { key: string; value: number }[]).find((a) => a.key === 'initTime')?.value;
    return { ms, initTime };
  };
  const tag = randomBytes(3).toString('hex');
  const prewarmed: number[] = [];
  const prewarmedInit: number[] = [];
  const cold: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    await api(p, 'PUT', `/actions/pre-${tag}-${i}`, { exec: { kind: 'nodejs:20', code: NOOP }, limits: { memory: 256 } });
    await api(p, 'PUT', `/actions/cold-${tag}-${i}`, { exec: { kind: 'nodejs:20', code: NOOP }, limits: { memory: 192 } });
    await sleep(1_500); // the stem cell taken by the last sample is replaced by now
    const pre = await invoke(`pre-${tag}-${i}`);
    prewarmed.push(pre.ms);
    if (pre.initTime !== undefined) prewarmedInit.push(pre.initTime);
    cold.push((await invoke(`cold-${tag}-${i}`)).ms);
  }
  const warmName = `pre-${tag}-${SAMPLES - 1}`;
  const warm: number[] = [];
  for (let i = 0; i < 10; i++) warm.push((await invoke(warmName)).ms);
  const paused: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    await sleep(800); // past the 500 ms pause delay
    paused.push((await invoke(warmName)).ms);
  }
  figures[`${key} cold start on a stem cell, blocking invoke ms`] = round(median(prewarmed));
  figures[`${key} cold start on a stem cell, initTime ms`] = round(median(prewarmedInit));
  figures[`${key} cold start without a stem cell ms`] = round(median(cold));
  figures[`${key} warm blocking invoke (full record) ms`] = round(median(warm));
  figures[`${key} warm after a pause (resume + run) ms`] = round(median(paused));
}

/** Pause and resume of one container, straight through each factory. */
async function measureRawPause(docker: boolean, figures: Figures): Promise<void> {
  for (const kind of docker ? (['process', 'docker'] as const) : (['process'] as const)) {
    const d = await startDirect(kind);
    try {
      const pause: number[] = [];
      const resume: number[] = [];
      const firstRun: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now();
        await d.container.pause();
        const t1 = performance.now();
        await d.container.resume();
        const t2 = performance.now();
        const run = await d.container.run({ value: {} }, 10_000);
        const t3 = performance.now();
        if (run.statusCode !== 200) throw new Error(`run after resume answered ${run.statusCode}`);
        pause.push(t1 - t0);
        resume.push(t2 - t1);
        firstRun.push(t3 - t2);
        await sleep(50);
      }
      figures[`${kind} pause ms`] = round(median(pause));
      figures[`${kind} resume ms`] = round(median(resume));
      figures[`${kind} pause + resume ms`] = round(median(pause.map((p, i) => p + resume[i])));
      figures[`${kind} first /run after resume ms`] = round(median(firstRun));
    } finally {
      await d.close();
    }
  }
}

interface Direct {
  container: Container;
  target: Target;
  close(): Promise<void>;
}

/** A warm container made by the factory the platform uses (same image, same code): target (c). */
async function startDirect(kind: 'docker' | 'process'): Promise<Direct> {
  const factory: ContainerFactory =
    kind === 'docker' ? new DockerContainerFactory({ dockerHost: process.env.DOCKER_HOST, network: 'host' }) : new ProcessContainerFactory();
  const container = await factory.create({
    name: `whbench_direct_${randomBytes(4).toString('hex')}`,
    kind: 'nodejs:20',
    memoryMB: 128,
    env: {},
    labels: { whiskhub: 'bench' },
  });
  const close = async () => {
    await container.destroy();
    await factory.close();
  };
  try {
    const init = await container.init({ name: 'noop', main: 'main', code: NOOP, env: {} }, 10_000);
    if (init.statusCode !== 200) throw new Error(`/init answered ${init.statusCode}: ${init.body}`);
    const port = kind === 'docker' ? await dockerProxyPort(factory as DockerContainerFactory, container) : processProxyPort(container as ProcessContainer);
    const body = JSON.stringify({
      value: {},
      namespace: 'guest',
      action_name: '/guest/noop',
      action_version: '0.0.1',
      activation_id: randomBytes(16).toString('hex'),
      transaction_id: 'bench',
      deadline: String(Date.now() + 3_600_000),
    });
    return { container, target: { url: `http://127.0.0.1:${port}/run`, body }, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Host network: the proxy listens on the port the factory passed in __OW_PROXY_PORT. */
async function dockerProxyPort(factory: DockerContainerFactory, c: Container): Promise<number> {
  const info = await factory.docker.getContainer(c.id).inspect();
  const port = info.Config.Env.find((e) => e.startsWith('__OW_PROXY_PORT='))?.split('=')[1];
  if (!port) throw new Error('the container has no __OW_PROXY_PORT (not on the host network?)');
  return Number(port);
}

function processProxyPort(c: ProcessContainer): number {
  const env = readFileSync(`/proc/${c.pid}/environ`, 'utf8').split('\0');
  const port = env.find((e) => e.startsWith('__OW_PROXY_PORT='))?.split('=')[1];
  if (!port) throw new Error('the process container has no __OW_PROXY_PORT');
  return Number(port);
}

async function dockerAvailable(): Promise<boolean> {
  if (!process.env.DOCKER_HOST) return false;
  try {
    const d = new DockerContainerFactory({ dockerHost: process.env.DOCKER_HOST });
    await d.docker.ping();
    await d.close();
    return true;
  } catch {
    return false;
  }
}

async function api(p: Platform, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${p.apiHost}/api/v1/namespaces/_${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(p.auth).toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
