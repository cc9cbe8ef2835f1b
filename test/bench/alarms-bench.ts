import { readFileSync } from 'node:fs';
import { startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';
import { LIMITS, percentile } from './measure.js';

function client(wh: StandaloneProcess) {
  const auth = `Basic ${Buffer.from(wh.guestAuth).toString('base64')}`;
  return async (method: string, url: string, body?: unknown) => {
    const res = await fetch(url.startsWith('http') ? url : `${wh.apiHost}/api/v1/namespaces${url}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** Resident memory of a process, MB (Linux /proc). */
function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

/**
 * `npm run bench -- alarms` (issue 5): `alarms` schedules in standalone (10,000 by default), each a
 * cron alarm firing once a minute at its own second (`S * * * * *`, S = i mod 60: about 167
 * fires a second, every second), each with a rule to a noop action. For `seconds` (120 by
 * default) every fire's jitter is read from the trigger records: the record's start minus the
 * tick it was scheduled for (the fire payload carries it). Also: ticks due vs fired and fired
 * twice, and the memory the schedules take in the process (resident memory after creating them
 * minus before). Goals: jitter p50 ≤ 20 ms, p99 ≤ 100 ms.
 */
export async function benchAlarms(o: { alarms: number; seconds: number }) {
  const wh = await startStandaloneProcess({ env: { WHISKHUB_CONTAINER_FACTORY: 'process', WHISKHUB_LOG_LEVEL: 'warn', ...LIMITS } });
  const api = client(wh);
  const pid = wh.child.pid!;
  try {
    await api('PUT', '/_/actions/noop', { exec: { kind: 'nodejs:default', code: 'function main() { return {}; }' } });
    await api('POST', '/_/actions/noop?blocking=true');
    const names = Array.from({ length: o.alarms }, (_, i) => `a${i}`);
    await inBatches(names, 50, async (name) => {
      await api('PUT', `/_/triggers/${name}`, { annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }] });
      await api('PUT', `/_/rules/${name}-r`, { trigger: `/_/${name}`, action: '/_/noop' });
    });
    const rssBefore = rssMB(pid);
    const created = Date.now();
    // Straight to the provider API the feed action calls (10,000 feed-action activations would only slow the set-up).
    await inBatches(names, 50, async (name) => {
      const r = await api('POST', `${wh.apiHost}/feeds/v1/alarms/triggers/_/${name}`, { feed: 'alarm', cron: `${Number(name.slice(1)) % 60} * * * * *` });
      if (r.status !== 200) throw new Error(`bench alarms: CREATE ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    });
    const createSeconds = (Date.now() - created) / 1000;
    console.error(`bench alarms: ${o.alarms} schedules created in ${createSeconds.toFixed(1)} s; measuring ${o.seconds} s`);
    const from = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    const to = from + o.seconds * 1000;
    await new Promise((r) => setTimeout(r, from - Date.now()));
    const rssAfter = rssMB(pid);
    await new Promise((r) => setTimeout(r, to - Date.now() + 5_000));
    const rssEnd = rssMB(pid);

    // Every trigger record of the window (the namespace holds only the bench's), up to a fixed
    // moment before now: the list is newest first and keeps growing while the alarms fire. A
    // record is counted once per activation id in any case.
    const upto = to + 2_000;
    // In standalone a trigger record is written once its rule's action has run, which can be
    // seconds after the fire started under load; a record written into pages already read would
    // shift them. So page only once the window's count has stopped changing.
    const inWindow = async () => (await api('GET', `/_/activations?count=true&since=${from - 1}&upto=${upto}`)).body.activations as number;
    for (let last = -1, now = await inWindow(), waited = 0; now !== last && waited < 60_000; waited += 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      last = now;
      now = await inWindow();
    }
    const perTick = new Map<string, number>();
    const seen = new Set<string>();
    const jitter: number[] = [];
    for (let skip = 0; ; skip += 200) {
      const page = await api('GET', `/_/activations?docs=true&limit=200&skip=${skip}&since=${from - 1}&upto=${upto}`);
      const recs = page.body as { activationId: string; name: string; start: number; response: { result: { alarm?: { scheduledTime: string } } } }[];
      for (const rec of recs) {
        const t = rec.response.result.alarm?.scheduledTime;
        if (!t || seen.has(rec.activationId)) continue;
        seen.add(rec.activationId);
        const at = Date.parse(t);
        if (at < from || at >= to) continue;
        const k = `${rec.name} ${at}`;
        perTick.set(k, (perTick.get(k) ?? 0) + 1);
        jitter.push(rec.start - at);
      }
      if (recs.length < 200) break;
    }
    jitter.sort((a, b) => a - b);
    // Ticks due in the window: each second, the alarms whose second it is.
    const perSecond = Array.from({ length: 60 }, (_, sec) => names.filter((n) => Number(n.slice(1)) % 60 === sec).length);
    let due = 0;
    for (let t = from; t < to; t += 1000) due += perSecond[new Date(t).getUTCSeconds()];
    const twice = [...perTick.values()].filter((n) => n > 1).length;
    if (perTick.size < due) {
      // Say which ticks have no record in the listing, and look each up by its trigger's name.
      const missing: string[] = [];
      for (let t = from; t < to; t += 1000) {
        for (const n of names) if (Number(n.slice(1)) % 60 === new Date(t).getUTCSeconds() && !perTick.has(`${n} ${t}`)) missing.push(`${n} ${t}`);
      }
      for (const m of missing.slice(0, 10)) {
        const [n, t] = m.split(' ');
        const byName = await api('GET', `/_/activations?name=${n}&docs=true&limit=200`);
        const rec = (byName.body as { activationId: string; start: number; response: { result: { alarm?: { scheduledTime: string } } } }[]).find((r) => Date.parse(r.response.result.alarm?.scheduledTime ?? '') === Number(t));
        const read = await api('GET', `${wh.apiHost}/feeds/v1/alarms/triggers/_/${n}`);
        console.error(`bench alarms: no record listed for ${n} at ${new Date(Number(t)).toISOString()}; by name: ${rec ? `${rec.activationId} start +${rec.start - Number(t)} ms` : 'none'}; feed: ${JSON.stringify(read.body)}`);
      }
      if (missing.length) {
        const metrics = await (await fetch(`${wh.apiHost}/feeds/v1/metrics`)).text();
        console.error(`bench alarms: ${missing.length} ticks without a record; feed events: ${[...metrics.matchAll(/whiskhub_feed_events_total\{provider="alarms",event="(\w+)"\} (\d+)/g)].map((x) => `${x[1]}=${x[2]}`).join(' ')}`);
      }
    }
    const figures = {
      schedules: o.alarms,
      'measured seconds': o.seconds,
      'ticks due': due,
      'ticks fired (trigger records)': perTick.size,
      'ticks fired twice': twice,
      'fires per second': Math.round((perTick.size / o.seconds) * 10) / 10,
      'jitter p50 ms (record start - scheduled tick)': percentile(jitter, 50),
      'jitter p99 ms': percentile(jitter, 99),
      'jitter max ms': jitter[jitter.length - 1] ?? NaN,
      'schedules created per second': Math.round(o.alarms / createSeconds),
      'process RSS before the schedules MB': rssBefore,
      'process RSS with the schedules MB': rssAfter,
      'memory for the schedules MB (RSS difference)': rssAfter - rssBefore,
      'process RSS at the end MB': rssEnd,
    };
    return { name: 'alarms (standalone)', figures, met: percentile(jitter, 50) <= 20 && percentile(jitter, 99) <= 100 && perTick.size >= due && twice === 0 };
  } finally {
    await wh.stop();
  }
}
