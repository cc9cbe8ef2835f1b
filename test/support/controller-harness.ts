import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { AdminService, authString } from '../../src/admin/admin-service.js';
import { buildController } from '../../src/cli/build-controller.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';
import { createCouchDbStore } from '../../src/store/couchdb/couchdb-store.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';

export type StoreKind = 'embedded' | 'couchdb';

export interface RunningController {
  baseUrl: string;
  store: ArtifactStore;
  /** Keys of two namespaces owned by different subjects: `guest` and `other`. */
  guest: string;
  other: string;
  close(): Promise<void>;
}

export function couchUrl(): string {
  const url = process.env.WHISKHUB_COUCHDB_URL;
  if (!url) throw new Error('WHISKHUB_COUCHDB_URL is not set: start the services with deploy/dev/services-up.sh (npm test does this)');
  return url;
}

export async function openTestStore(kind: StoreKind): Promise<ArtifactStore> {
  if (kind === 'embedded') return createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-api-')));
  const prefix = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}_`;
  const store = createCouchDbStore({ url: couchUrl(), dbPrefix: prefix });
  await store.init();
  return store;
}

/** A controller on a random loopback port over a fresh store, with two namespaces (its log to `logTo`, else stdout). */
export async function startController(kind: StoreKind, env: Record<string, string> = {}, logTo?: DestinationStream): Promise<RunningController> {
  const store = await openTestStore(kind);
  const config = loadConfig({ WHISKHUB_LOG_LEVEL: 'silent', WHISKHUB_AUTH_CACHE_MS: '0', ...env }, 'standalone');
  const { app } = await buildController(config, store, createLogger(config.logLevel, 'test', logTo));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const admin = new AdminService(store);
  const guest = authString(await admin.createUser('guest-subject', { namespace: 'guest' }));
  const other = authString(await admin.createUser('other-subject', { namespace: 'other' }));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    store,
    guest,
    other,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** A small fetch wrapper: JSON in, parsed JSON (or text) out. */
export async function http(
  base: string,
  method: string,
  path: string,
  opts: { auth?: string; body?: unknown; rawBody?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
