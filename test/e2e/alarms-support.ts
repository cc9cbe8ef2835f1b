import { http, type HttpResult } from '../support/controller-harness.js';
import type { StandaloneProcess } from '../support/standalone-process.js';

/**
 * Drives feeds the way `wsk` 1.2.0 does (deploy/dev/WSK.md): PUT the trigger with a `feed`
 * annotation, then a blocking POST to /namespaces/whisk.system/actions/<package>/<feed> with
 * lifecycleEvent, triggerName (`/_/<name>`) and authKey; on a failed CREATE the trigger is deleted.
 */
export function feedClient(wh: () => Pick<StandaloneProcess, 'apiHost' | 'guestAuth'>, auth: () => string = () => wh().guestAuth, pkg = 'alarms') {
  const api = (method: string, path: string, body?: unknown, key = auth()) =>
    http(wh().apiHost, method, `/api/v1/namespaces/_${path}`, { auth: key, body });

  /** One lifecycle invocation of a feed action, exactly as the CLI sends it. */
  const invokeFeed = (feed: string, event: string, trigger: string, params: Record<string, unknown> = {}, key = auth()) =>
    http(wh().apiHost, 'POST', `/api/v1/namespaces/whisk.system/actions/${pkg}/${feed}?blocking=true&result=false`, {
      auth: key,
      body: { authKey: key, ...params, lifecycleEvent: event, triggerName: `/_/${trigger}` },
    });

  /** The feed action's result (the activation record's response.result). */
  const result = (r: HttpResult) => r.body?.response?.result;

  /** `wsk trigger create <trigger> --feed /whisk.system/alarms/<feed> -p ...` */
  async function create(trigger: string, feed: string, params: Record<string, unknown>) {
    const put = await api('PUT', `/triggers/${trigger}?overwrite=false`, { name: trigger, annotations: [{ key: 'feed', value: `/whisk.system/${pkg}/${feed}` }] });
    if (put.status !== 200) throw new Error(`PUT trigger ${trigger}: ${put.status} ${put.text}`);
    const r = await invokeFeed(feed, 'CREATE', trigger, params);
    if (r.status !== 200 || !r.body?.response?.success) await api('DELETE', `/triggers/${trigger}`);
    return r;
  }

  /** `wsk trigger get <trigger>`: READ through the feed named by the annotation. */
  async function get(trigger: string) {
    const t = await api('GET', `/triggers/${trigger}`);
    if (t.status !== 200) return t;
    const feed = (t.body.annotations as { key: string; value: string }[]).find((a) => a.key === 'feed')?.value;
    if (!feed) return t;
    return invokeFeed(feed.split('/').pop()!, 'READ', trigger);
  }

  /** `wsk trigger delete <trigger>`: DELETE through the feed (failure ignored), then the trigger. */
  async function remove(trigger: string) {
    const t = await api('GET', `/triggers/${trigger}`);
    const feed = (t.body?.annotations as { key: string; value: string }[] | undefined)?.find((a) => a.key === 'feed')?.value;
    const r = feed ? await invokeFeed(feed.split('/').pop()!, 'DELETE', trigger) : undefined;
    await api('DELETE', `/triggers/${trigger}`);
    return r;
  }

  /** Results of the action's activations (newest first). */
  async function results(action: string): Promise<Record<string, any>[]> {
    const r = await api('GET', `/activations?name=${action}&docs=true&limit=200`);
    return (r.body as { response: { result: Record<string, any> } }[]).map((a) => a.response.result);
  }

  const count = async (name: string) => (await api('GET', `/activations?count=true&name=${name}`)).body.activations as number;

  return { api, invokeFeed, result, create, get, remove, results, count };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** An action that returns what it was given (so its results show each fire's payload). */
export const ECHO = 'function main(p) { const { __ow_headers, ...rest } = p; return rest; }';
