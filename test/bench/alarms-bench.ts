import { startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';

const LIMITS = { WHISKHUB_LIMIT_FIRES_PER_MINUTE: '100000000', WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE: '100000000', WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS: '100000' };

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

function client(wh: StandaloneProcess) {
  const auth = `Basic ${Buffer.from(wh.guestAuth).toString('base64')}`;
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${wh.apiHost}/api/v1/namespaces${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/**
 * `npm run bench -- alarms`: N alarms firing every second in standalone, each with a rule to a
 * trivial action, for S seconds, created and deleted through the feed action as `wsk` does. From
 * the trigger activation records (their result is the fire payload, with the scheduled time):
 * ticks fired vs due, ticks fired twice, and the delay from a tick's scheduled time to the
 * controller accepting its fire. Goal: at least 99% of the due ticks fired, none twice, p99 delay
 * under one second; and, for the provider alone (providerCapacity), every tick handled with no
 * backlog building up.
 */
export async function benchAlarms(o: { alarms: number; seconds: number; providerAlarms: number }) {
  const wh = await startStandaloneProcess({ env: { WHISKHUB_CONTAINER_FACTORY: 'process', WHISKHUB_LOG_LEVEL: 'warn', ...LIMITS } });
  const api = client(wh);
  try {
    await api('PUT', '/_/actions/noop', { exec: { kind: 'nodejs:default', code: 'function main() { return {}; }' } });
    const names = Array.from({ length: o.alarms }, (_, i) => `bench-alarm-${i}`);
    const feed = (event: string, name: string, params: Record<string, unknown> = {}) =>
      api('POST', '/whisk.system/actions/alarms/alarm?blocking=true', { ...params, lifecycleEvent: event, triggerName: `/_/${name}`, authKey: wh.guestAuth });
    const created = Date.now();
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map(async (name) => {
          await api('PUT', `/_/triggers/${name}`, { annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }] });
          await api('PUT', `/_/rules/${name}-rule`, { trigger: `/_/${name}`, action: '/_/noop' });
          const r = await feed('CREATE', name, { cron: '* * * * * *' });
          if (r.status !== 200) throw new Error(`CREATE ${name}: ${r.status} ${JSON.stringify(r.body)}`);
        }),
      );
    }
    const createMs = (Date.now() - created) / names.length;
    // Measure whole seconds after every alarm exists.
    const from = Math.ceil((Date.now() + 1000) / 1000) * 1000;
    const to = from + o.seconds * 1000;
    await new Promise((r) => setTimeout(r, to - Date.now() + 3_000));
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((name) => feed('DELETE', name)));
    await new Promise((r) => setTimeout(r, 2_000));

    const perTick = new Map<string, number>();
    const delays: number[] = [];
    for (const name of names) {
      for (let skip = 0; ; skip += 200) {
        const page = await api('GET', `/_/activations?name=${name}&docs=true&limit=200&skip=${skip}`);
        for (const rec of page.body as { start: number; response: { result: { alarm?: { scheduledTime: string } } } }[]) {
          const t = rec.response.result.alarm?.scheduledTime;
          if (!t) continue;
          const at = Date.parse(t);
          if (at < from || at >= to) continue;
          const k = `${name} ${t}`;
          perTick.set(k, (perTick.get(k) ?? 0) + 1);
          delays.push(rec.start - at);
        }
        if ((page.body as unknown[]).length < 200) break;
      }
    }
    const due = names.length * o.seconds;
    const fired = perTick.size;
    const twice = [...perTick.values()].filter((n) => n > 1).length;
    delays.sort((a, b) => a - b);
    const metrics = await fetch(`${wh.apiHost}/feeds/v1/metrics`).then((r) => r.text());
    const missed = Number(/event="missed"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    const figures = {
      alarms: names.length,
      seconds: o.seconds,
      'ticks due': due,
      'ticks fired': fired,
      'fired %': Math.round((fired / due) * 10000) / 100,
      'ticks fired twice': twice,
      'ticks counted missed (whole run)': missed,
      'fires per second': Math.round((fired / o.seconds) * 10) / 10,
      'tick -> fire accepted p50 ms': percentile(delays, 50),
      'tick -> fire accepted p99 ms': percentile(delays, 99),
      'tick -> fire accepted max ms': delays[delays.length - 1] ?? NaN,
      'feed CREATE ms (mean, 10 at a time)': Math.round(createMs),
    };
    const providerOnly = await providerCapacity(o.providerAlarms, Math.min(o.seconds, 10));
    Object.assign(figures, providerOnly.figures);
    return { name: 'alarms (standalone)', figures, met: fired / due >= 0.99 && twice === 0 && percentile(delays, 99) < 1000 && providerOnly.met };
  } finally {
    await wh.stop();
  }
}

const metric = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);

/**
 * The provider alone: N alarms every second on triggers without rules (the controller answers
 * 204, no fan-out, no action), so what is measured is scheduling, the claim, the durable fire queue
 * and the fire round trip. From the provider's metrics: fires per second and the mean and max
 * delay from tick to accepted fire.
 */
async function providerCapacity(alarms: number, seconds: number) {
  const wh = await startStandaloneProcess({ env: { WHISKHUB_CONTAINER_FACTORY: 'process', WHISKHUB_LOG_LEVEL: 'warn', ...LIMITS } });
  const api = client(wh);
  try {
    for (let i = 0; i < alarms; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, alarms - i) }, (_, j) => `cap-${i + j}`).map(async (name) => {
          await api('PUT', `/_/triggers/${name}`, {});
          await api('POST', '/whisk.system/actions/alarms/alarm?blocking=true', { lifecycleEvent: 'CREATE', triggerName: `/_/${name}`, authKey: wh.guestAuth, cron: '* * * * * *' });
        }),
      );
    }
    const read = () => fetch(`${wh.apiHost}/feeds/v1/metrics`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 3_000)); // let the creation backlog drain
    const a = await read();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const b = await read();
    const fired = metric(b, /event="fired"\} (\d+)/) - metric(a, /event="fired"\} (\d+)/);
    const ticks = metric(b, /event="tick"\} (\d+)/) - metric(a, /event="tick"\} (\d+)/);
    const sum = metric(b, /latency_ms_sum\{provider="alarms"\} (\d+)/) - metric(a, /latency_ms_sum\{provider="alarms"\} (\d+)/);
    const pending = metric(b, /whiskhub_feed_queue_pending (\d+)/);
    const figures = {
      'provider only: alarms (no rules, 204)': alarms,
      'provider only: ticks per second': Math.round((ticks / seconds) * 10) / 10,
      'provider only: fires accepted per second': Math.round((fired / seconds) * 10) / 10,
      'provider only: tick -> accepted mean ms': fired ? Math.round(sum / fired) : NaN,
      'provider only: tick -> accepted max ms (whole run)': metric(b, /latency_ms_max\{provider="alarms"\} (\d+)/),
      'provider only: queue backlog at end': pending,
    };
    return { figures, met: ticks >= alarms * seconds * 0.98 && pending < alarms };
  } finally {
    await wh.stop();
  }
}
