import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../support/cluster-processes.js';
import { containerEnv, find, installTools, podSpec, renderChart, REPO, run, workloads, component, type K8sObject, type Tools } from '../deploy/chart-support.js';

/**
 * The chart's two Jobs, run exactly as Kubernetes runs them (the rendered command, args and
 * environment: the settings ConfigMap, the values of the rendered Secrets) against a live
 * whiskhub cluster (`whiskhub controller` over the real CouchDB, Kafka and Redis that
 * deploy/dev/services-up.sh starts). Only what names the cluster's own services is pointed at the
 * live ones: the CouchDB URL and prefix, and the controller's address.
 *
 * - CouchDB init Job: first run writes the guest and whisk.system subjects, a second changes
 *   nothing, a key rotated in the Secret replaces just that subject.
 * - Catalog Job: first install creates the packages, a second rewrites nothing, and an upgrade
 *   where one action differs rewrites exactly that action.
 */
let tools: Tools;
let cluster: Cluster;
let shims: string;

/** `whiskhub` and `whiskhub-probe` on PATH, as the image installs them. */
function makeShims(): string {
  const dir = mkdtempSync(join(tmpdir(), 'whiskhub-shims-'));
  symlinkSync(join(REPO, 'bin/whiskhub.js'), join(dir, 'whiskhub'));
  symlinkSync(join(REPO, 'deploy/docker/whiskhub/probe.mjs'), join(dir, 'whiskhub-probe'));
  chmodSync(join(REPO, 'deploy/docker/whiskhub/probe.mjs'), 0o755);
  return dir;
}

function job(objects: K8sObject[], name: string): K8sObject {
  const j = workloads(objects).find((w) => w.kind === 'Job' && component(w) === name);
  if (!j) throw new Error(`no ${name} Job rendered`);
  return j;
}

/** The environment of the Job's main container, with the cluster's own addresses pointed at the live services. */
function jobEnv(objects: K8sObject[], j: K8sObject, overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env = containerEnv(objects, podSpec(j).containers[0]);
  return { PATH: `${shims}:${process.env.PATH}`, HOME: process.env.HOME, ...env, ...overrides };
}

beforeAll(async () => {
  tools = await installTools();
  shims = makeShims();
  // The namespace the harness creates must not be guest: the init Job owns guest here.
  cluster = await startCluster({ invokers: 0, namespace: 'deployjobs' });
}, 20 * 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (shims) rmSync(shims, { recursive: true, force: true });
});

