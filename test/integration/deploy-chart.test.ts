import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config/settings.js';
import {
  CHART,
  COMPOSE_DIR,
  component,
  installTools,
  podSpec,
  REPO,
  renderChart,
  run,
  workloads,
  type EnvEntry,
  type K8sObject,
  type Rendering,
  type Tools,
} from '../deploy/chart-support.js';

/**
 * The Helm chart and the Compose file, checked offline as CI can: helm lint, helm template with
 * the default values, values-ha.yaml and an external-services variant, every rendered object
 * validated against the Kubernetes API schemas (kubeconform, schemas from a PyPI package), the
 * Compose file loaded as `docker compose config` loads it, and per role: probes, resources, the
 * init containers that wait for what the role needs, and the Secrets it reads.
 */
const HA = join(CHART, 'values-ha.yaml');
const EXTERNAL = join(REPO, 'test/deploy/values-external.yaml');

let tools: Tools;
const renders: Record<'default' | 'ha' | 'external', Rendering> = {} as never;

beforeAll(async () => {
  tools = await installTools();
  renders.default = await renderChart(tools);
  renders.ha = await renderChart(tools, ['-f', HA]);
  // The external variant also turns on the providers whose roles are still to come.
  renders.external = await renderChart(tools, ['-f', EXTERNAL, '--set', 'providers.github.enabled=true,providers.slack.enabled=true,providers.kafka.enabled=true']);
}, 20 * 60_000);

describe('helm lint', () => {
  it.each([['default values', []], ['values-ha.yaml', ['-f', HA]], ['the external-services variant', ['-f', EXTERNAL]]])(
    'passes --strict with %s',
    async (_name, args) => {
      const r = await run(tools.helm, ['lint', '--strict', CHART, ...(args as string[])]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    },
  );

  it('fails a render with a malformed key, a missing external URL or a bad invoker kind', async () => {
    for (const set of ['auth.guest=not-a-key', 'couchdb.enabled=false', 'invoker.kind=Deployment', 'whiskhub.settings.NOT_OURS=1']) {
      const r = await run(tools.helm, ['template', 'wh', CHART, '--set', set]);
      expect(r.code, `--set ${set}`).not.toBe(0);
    }
  });
});

describe('every rendered object is valid against the Kubernetes API schemas', () => {
  for (const variant of ['default', 'ha', 'external'] as const) {
    it(`${variant} values`, async () => {
      expect(tools.schemaVersions.length).toBeGreaterThan(0);
      for (const version of tools.schemaVersions) {
        const r = await run(tools.kubeconform, ['-strict', '-summary', '-output', 'json', '-kubernetes-version', version, '-schema-location', tools.schemaLocation, '-'], {
          input: renders[variant].yaml,
        });
        const report = JSON.parse(r.stdout) as { resources?: { name: string; kind: string; status: string; msg: string }[]; summary: Record<string, number> };
        const bad = (report.resources ?? []).filter((x) => x.status !== 'statusValid');
        expect(bad, `Kubernetes ${version}: ${JSON.stringify(bad, null, 2)}`).toEqual([]);
        expect(r.code).toBe(0);
        expect(report.summary.valid).toBe(renders[variant].objects.length);
        expect(report.summary.skipped).toBe(0);
      }
    });
  }

  it('kubeconform does reject an invalid object with these schemas (the check has teeth)', async () => {
    const broken = renders.default.yaml.replace('podManagementPolicy: Parallel', 'podManagementPolicy: Parallel\n  bogusField: 1');
    const r = await run(tools.kubeconform, ['-strict', '-summary', '-kubernetes-version', tools.schemaVersions[0], '-schema-location', tools.schemaLocation, '-'], { input: broken });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/bogusField/);
  });
});

