import { withLargeJsonText } from '../../src/entities/json-text.js';
import { jsonOf, KeepAliveClient } from '../../src/http/keep-alive-client.js';

/**
 * What a provider needs from the OpenWhisk REST API, with the trigger owner's key: check a
 * trigger (the only authorization a feed request gets), fire it, and clean up after a one-shot
 * alarm. Providers use the public REST API on purpose, so they serve a stock OpenWhisk as well.
 */
export interface FireAnswer {
  /** HTTP status, or 0 when the controller could not be reached. */
  status: number;
  activationId?: string;
  /** Retry-After of a 429/503, in ms. */
  retryAfterMs?: number;
  error?: string;
}

export interface TriggerInfo {
  status: number;
  /** The trigger document on 200. */
  body?: { name?: string; namespace?: string; rules?: Record<string, unknown>; annotations?: { key: string; value: unknown }[] };
  error?: string;
}

export interface ControllerClient {
  getTrigger(namespace: string, name: string, authKey: string): Promise<TriggerInfo>;
  /** The namespace a key belongs to (resolves `_`), or undefined when the key is refused. */
  namespaceOf(authKey: string): Promise<string | undefined>;
  /** `payloadJson`: the payload's JSON text when the caller has it already (sent as is over REST). */
  fire(namespace: string, name: string, authKey: string, payload: Record<string, unknown>, idempotencyKey: string, payloadJson?: string): Promise<FireAnswer>;
  deleteTrigger(namespace: string, name: string, authKey: string): Promise<number>;
  deleteRule(namespace: string, name: string, authKey: string): Promise<number>;
}

const basic = (authKey: string) => `Basic ${Buffer.from(authKey).toString('base64')}`;
const enc = encodeURIComponent;

/** The ControllerClient over HTTP (node's client, keep-alive), against `baseUrl` (read on each call: standalone learns its port late). */
export class RestControllerClient implements ControllerClient {
  constructor(
    private readonly baseUrl: () => string,
    private readonly timeoutMs = 30_000,
  ) {}

  private readonly http = new KeepAliveClient();

  /** `body`: an object to send as JSON, or JSON text made already. */
  private async call(method: string, path: string, authKey: string, body?: unknown, headers: Record<string, string> = {}) {
    const h: Record<string, string> = { authorization: basic(authKey), ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await this.http.request(`${this.baseUrl()}/api/v1${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      timeoutMs: this.timeoutMs,
    });
    return { res: { ok: res.status >= 200 && res.status < 300, status: res.status, headers: res.headers }, json: jsonOf(res.text), text: res.text };
  }

  async getTrigger(namespace: string, name: string, authKey: string): Promise<TriggerInfo> {
    try {
      const { res, json, text } = await this.call('GET', `/namespaces/${enc(namespace)}/triggers/${enc(name)}`, authKey);
      return res.ok ? { status: res.status, body: json } : { status: res.status, error: json?.error ?? text };
    } catch (err) {
      return { status: 0, error: (err as Error).message };
    }
  }

  async namespaceOf(authKey: string): Promise<string | undefined> {
    try {
      const { res, json } = await this.call('GET', '/namespaces', authKey);
      return res.ok && Array.isArray(json) && typeof json[0] === 'string' ? json[0] : undefined;
    } catch {
      return undefined;
    }
  }

  async fire(namespace: string, name: string, authKey: string, payload: Record<string, unknown>, idempotencyKey: string, payloadJson?: string): Promise<FireAnswer> {
    try {
      const { res, json, text } = await this.call('POST', `/namespaces/${enc(namespace)}/triggers/${enc(name)}`, authKey, payloadJson ?? payload, {
        'x-idempotency-key': idempotencyKey,
      });
      const retryAfter = Number(res.headers['retry-after']);
      return {
        status: res.status,
        activationId: json?.activationId,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
        error: res.ok ? undefined : (json?.error ?? text.slice(0, 500)),
      };
    } catch (err) {
      return { status: 0, error: (err as Error).message };
    }
  }

  async deleteTrigger(namespace: string, name: string, authKey: string): Promise<number> {
    return (await this.call('DELETE', `/namespaces/${enc(namespace)}/triggers/${enc(name)}`, authKey).catch(() => undefined))?.res.status ?? 0;
  }

  async deleteRule(namespace: string, name: string, authKey: string): Promise<number> {
    return (await this.call('DELETE', `/namespaces/${enc(namespace)}/rules/${enc(name)}`, authKey).catch(() => undefined))?.res.status ?? 0;
  }
}

/** A fire made in the controller's own process: what `POST …/triggers/{name}` would answer. */
export type InProcessFire = (namespace: string, name: string, authKey: string, payload: Record<string, unknown>, idempotencyKey: string) => Promise<FireAnswer>;

/**
 * Standalone's ControllerClient: fires go straight to the controller's fire function in the same
 * process (same key check, entitlement, throttle and trigger engine as the REST route), the rest
 * over REST. `fire` is looked up on each call: standalone builds the controller after the feeds.
 */
export class InProcessControllerClient implements ControllerClient {
  constructor(
    private readonly rest: ControllerClient,
    private readonly local: () => InProcessFire | undefined,
  ) {}

  getTrigger(namespace: string, name: string, authKey: string): Promise<TriggerInfo> {
    return this.rest.getTrigger(namespace, name, authKey);
  }

  namespaceOf(authKey: string): Promise<string | undefined> {
    return this.rest.namespaceOf(authKey);
  }

  fire(namespace: string, name: string, authKey: string, payload: Record<string, unknown>, idempotencyKey: string, payloadJson?: string): Promise<FireAnswer> {
    const local = this.local();
    if (!local) return this.rest.fire(namespace, name, authKey, payload, idempotencyKey, payloadJson);
    // The payload's text, when the caller made it (a Kafka batch), goes along: the fire job and
    // the trigger record are written with it instead of stringifying the payload again.
    return local(namespace, name, authKey, payloadJson === undefined ? payload : withLargeJsonText(payload, payloadJson), idempotencyKey);
  }

  deleteTrigger(namespace: string, name: string, authKey: string): Promise<number> {
    return this.rest.deleteTrigger(namespace, name, authKey);
  }

  deleteRule(namespace: string, name: string, authKey: string): Promise<number> {
    return this.rest.deleteRule(namespace, name, authKey);
  }
}