describe('the CouchDB init Job, as Kubernetes runs it', () => {
  // helm template cannot read the cluster, so a generated key would differ at every render
  // (an upgrade keeps it by reading it back): fix both keys.
  const system = '11111111-2222-4333-8444-777777777777:' + 'w'.repeat(64);
  async function runInit(extraArgs: string[] = []) {
    const r = await renderChart(tools, ['--set', `auth.system=${system}`, ...extraArgs]);
    const j = job(r.objects, 'couchdb-init');
    const c = podSpec(j).containers[0];
    expect(c.command).toEqual(['/bin/sh', '/scripts/init-couchdb.sh']);
    const scriptsVolume = podSpec(j).volumes.find((v: { name: string }) => v.name === 'scripts');
    const script = find(r.objects, 'ConfigMap', scriptsVolume.configMap.name)!.data['init-couchdb.sh'] as string;
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-init-'));
    writeFileSync(join(dir, 'init-couchdb.sh'), script);
    const env = jobEnv(r.objects, j, { WHISKHUB_COUCHDB_URL: cluster.env.WHISKHUB_COUCHDB_URL, WHISKHUB_COUCHDB_PREFIX: cluster.env.WHISKHUB_COUCHDB_PREFIX });
    const out = await run(c.command[0], [join(dir, 'init-couchdb.sh')], { env });
    rmSync(dir, { recursive: true, force: true });
    return { ...out, env, objects: r.objects };
  }

  const adminGet = (env: NodeJS.ProcessEnv, subject: string) => run(process.execPath, [join(REPO, 'bin/whiskhub.js'), 'admin', 'user', 'get', subject], { env });

  it('writes the subjects once, then leaves them alone, and replaces a rotated key', async () => {
    const guest = '11111111-2222-4333-8444-555555555555:' + 'g'.repeat(64);
    const first = await runInit(['--set', `auth.guest=${guest}`]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('subject guest, namespace guest: written');
    expect(first.stdout).toContain('subject whisk.system, namespace whisk.system: written');
    // Keys never reach the log.
    expect(first.stdout + first.stderr).not.toContain(guest);
    expect(first.stdout + first.stderr).not.toContain(first.env.WHISKHUB_SYSTEM_AUTH!);
    expect((await adminGet(first.env, 'guest')).stdout.trim()).toBe(guest);

    const again = await runInit(['--set', `auth.guest=${guest}`]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('subject guest, namespace guest: up to date');
    expect(again.stdout).not.toContain('written');

    const rotated = '11111111-2222-4333-8444-666666666666:' + 'r'.repeat(64);
    const third = await runInit(['--set', `auth.guest=${rotated}`]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain('subject guest, namespace guest: written');
    expect(third.stdout).toContain('subject whisk.system, namespace whisk.system: up to date');
    expect((await adminGet(third.env, 'guest')).stdout.trim()).toBe(rotated);
  });
});

describe('the catalog Job, as Kubernetes runs it', () => {
  const system = '99999999-2222-4333-8444-555555555555:' + 's'.repeat(64);
  let objects: K8sObject[];
  let env: NodeJS.ProcessEnv;
  let args: string[];

  beforeAll(async () => {
    objects = (await renderChart(tools, ['--set', `auth.system=${system}`])).objects;
    const j = job(objects, 'catalog');
    // The image's entrypoint is `node bin/whiskhub.js`; the Job gives the arguments.
    args = [join(REPO, 'bin/whiskhub.js'), ...podSpec(j).containers[0].args];
    env = jobEnv(objects, j, { WHISKHUB_API_HOST: cluster.apiHost });
    // The whisk.system subject comes from the init Job, as in the cluster.
    const init = job(objects, 'couchdb-init');
    const initEnv = jobEnv(objects, init, { WHISKHUB_COUCHDB_URL: cluster.env.WHISKHUB_COUCHDB_URL, WHISKHUB_COUCHDB_PREFIX: cluster.env.WHISKHUB_COUCHDB_PREFIX });
    const script = find(objects, 'ConfigMap', podSpec(init).volumes.find((v: { name: string }) => v.name === 'scripts').configMap.name)!.data['init-couchdb.sh'];
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-init-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'init.sh'), script);
    const r = await run('/bin/sh', [join(dir, 'init.sh')], { env: initEnv });
    rmSync(dir, { recursive: true, force: true });
    if (r.code !== 0) throw new Error(`init Job failed:\n${r.stdout}\n${r.stderr}`);
  }, 120_000);

  const install = () => run(process.execPath, args, { env });
  const summary = (out: string) => {
    const m = /catalog: done \((\d+) created, (\d+) updated, (\d+) unchanged\)/.exec(out);
    if (!m) throw new Error(`no summary line in:\n${out}`);
    return { created: Number(m[1]), updated: Number(m[2]), unchanged: Number(m[3]) };
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cluster.apiHost}/api/v1/namespaces/whisk.system${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(system).toString('base64')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('first install creates the packages, the second rewrites nothing, an upgrade rewrites just the changed action', async () => {
    expect(args.slice(1)).toEqual(['catalog', 'install']);
    expect(env.WHISKHUB_SYSTEM_AUTH).toBe(system);

    const first = await install();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const s1 = summary(first.stdout);
    expect(s1.created).toBeGreaterThan(0);
    expect(s1.updated).toBe(0);
    const actions = (await api('GET', '/actions?limit=200')).body as unknown as { name: string; namespace: string; version: string }[];
    expect(actions.length).toBeGreaterThan(0);
    const versions = Object.fromEntries(actions.map((a) => [`${a.namespace}/${a.name}`, a.version]));

    const second = await install();
    expect(second.code, second.stderr).toBe(0);
    expect(summary(second.stdout)).toEqual({ created: 0, updated: 0, unchanged: s1.created + s1.unchanged });
    const after = (await api('GET', '/actions?limit=200')).body as unknown as { name: string; namespace: string; version: string }[];
    expect(Object.fromEntries(after.map((a) => [`${a.namespace}/${a.name}`, a.version]))).toEqual(versions);

    // An upgrade whose catalog differs in one action: make the installed action differ from the
    // catalog the image carries, then run the Job again.
    const target = actions[0];
    const path = `/actions/${target.namespace.split('/').slice(1).join('/')}/${target.name}`.replace('//', '/');
    const current = await api('GET', path);
    expect(current.status).toBe(200);
    const changed = await api('PUT', `${path}?overwrite=true`, { exec: { ...current.body.exec, code: `${current.body.exec.code}\n// changed` } });
    expect(changed.status).toBe(200);

    const upgrade = await install();
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect(summary(upgrade.stdout)).toEqual({ created: 0, updated: 1, unchanged: s1.created + s1.unchanged - 1 });
    expect(upgrade.stdout).toMatch(new RegExp(`/${target.namespace}/${target.name} updated`));
    const restored = await api('GET', path);
    expect(restored.body.exec.code).toBe(current.body.exec.code);
  });
});
