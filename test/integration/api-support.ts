import nano from 'nano';
import { expect } from 'vitest';
import { CouchDbArtifactStore } from '../../src/store/couchdb/couchdb-store.js';
import { couchUrl, http, startController, type HttpResult, type RunningController, type StoreKind } from '../support/controller-harness.js';

export interface CallOptions {
  /** `uuid:key` to send; `false` sends no Authorization header. Defaults to guest's key. */
  auth?: string | false;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * One controller for a whole store kind, shared by the area suites. Each suite reads `running`
 * inside its tests (it is set in the top-level beforeAll) and uses unique names, so suites do not
 * depend on each other's leftovers.
 */
export class ApiSession {
  private controller?: RunningController;
  private counter = 0;
  private readonly prefix = `t${Date.now().toString(36)}`;

  constructor(readonly kind: StoreKind) {}

  async start(env: Record<string, string> = {}): Promise<void> {
    this.controller = await startController(this.kind, env);
  }

  /** Stops the controller; on CouchDB also drops the store's databases, so runs leave nothing behind. */
  async stop(): Promise<void> {
    const running = this.controller;
    if (!running) return;
    await running.close();
    if (running.store instanceof CouchDbArtifactStore) {
      const server = nano(couchUrl());
      await Promise.all(Object.values(running.store.dbNames).map((db) => server.db.destroy(db)));
    }
  }

  get running(): RunningController {
    if (!this.controller) throw new Error('controller not started');
    return this.controller;
  }

  /** A name no other test uses. */
  uniq(stem: string): string {
    return `${stem}-${this.prefix}-${++this.counter}`;
  }

  /** A request under /api/v1, as guest unless told otherwise. */
  call(method: string, path: string, opts: CallOptions = {}): Promise<HttpResult> {
    const { auth, ...rest } = opts;
    const key = auth === false ? undefined : (auth ?? this.running.guest);
    return http(this.running.baseUrl, method, `/api/v1${path}`, { ...rest, auth: key });
  }

  asOther(method: string, path: string, opts: CallOptions = {}): Promise<HttpResult> {
    return this.call(method, path, { ...opts, auth: this.running.other });
  }

  /** PUT an entity and insist on 200: setup steps whose failure should name the request. */
  async put(path: string, body: unknown, auth?: string): Promise<any> {
    const res = await this.call('PUT', path, { body, auth });
    expect(res.status, `PUT ${path}: ${res.text}`).toBe(200);
    return res.body;
  }

  async createAction(ns: string, name: string, extra: Record<string, unknown> = {}, auth?: string): Promise<any> {
    return this.put(`/namespaces/${ns}/actions/${name}`, { exec: nodeExec(), ...extra }, auth);
  }
}

export const CODE = 'function main(a) { return { msg: "hi " + a.name }; }';

export function nodeExec(kind = 'nodejs:20', code = CODE) {
  return { kind, code };
}

/**
 * Every refusal is OpenWhisk's error body: a string `error`, and `code` equal to the response's
 * X-Request-ID (the transaction id). The Go CLI only reads a body as an error when both exist.
 */
export function expectError(res: HttpResult, status: number, message?: string | RegExp): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  expect(typeof res.body?.error, res.text).toBe('string');
  expect(typeof res.body?.code, res.text).toBe('string');
  expect(res.body.code).toBe(res.headers.get('x-request-id'));
  if (typeof message === 'string') expect(res.body.error).toBe(message);
  else if (message) expect(res.body.error).toMatch(message);
}

export function expectOk(res: HttpResult, status = 200): any {
  expect(res.status, res.text).toBe(status);
  return res.body;
}

export const forbiddenText = (resource: string) => `The supplied authentication is not authorized to access '${resource}'.`;
export const NOT_FOUND = 'The requested resource does not exist.';
export const MALFORMED = /^The request content was malformed:\n/;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A key/value array whose JSON is a bit over `bytes` long. */
export function bigParameters(bytes: number) {
  return [{ key: 'big', value: 'x'.repeat(bytes) }];
}

/**
 * Throttles count in fixed wall-clock minutes (as OpenWhisk does); a burst that must land in one
 * window waits out the last seconds of the current one.
 */
export async function awayFromMinuteEdge(neededMs = 2_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < neededMs) await sleep(left + 50);
}

/** Entities compared by recency need distinct `updated` stamps (epoch ms). */
export async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() === now) await sleep(1);
}