/** What each role must have: its init waits (whiskhub-probe targets) and the Secrets its main container reads. */
const ROLES: Record<string, { waits: (string | RegExp)[]; secrets: string[]; job?: boolean }> = {
  controller: { waits: ['couchdb-ready', 'kafka', 'redis'], secrets: ['WHISKHUB_COUCHDB_URL', 'WHISKHUB_REDIS_URL'] },
  invoker: { waits: ['couchdb-ready', 'kafka', 'docker'], secrets: ['WHISKHUB_COUCHDB_URL'] },
  'provider-alarms': { waits: ['couchdb-ready', 'redis', /-controller\..*:3233\/ping$/], secrets: ['WHISKHUB_COUCHDB_URL', 'WHISKHUB_REDIS_URL'] },
  'provider-github': { waits: ['couchdb-ready', 'redis', /-controller\..*:3233\/ping$/], secrets: ['WHISKHUB_COUCHDB_URL', 'WHISKHUB_REDIS_URL'] },
  'provider-slack': { waits: ['couchdb-ready', 'redis', /-controller\..*:3233\/ping$/], secrets: ['WHISKHUB_COUCHDB_URL', 'WHISKHUB_REDIS_URL'] },
  'provider-kafka': { waits: ['couchdb-ready', 'redis', /-controller\..*:3233\/ping$/], secrets: ['WHISKHUB_COUCHDB_URL', 'WHISKHUB_REDIS_URL'] },
  edge: { waits: [/-controller\..*:3233\/ping$/], secrets: [] },
  catalog: { waits: [/-controller\..*:3233\/ping$/], secrets: ['WHISKHUB_SYSTEM_AUTH'], job: true },
  'couchdb-init': { waits: ['couchdb'], secrets: ['WHISKHUB_COUCHDB_URL', 'WHISKHUB_GUEST_AUTH', 'WHISKHUB_SYSTEM_AUTH'], job: true },
  kafka: { waits: [], secrets: [] },
  couchdb: { waits: [], secrets: ['COUCHDB_USER', 'COUCHDB_PASSWORD', 'COUCHDB_SECRET'] },
  redis: { waits: [], secrets: ['REDISCLI_AUTH'] },
};

function waitTargets(spec: { initContainers?: { command?: string[]; args?: string[] }[] }): string[] {
  return (spec.initContainers ?? []).filter((c) => c.command?.join(' ') === 'whiskhub-probe wait').flatMap((c) => c.args ?? []);
}

function secretRefs(container: { env?: EnvEntry[] }): Record<string, { name: string; key: string }> {
  return Object.fromEntries((container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef!]));
}

