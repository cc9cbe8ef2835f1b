import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import nano from 'nano';
import { DockerContainerFactory } from '../../src/containers/docker/docker-container-factory.js';
import { BIN, freePort, REPO, runCli, runCommand } from './standalone-process.js';

/**
 * A whiskhub cluster of real processes, as an operator runs it: `whiskhub controller` and
 * `whiskhub invoker` (bin/whiskhub.js, built), over the real Kafka, CouchDB and Docker engine
 * that deploy/dev/services-up.sh starts (their addresses from `.data/services/env`).
 *
 * Each cluster is isolated from every other run on the same services by one run id:
 * - Kafka: WHISKHUB_KAFKA_PREFIX=<id>. prefixes every topic and consumer group, so a rerun (or
 *   a concurrent run) never reads another's `health`, `invoker<N>` or `completed<N>`, and
 *   messages left on a killed invoker's topic die with the run; the topics and groups are
 *   deleted at the end.
 * - CouchDB: WHISKHUB_COUCHDB_PREFIX=<id>_; the databases are dropped at the end.
 * - Docker: the invokers label their containers with whiskhub.instance=<id>.invoker<N>; those
 *   left by a killed invoker are removed at the end.
 * Indexes stay 0 (controller) and 0..n-1 (invokers), as in production.
 */
export interface RoleProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export interface Cluster {
  id: string;
  apiHost: string;
  /** `uuid:key` of the namespace made with `whiskhub admin user create`. */
  auth: string;
  namespace: string;
  env: Record<string, string>;
  controller: RoleProcess;
  invokers: RoleProcess[];
  /** Waits until the controller has heard each of these invokers' first ping. */
  waitForInvokers(indexes: number[], timeoutMs?: number): Promise<void>;
  /** SIGKILLs invoker `index` (no goodbye: its consumer, pings and containers just stop). */
  killInvoker(index: number): Promise<void>;
  /** Starts invoker `index` again (after a kill), as a new process with the same settings. */
  restartInvoker(index: number): RoleProcess;
  /** SIGKILLs the controller (no goodbye: accepted fires stay in Redis, completions in Kafka). */
  killController(): Promise<void>;
  /** Starts the controller again on the same port and waits until it listens. */
  restartController(): Promise<RoleProcess>;
  /** Stops every process and removes what the run left: topics, groups, databases, containers. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  invokers: number;
  /** Settings for every role (WHISKHUB_*). */
  env?: Record<string, string>;
  /** Settings for the controller only. */
  controllerEnv?: Record<string, string>;
  namespace?: string;
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the services with deploy/dev/services-up.sh and \`. .data/services/env\``);
  return v;
}

/** Builds the runtime image (a no-op when up to date): the invokers run Docker containers. */
export async function buildRuntimeImage(): Promise<void> {
  const built = await runCommand('bash', ['deploy/runtimes/build-nodejs-image.sh']);
  if (built.code !== 0) throw new Error(`building the runtime image failed:\n${built.stdout}\n${built.stderr}`);
}

function startRole(name: string, role: 'controller' | 'invoker', env: Record<string, string>): RoleProcess {
  return startWhiskhub(name, [role], env);
}

