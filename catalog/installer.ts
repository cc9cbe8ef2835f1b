import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleAction } from './bundle.js';
import type { CatalogAction, CatalogPackage, KeyValue } from './manifest.js';

/** Where packages/ lives: up from this file (it also runs compiled, from dist/catalog/). */
export function findPackagesRoot(from = fileURLToPath(new URL('.', import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'packages', 'feed-action.js'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the packages/ folder of the system actions');
    dir = up;
  }
  return dir;
}

export interface InstallOptions {
  apiHost: string;
  /** The `whisk.system` key. */
  authKey: string;
  packages: CatalogPackage[];
  /** The folder holding packages/ (default: found from this file). */
  root?: string;
  /** One line per step. */
  report?: (line: string) => void;
  namespace?: string;
}

export type Change = 'created' | 'updated' | 'unchanged';

export interface InstallSummary {
  created: number;
  updated: number;
  unchanged: number;
  entities: { name: string; change: Change }[];
}

export class CatalogError extends Error {
  override name = 'CatalogError';
}

const canonical = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
const sameList = (a: KeyValue[] = [], b: KeyValue[] = []) => canonical([...a].sort((x, y) => x.key.localeCompare(y.key))) === canonical([...b].sort((x, y) => x.key.localeCompare(y.key)));
/** Every wanted annotation has its value (the server adds some of its own, e.g. `exec`). */
const hasAll = (have: KeyValue[] = [], want: KeyValue[]) => want.every((w) => have.some((h) => h.key === w.key && canonical(h.value) === canonical(w.value)));

/**
 * Installs the system packages through the REST API with the whisk.system key, idempotently:
 * each package and action is read first and written only when it differs from the manifest
 * (code, kind, parameters, annotations, limits, publish), so running it again changes nothing.
 * Actions of a managed package that the manifest no longer lists are deleted.
 */
export async function installCatalog(o: InstallOptions): Promise<InstallSummary> {
  const ns = o.namespace ?? 'whisk.system';
  const root = o.root ?? findPackagesRoot();
  const report = o.report ?? (() => undefined);
  const auth = `Basic ${Buffer.from(o.authKey).toString('base64')}`;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${o.apiHost.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(ns)}${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok && !(method === 'GET' && res.status === 404)) {
      throw new CatalogError(`${method} ${path}: ${res.status} ${json?.error ?? text.slice(0, 200)}`);
    }
    return { status: res.status, body: json };
  };

  // The key must be the namespace's own: reading published packages with another key would "succeed".
  const who = await fetch(`${o.apiHost.replace(/\/+$/, '')}/api/v1/namespaces`, { headers: { authorization: auth } });
  const owned = who.ok ? ((await who.json()) as unknown[]) : [];
  if (!owned.includes(ns)) throw new CatalogError(`the key given is not the ${ns} namespace's (${who.status === 401 ? 'refused' : `it is for ${owned.join(', ') || 'nothing'}`})`);
  report(`catalog: installing ${o.packages.map((p) => p.name).join(', ')} into /${ns}`);

  const summary: InstallSummary = { created: 0, updated: 0, unchanged: 0, entities: [] };
  const note = (name: string, change: Change) => {
    summary[change]++;
    summary.entities.push({ name, change });
    report(`catalog: /${ns}/${name} ${change}`);
  };

  for (const pkg of o.packages) {
    const current = await api('GET', `/packages/${pkg.name}`);
    const want = { publish: pkg.publish, parameters: pkg.parameters, annotations: pkg.annotations };
    if (current.status === 404) {
      await api('PUT', `/packages/${pkg.name}?overwrite=false`, want);
      note(pkg.name, 'created');
    } else if (current.body.publish !== pkg.publish || !sameList(current.body.parameters, pkg.parameters) || !sameList(current.body.annotations, pkg.annotations)) {
      await api('PUT', `/packages/${pkg.name}?overwrite=true`, want);
      note(pkg.name, 'updated');
    } else note(pkg.name, 'unchanged');

    for (const action of pkg.actions) await installAction(pkg, action);
    const listed = await api('GET', `/actions/${pkg.name}/?limit=200`).catch(() => undefined);
    const names = new Set(pkg.actions.map((a) => a.name));
    for (const a of Array.isArray(listed?.body) ? (listed.body as { name: string; namespace: string }[]) : []) {
      if (a.namespace === `${ns}/${pkg.name}` && !names.has(a.name)) {
        await api('DELETE', `/actions/${pkg.name}/${a.name}`);
        report(`catalog: /${ns}/${pkg.name}/${a.name} deleted (no longer in the catalog)`);
      }
    }
  }
  report(`catalog: done (${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged)`);
  return summary;

  async function installAction(pkg: CatalogPackage, a: CatalogAction): Promise<void> {
    const code = a.bundle?.length ? bundleAction(join(root, a.file), a.bundle) : readFileSync(join(root, a.file), 'utf8');
    const path = `/actions/${pkg.name}/${a.name}`;
    const current = await api('GET', `${path}?code=true`);
    const want = { exec: { kind: a.kind, code }, parameters: a.parameters, annotations: a.annotations, limits: a.limits ?? {} };
    const name = `${pkg.name}/${a.name}`;
    if (current.status === 404) {
      await api('PUT', `${path}?overwrite=false`, want);
      return note(name, 'created');
    }
    const c = current.body;
    const limitsSame = Object.entries(a.limits ?? {}).every(([k, v]) => c.limits?.[k] === v);
    const wantKeys = new Set([...a.annotations.map((x) => x.key), 'exec', 'provide-api-key']);
    const stale = (c.annotations as KeyValue[] | undefined)?.filter((x) => !wantKeys.has(x.key)).map((x) => x.key) ?? [];
    if (c.exec?.kind === a.kind && c.exec?.code === code && sameList(c.parameters, a.parameters) && hasAll(c.annotations, a.annotations) && !stale.length && limitsSame) {
      return note(name, 'unchanged');
    }
    await api('PUT', `${path}?overwrite=true`, { ...want, ...(stale.length ? { delAnnotations: stale } : {}) });
    note(name, 'updated');
  }
}