describe.each(['default', 'ha', 'external'] as const)('each role, %s values', (variant) => {
  const objects = () => renders[variant].objects;
  const byComponent = () => new Map(workloads(objects()).map((w) => [component(w), w]));

  it('renders every role it should', () => {
    const present = [...byComponent().keys()].sort();
    const bundled = variant === 'external' ? [] : ['couchdb', 'kafka', 'redis'];
    const providers = ['provider-alarms', 'provider-github', 'provider-kafka', 'provider-slack'];
    const edge = variant === 'external' ? [] : ['edge'];
    expect(present).toEqual([...bundled, ...edge, ...providers, 'catalog', 'controller', 'couchdb-init', 'invoker'].sort());
  });

  it('has readiness and liveness probes on every long-running container', () => {
    for (const w of workloads(objects())) {
      if (w.kind === 'Job') continue;
      const spec = podSpec(w);
      const running = [...spec.containers, ...(spec.initContainers ?? []).filter((c: { restartPolicy?: string }) => c.restartPolicy === 'Always')];
      for (const c of running) {
        expect(c.readinessProbe, `${w.metadata.name}/${c.name} readinessProbe`).toBeTruthy();
        expect(c.livenessProbe, `${w.metadata.name}/${c.name} livenessProbe`).toBeTruthy();
      }
    }
  });

  it('requests cpu and memory for every container, init containers included', () => {
    for (const w of workloads(objects())) {
      const spec = podSpec(w);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(c.resources?.requests?.cpu, `${w.metadata.name}/${c.name} cpu request`).toBeTruthy();
        expect(c.resources?.requests?.memory, `${w.metadata.name}/${c.name} memory request`).toBeTruthy();
        expect(c.resources?.limits?.memory, `${w.metadata.name}/${c.name} memory limit`).toBeTruthy();
      }
    }
  });

  it('waits in init containers for what each role needs, with the settings those waits read', () => {
    for (const [role, want] of Object.entries(ROLES)) {
      const w = byComponent().get(role);
      if (!w) continue;
      const spec = podSpec(w);
      const targets = waitTargets(spec);
      for (const t of want.waits) {
        expect(
          targets.some((x) => (typeof t === 'string' ? x === t : t.test(x))),
          `${role} waits for ${t} (has ${targets.join(', ')})`,
        ).toBe(true);
      }
      for (const c of (spec.initContainers ?? []).filter((i: { command?: string[] }) => i.command?.[0] === 'whiskhub-probe')) {
        const refs = secretRefs(c);
        const args: string[] = c.args ?? [];
        if (args.some((a) => a.startsWith('couchdb'))) expect(refs.WHISKHUB_COUCHDB_URL, `${role}/${c.name}: CouchDB URL`).toBeTruthy();
        if (args.includes('redis')) expect(refs.WHISKHUB_REDIS_URL, `${role}/${c.name}: Redis URL`).toBeTruthy();
        if (args.includes('kafka')) expect(c.envFrom?.[0]?.configMapRef?.name, `${role}/${c.name}: settings (Kafka brokers)`).toMatch(/-settings$/);
      }
    }
    // Invokers never pull by themselves: an init container puts the runtime images in the engine.
    const invoker = podSpec(byComponent().get('invoker')!);
    expect(invoker.initContainers.map((c: { command?: string[] }) => c.command?.join(' '))).toContain('whiskhub-probe pull');
  });

  it('gives each role the Secrets it needs, and the Secrets exist with those keys', () => {
    const secrets = new Map(objects().filter((o) => o.kind === 'Secret').map((s) => [s.metadata.name, s]));
    const external = new Set(variant === 'external' ? ['my-couchdb'] : []);
    for (const [role, want] of Object.entries(ROLES)) {
      const w = byComponent().get(role);
      if (!w) continue;
      const main = podSpec(w).containers[0];
      const refs = secretRefs(main);
      for (const name of want.secrets) expect(refs[name], `${role} reads ${name} from a Secret`).toBeTruthy();
    }
    for (const w of workloads(objects())) {
      const spec = podSpec(w);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        for (const [env, ref] of Object.entries(secretRefs(c))) {
          if (external.has(ref.name)) continue;
          const s = secrets.get(ref.name);
          expect(s, `${w.metadata.name}/${c.name} ${env}: Secret ${ref.name} is rendered`).toBeTruthy();
          expect(Object.keys(s!.data ?? {}), `${w.metadata.name}/${c.name} ${env}: key ${ref.key}`).toContain(ref.key);
        }
      }
      for (const v of spec.volumes ?? []) {
        if (v.secret) expect(secrets.has(v.secret.secretName), `${w.metadata.name}: volume Secret ${v.secret.secretName}`).toBe(true);
        if (v.configMap) expect(objects().some((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap.name), `${w.metadata.name}: ConfigMap ${v.configMap.name}`).toBe(true);
      }
    }
    if (variant !== 'external') {
      const edge = podSpec(byComponent().get('edge')!);
      expect(edge.volumes.find((v: { name: string }) => v.name === 'tls').secret.secretName).toMatch(/-edge-tls$/);
      expect(secrets.get(edge.volumes.find((v: { name: string }) => v.name === 'tls').secret.secretName)?.type).toBe('kubernetes.io/tls');
    }
  });

  it('numbers controllers and invokers from their pod index or node', () => {
    const env = (role: string) => podSpec(byComponent().get(role)!).containers[0].env as EnvEntry[];
    expect(env('controller').find((e) => e.name === 'WHISKHUB_CONTROLLER_INDEX')?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.labels['apps.kubernetes.io/pod-index']");
    const invoker = byComponent().get('invoker')!;
    if (invoker.kind === 'StatefulSet') {
      expect(env('invoker').find((e) => e.name === 'WHISKHUB_INVOKER_INDEX')?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.labels['apps.kubernetes.io/pod-index']");
    } else {
      expect(env('invoker').find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      expect(podSpec(invoker).containers[0].args[0]).toContain('WHISKHUB_INVOKER_INDEX=');
    }
    expect(env('invoker').find((e) => e.name === 'WHISKHUB_DOCKER_NETWORK')?.value).toBe('bridge');
  });
});

describe('chart specifics', () => {
  it('runs two alarms providers by default, and one catalog and one CouchDB init Job per revision', () => {
    const w = workloads(renders.default.objects);
    expect(w.find((o) => component(o) === 'provider-alarms')?.spec.replicas).toBe(2);
    expect(w.find((o) => component(o) === 'catalog')?.metadata.name).toMatch(/-catalog-r1$/);
    expect(w.find((o) => component(o) === 'couchdb-init')?.metadata.name).toMatch(/-couchdb-init-r1$/);
    const catalog = w.find((o) => component(o) === 'catalog')!;
    expect(catalog.spec.backoffLimit).toBeGreaterThan(0);
    expect(podSpec(catalog).containers[0].args).toEqual(['catalog', 'install']);
  });

  it('runs every provider, tells GitHub and Slack to deliver to the edge, and the edge routes their hooks to them', () => {
    const objs = renders.default.objects;
    const w = workloads(objs);
    expect(w.find((o) => component(o) === 'provider-kafka')?.spec.replicas).toBe(2);
    for (const name of ['alarms', 'github', 'slack', 'kafka']) {
      const env = podSpec(w.find((o) => component(o) === `provider-${name}`)!).containers[0].env as EnvEntry[];
      expect(env.find((e) => e.name === 'WHISKHUB_PUBLIC_URL')?.value, name).toMatch(/^https?:\/\//);
    }
    const edgeConf = objs
      .filter((o) => o.kind === 'ConfigMap' && component(o) === 'edge')
      .map((o) => Object.values(o.data as Record<string, string>).join('\n'))
      .join('\n');
    for (const name of ['github', 'slack']) expect(edgeConf, `edge route of ${name}`).toMatch(new RegExp(`location /hooks/v1/${name}/ \\{\\s*proxy_pass http://provider-${name};`));
    expect(edgeConf).toContain('location /feeds/v1/kafka/');
  });

  it('HA values: required role placement, spread replicas, disruption budgets, a 3-node Kafka quorum', () => {
    const objs = renders.ha.objects;
    for (const w of workloads(objs)) {
      const terms = podSpec(w).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      expect(terms?.[0]?.matchExpressions?.[0]?.key, `${w.metadata.name} placed by role`).toBe('whiskhub-role');
    }
    const pdbs = objs.filter((o) => o.kind === 'PodDisruptionBudget').map(component).sort();
    expect(pdbs).toEqual(['controller', 'edge', 'kafka', 'provider-alarms', 'provider-github', 'provider-kafka', 'provider-slack']);
    const kafka = workloads(objs).find((o) => component(o) === 'kafka')!;
    expect(kafka.spec.replicas).toBe(3);
    const voters = podSpec(kafka).containers[0].env.find((e: EnvEntry) => e.name === 'KAFKA_CONTROLLER_QUORUM_VOTERS').value as string;
    expect(voters.split(',')).toHaveLength(3);
    expect(workloads(objs).find((o) => component(o) === 'invoker')?.kind).toBe('DaemonSet');
  });

  it('keeps generated keys in the documented format', () => {
    const auth = renders.default.objects.find((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-auth'))!;
    for (const k of ['guest', 'system']) {
      expect(Buffer.from(auth.data[k], 'base64').toString()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[A-Za-z0-9]{64}$/);
    }
  });

  it('sets only WHISKHUB_* variables that whiskhub reads (the settings table)', () => {
    const known = new Set<string>(SETTINGS.map((s) => s.env));
    const used = new Set<string>();
    for (const r of Object.values(renders)) for (const m of r.yaml.matchAll(/\b(WHISKHUB_[A-Z0-9_]+)\b/g)) used.add(m[1]);
    for (const m of readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8').matchAll(/^\s+(WHISKHUB_[A-Z0-9_]+):/gm)) used.add(m[1]);
    // Deployment-only names: interpolation variables of the Compose .env, the probe's own, and the image's.
    const deploymentOnly = new Set(['WHISKHUB_VERSION', 'WHISKHUB_HTTPS_PORT', 'WHISKHUB_HTTP_PORT', 'WHISKHUB_BRIDGE_GATEWAY', 'WHISKHUB_KAFKA_PORT', 'WHISKHUB_COUCHDB_PORT']);
    const unknown = [...used].filter((n) => !known.has(n) && !deploymentOnly.has(n));
    expect(unknown).toEqual([]);
  });

  it('documents every value in values.yaml (a comment right above each key)', () => {
    // Keys inside these YAML block values (probes, resources, security contexts) are Kubernetes
    // fields: the comment above the block documents them.
    const blocks = new Set(['resources', 'readinessProbe', 'livenessProbe', 'podSecurityContext', 'securityContext', 'initResources']);
    const lines = readFileSync(join(CHART, 'values.yaml'), 'utf8').split('\n');
    const ancestors: { indent: number; key: string }[] = [];
    const undocumented: string[] = [];
    lines.forEach((line, i) => {
      const m = /^(\s*)([A-Za-z][\w.-]*):/.exec(line);
      if (!m) return;
      const indent = m[1].length;
      while (ancestors.length && ancestors[ancestors.length - 1].indent >= indent) ancestors.pop();
      const inBlock = ancestors.some((a) => blocks.has(a.key));
      ancestors.push({ indent, key: m[2] });
      if (inBlock) return;
      if (!(lines[i - 1] ?? '').trim().startsWith('#')) undocumented.push(`${i + 1}: ${line.trim()}`);
    });
    expect(undocumented).toEqual([]);
  });
});

describe('Docker Compose', () => {
  const file = join(COMPOSE_DIR, 'compose.yaml');
  const envFile = join(COMPOSE_DIR, '.env.example');

  it('loads as `docker compose config` loads it (schema, interpolation, references), with the example .env', async () => {
    const r = await run(tools.composeConfig, ['--env-file', envFile, file]);
    expect(r.code, r.stderr).toBe(0);
    const model = JSON.parse((await run(tools.yaml2json, [], { input: r.stdout })).stdout)[0] as { services: Record<string, any> };
    expect(Object.keys(model.services).sort()).toEqual(
      ['action-runtime', 'catalog', 'controller', 'couchdb', 'couchdb-init', 'edge', 'invoker', 'kafka', 'provider-alarms', 'provider-github', 'provider-kafka', 'provider-slack', 'redis'].sort(),
    );
    const s = model.services;
    for (const name of ['couchdb', 'kafka', 'redis', 'controller', 'invoker', 'provider-alarms', 'provider-github', 'provider-slack', 'provider-kafka', 'edge']) {
      expect(s[name].healthcheck?.test, `${name} healthcheck`).toBeTruthy();
    }
    // GitHub and Slack are told where they deliver: the edge, which routes /hooks/v1/NAME/ to them.
    for (const name of ['provider-github', 'provider-slack']) expect(s[name].environment.WHISKHUB_PUBLIC_URL, name).toMatch(/^https?:\/\//);
    expect(s['provider-kafka'].deploy.replicas).toBe(2);
    expect(s.controller.depends_on['couchdb-init'].condition).toBe('service_completed_successfully');
    expect(s.invoker.depends_on['action-runtime'].condition).toBe('service_completed_successfully');
    expect(s.invoker.network_mode).toBe('host');
    expect(s.invoker.environment.WHISKHUB_DOCKER_NETWORK).toBe('bridge');
    expect(s['provider-alarms'].deploy.replicas).toBe(2);
    expect(s.catalog.command).toEqual(['catalog', 'install']);
    // The Compose file runs the chart's own CouchDB init script.
    expect(s['couchdb-init'].volumes[0].source).toBe(join(CHART, 'files/init-couchdb.sh'));

  });

  it('refuses to start without the secrets of .env', async () => {
    const r = await run(tools.composeConfig, ['--quiet', file], { env: { PATH: process.env.PATH }, cwd: '/' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('set COUCHDB_PASSWORD in .env');
  });

});