/** Runs `whiskhub <args>` (the built bin) as a process of its own, keeping its output. */
export function startWhiskhub(name: string, args: string[], env: Record<string, string>): RoleProcess {
  const child = spawn(process.execPath, [...(process.env.WHISKHUB_BENCH_NODE_ARGS ? process.env.WHISKHUB_BENCH_NODE_ARGS.split(' ') : []), BIN, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { name, child, output: () => out, exited };
}

/** Pino's JSON lines of a process, parsed (other lines skipped). */
export function logLines(p: RoleProcess): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of p.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line
    }
  }
  return lines;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number, procs: RoleProcess[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}:\n${dead.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${procs.map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopRole(p: RoleProcess, graceMs = 15_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const id = `wh${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const couchUrl = required('WHISKHUB_COUCHDB_URL');
  const brokers = required('WHISKHUB_KAFKA_BROKERS');
  const dockerHost = required('DOCKER_HOST');
  const port = await freePort();
  const namespace = opts.namespace ?? 'guest';
  const env: Record<string, string> = {
    WHISKHUB_STORE: 'couchdb',
    WHISKHUB_COUCHDB_URL: couchUrl,
    WHISKHUB_COUCHDB_PREFIX: `${id}_`,
    WHISKHUB_KAFKA_BROKERS: brokers,
    WHISKHUB_KAFKA_PREFIX: `${id}.`,
    WHISKHUB_CONTAINER_FACTORY: 'docker',
    WHISKHUB_DOCKER_HOST: dockerHost,
    WHISKHUB_DOCKER_NETWORK: 'host',
    WHISKHUB_HOST: '127.0.0.1',
    WHISKHUB_PORT: String(port),
    WHISKHUB_LOG_LEVEL: 'info',
    ...opts.env,
  };
  const cleanup = () => removeLeftovers(id, env, opts.invokers);
  const procs: RoleProcess[] = [];
  try {
    // The namespace first: with CouchDB, `whiskhub admin` writes to the store directly.
    const created = await runCli(['admin', 'user', 'create', `${namespace}-subject`, '-n', namespace], env);
    if (created.code !== 0) throw new Error(`whiskhub admin user create failed:\n${created.stdout}\n${created.stderr}`);
    const auth = created.stdout.trim();

    const controller = startRole('controller0', 'controller', { ...env, ...opts.controllerEnv });
    procs.push(controller);
    await waitFor('the controller to listen', () => controller.output().includes('controller0 on 127.0.0.1:'), 60_000, procs);
    const invokers: RoleProcess[] = [];
    for (let i = 0; i < opts.invokers; i++) {
      const inv = startRole(`invoker${i}`, 'invoker', { ...env, WHISKHUB_INVOKER_INDEX: String(i) });
      invokers.push(inv);
      procs.push(inv);
    }
    const joined = (i: number) => logLines(controller).some((l) => l.msg === 'invoker joined' && l.invoker === i);
    const cluster: Cluster = {
      id,
      apiHost: `http://127.0.0.1:${port}`,
      auth,
      namespace,
      env,
      controller,
      invokers,
      waitForInvokers: (indexes, timeoutMs = 90_000) =>
        waitFor(`invokers ${indexes.join(', ')} to join`, () => indexes.every(joined), timeoutMs, [controller, ...indexes.map((i) => invokers[i])]),
      killInvoker: async (index) => {
        invokers[index].child.kill('SIGKILL');
        await invokers[index].exited;
      },
      restartInvoker: (index) => {
        const inv = startRole(`invoker${index}`, 'invoker', { ...env, WHISKHUB_INVOKER_INDEX: String(index) });
        invokers[index] = inv;
        procs.push(inv);
        return inv;
      },
      killController: async () => {
        cluster.controller.child.kill('SIGKILL');
        await cluster.controller.exited;
      },
      restartController: async () => {
        const next = startRole('controller0', 'controller', { ...env, ...opts.controllerEnv });
        procs.push(next);
        cluster.controller = next;
        await waitFor('the restarted controller to listen', () => next.output().includes('controller0 on 127.0.0.1:'), 60_000, [next]);
        return next;
      },
      stop: async () => {
        await Promise.all(procs.map((p) => stopRole(p)));
        await cleanup();
      },
    };
    await cluster.waitForInvokers(invokers.map((_, i) => i));
    return cluster;
  } catch (err) {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await cleanup().catch(() => undefined);
    throw err;
  }
}

/** Deletes the run's Kafka topics and groups, CouchDB databases and Docker containers. */
async function removeLeftovers(id: string, env: Record<string, string>, invokers: number): Promise<void> {
  const problems: string[] = [];
  const docker = new DockerContainerFactory({ dockerHost: env.WHISKHUB_DOCKER_HOST, network: 'host' });
  for (let i = 0; i < invokers; i++) {
    await docker.cleanup({ 'whiskhub.instance': `${env.WHISKHUB_KAFKA_PREFIX}invoker${i}` }).catch((e: Error) => problems.push(`docker: ${e.message}`));
  }
  await docker.close();

  const couch = nano(env.WHISKHUB_COUCHDB_URL);
  try {
    for (const db of await couch.db.list()) if (db.startsWith(env.WHISKHUB_COUCHDB_PREFIX)) await couch.db.destroy(db);
  } catch (e) {
    problems.push(`couchdb: ${(e as Error).message}`);
  }

  const admin = new Kafka({ clientId: `${id}-cleanup`, brokers: env.WHISKHUB_KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const prefix = env.WHISKHUB_KAFKA_PREFIX;
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics });
    // A SIGKILLed member stays in its group until its session times out (10 s): retry till then.
    let groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    for (const deadline = Date.now() + 15_000; groups.length; ) {
      try {
        await admin.deleteGroups(groups);
        groups = [];
      } catch (e) {
        const failed = (e as { groups?: { groupId: string; errorCode: number; error?: { type?: string } }[] }).groups
          ?.filter((g) => g.errorCode !== 0 && g.error?.type !== 'GROUP_ID_NOT_FOUND')
          .map((g) => g.groupId);
        if (!failed || Date.now() > deadline) throw e;
        groups = failed; // the others are gone
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  } catch (e) {
    const groups = (e as { groups?: { groupId: string; error?: { type?: string } }[] }).groups;
    problems.push(`kafka: ${(e as Error).message}${groups ? ` (${groups.map((g) => `${g.groupId}: ${g.error?.type ?? 'ok'}`).join(', ')})` : ''}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (problems.length) console.warn(`cluster ${id}: cleanup left something behind: ${problems.join('; ')}`);
}
