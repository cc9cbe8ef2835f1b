import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support/standalone-process.js';

export { REPO };

/**
 * What the deploy tests share: the offline tools (deploy/k8s-tools/install.sh), `helm template`
 * parsed into objects, and readers of the rendered pods.
 */
export const CHART = join(REPO, 'deploy/helm/whiskhub');
export const COMPOSE_DIR = join(REPO, 'deploy/compose');

export interface Tools {
  helm: string;
  kubeconform: string;
  schemaLocation: string;
  schemaVersions: string[];
  composeConfig: string;
  yaml2json: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion with exactly the given environment (runCommand of
 * test/support merges in this process's; a Job's container gets only its own) and optional stdin.
 */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      cmd,
      args,
      { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Runs the idempotent installer (minutes the first time, well under a second after) and reads its env file. */
export async function installTools(): Promise<Tools> {
  const r = await run('bash', ['deploy/k8s-tools/install.sh'], { timeoutMs: 20 * 60_000 });
  if (r.code !== 0) throw new Error(`deploy/k8s-tools/install.sh failed (${r.code}):\n${r.stderr}`);
  const vars: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  return {
    helm: vars.WHISKHUB_HELM,
    kubeconform: vars.WHISKHUB_KUBECONFORM,
    schemaLocation: vars.WHISKHUB_K8S_SCHEMA_LOCATION,
    schemaVersions: vars.WHISKHUB_K8S_SCHEMA_VERSIONS.split(' ').filter(Boolean),
    composeConfig: vars.WHISKHUB_COMPOSE_CONFIG,
    yaml2json: vars.WHISKHUB_YAML2JSON,
  };
}

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: any };

export interface Rendering {
  yaml: string;
  objects: K8sObject[];
}

/** `helm template` with the given extra arguments (values files, --set), as YAML and as objects. */
export async function renderChart(tools: Tools, args: string[] = [], release = 'wh', namespace = 'whiskhub'): Promise<Rendering> {
  const r = await run(tools.helm, ['template', release, CHART, '--namespace', namespace, ...args]);
  if (r.code !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${r.stderr}`);
  const j = await run(tools.yaml2json, [], { input: r.stdout });
  if (j.code !== 0) throw new Error(`yaml2json failed:\n${j.stderr}`);
  return { yaml: r.stdout, objects: JSON.parse(j.stdout) as K8sObject[] };
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];

export function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
}

export function component(o: K8sObject): string {
  return o.metadata.labels?.['app.kubernetes.io/component'] ?? o.metadata.name;
}

export function podSpec(o: K8sObject): any {
  return o.spec.template.spec;
}

export interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

/**
 * The environment a container of a rendered pod sees: its envFrom ConfigMaps, then its env, with
 * secretKeyRef and configMapKeyRef read from the rendered objects and $(VAR) expanded, as the
 * kubelet does. Values the rendering does not hold (fieldRef, Secrets it does not create) are left out.
 */
export function containerEnv(objects: K8sObject[], container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const cm = from.configMapRef ? find(objects, 'ConfigMap', from.configMapRef.name) : undefined;
    if (cm) Object.assign(env, cm.data);
  }
  for (const e of (container.env ?? []) as EnvEntry[]) {
    if (e.value !== undefined) env[e.name] = e.value.replace(/\$\((\w+)\)/g, (m, v: string) => env[v] ?? m);
    const s = e.valueFrom?.secretKeyRef;
    if (s) {
      const secret = find(objects, 'Secret', s.name);
      const data = secret?.data?.[s.key];
      if (data !== undefined) env[e.name] = Buffer.from(data as string, 'base64').toString('utf8');
    }
    const c = e.valueFrom?.configMapKeyRef;
    if (c) {
      const v = find(objects, 'ConfigMap', c.name)?.data?.[c.key];
      if (v !== undefined) env[e.name] = v;
    }
  }
  return env;
}
