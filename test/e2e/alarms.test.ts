import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../support/controller-harness.js';
import { runCli, startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';
import { ECHO, feedClient, sleep, until } from './alarms-support.js';

/**
 * The alarms feed through `whiskhub standalone`, driven as `wsk` drives it (trigger PUT with a
 * feed annotation, blocking invoke of /whisk.system/alarms/<feed>) and with the npm client's
 * `feeds.*`: fires, READ, DELETE, PAUSE/UNPAUSE, once, interval, validation, auto-disable,
 * fire payloads, secrets, health, the catalog.
 */
const SYSTEM_AUTH = '0b1c5a3e-7f41-4d7e-9c55-8a2b3c4d5e6f:' + 'S'.repeat(64);
let wh: StandaloneProcess;
const f = feedClient(() => wh);

beforeAll(async () => {
  wh = await startStandaloneProcess({
    env: { WHISKHUB_CONTAINER_FACTORY: 'process', WHISKHUB_AUTH_CACHE_MS: '0', WHISKHUB_SYSTEM_AUTH: SYSTEM_AUTH, WHISKHUB_LOG_LEVEL: 'info' },
  });
  for (const name of ['tick', 'npm-echo', 'once-echo', 'misc-echo']) {
    const r = await f.api('PUT', `/actions/${name}`, { exec: { kind: 'nodejs:default', code: ECHO } });
    expect(r.status).toBe(200);
  }
});

afterAll(async () => {
  expect(await wh?.stop()).toBe(0);
});

describe('the catalog', () => {
  it('publishes /whisk.system/alarms with its three feed actions, and a second install changes nothing', async () => {
    const pkg = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/packages/alarms', { auth: wh.guestAuth });
    expect(pkg.status).toBe(200);
    expect(pkg.body.publish).toBe(true);
    const actions = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/actions/alarms/', { auth: wh.guestAuth });
    expect(actions.body.map((a: { name: string }) => a.name).sort()).toEqual(['alarm', 'interval', 'once']);
    const alarm = await http(wh.apiHost, 'GET', '/api/v1/namespaces/whisk.system/actions/alarms/alarm?code=false', { auth: wh.guestAuth });
    expect(alarm.body.annotations).toEqual(expect.arrayContaining([{ key: 'feed', value: true }]));

    const again = await runCli(['catalog', 'install', '--apihost', wh.apiHost], { WHISKHUB_SYSTEM_AUTH: SYSTEM_AUTH, WHISKHUB_LOG_LEVEL: 'silent' });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('catalog: /whisk.system/alarms unchanged');
    expect(again.stdout).toContain('catalog: /whisk.system/alarms/alarm unchanged');
    expect(again.stdout).toContain('catalog: done (0 created, 0 updated, 13 unchanged)');
    const denied = await runCli(['catalog', 'install', '--apihost', wh.apiHost, '--auth', wh.guestAuth], { WHISKHUB_LOG_LEVEL: 'silent' });
    expect(denied.code).not.toBe(0);
  });
});

describe('an alarm every second, as wsk drives it', () => {
  it('fires the rule\'s action about once a second with the payload and the scheduled time; READ shows the feed; PAUSE, UNPAUSE and delete work', async () => {
    const created = await f.create('every-second', 'alarm', { cron: '* * * * * *', trigger_payload: { hello: 'world' } });
    expect(created.status).toBe(200);
    expect(f.result(created)).toMatchObject({ status: 'success', trigger: '/guest/every-second' });
    expect(f.result(created).nextFires).toHaveLength(3);
    expect((await f.api('PUT', '/rules/every-second-rule', { trigger: '/_/every-second', action: '/_/tick' })).status).toBe(200);

    await sleep(1_500); // the first tick after the rule
    const before = await f.count('tick');
    await sleep(5_000);
    const fired = (await f.count('tick')) - before;
    expect(fired).toBeGreaterThanOrEqual(4);
    expect(fired).toBeLessThanOrEqual(7);
    const payloads = await f.results('tick');
    expect(payloads[0]).toMatchObject({ hello: 'world', alarm: { feed: 'alarm', cron: '* * * * * *', timezone: 'UTC' } });
    const times = payloads.map((p) => Date.parse(p.alarm.scheduledTime));
    expect(new Set(times).size).toBe(times.length);
    expect(times.every((t) => t % 1000 === 0)).toBe(true);

    const read = await f.get('every-second');
    expect(read.status).toBe(200);
    const status = f.result(read);
    expect(status.config).toMatchObject({ name: 'every-second', namespace: 'guest', cron: '* * * * * *', payload: { hello: 'world' } });
    expect(status.status).toMatchObject({ active: true });
    expect(status.status.dateChangedISO).toBe(new Date(status.status.dateChanged).toISOString());
    expect(status.counters.fired).toBeGreaterThanOrEqual(4);
    expect(status.lastFire).toMatchObject({ statusCode: 202 });
    expect(JSON.stringify(read.body)).not.toContain(wh.guestAuth.split(':')[1]);

    // PAUSE stops the fires, UNPAUSE resumes them.
    const paused = await f.invokeFeed('alarm', 'PAUSE', 'every-second');
    expect(f.result(paused)).toMatchObject({ status: 'success', active: false, reason: { kind: 'USER' } });
    await sleep(1_500);
    const atPause = await f.count('tick');
    await sleep(3_000);
    expect(await f.count('tick')).toBe(atPause);
    expect(f.result(await f.get('every-second')).status).toMatchObject({ active: false, reason: { kind: 'USER' } });
    const unpausedAt = Date.now();
    const resumed = await f.invokeFeed('alarm', 'UNPAUSE', 'every-second');
    expect(f.result(resumed)).toMatchObject({ status: 'success', active: true });
    await until('fires after UNPAUSE', async () => (await f.count('tick')) >= atPause + 2);
    // What was due while paused stays unfired (catch-up is off): only ticks after the UNPAUSE came.
    const afterPause = (await f.results('tick')).map((p) => Date.parse(p.alarm.scheduledTime)).sort((a, b) => a - b).slice(atPause);
    expect(afterPause.length).toBeGreaterThanOrEqual(2);
    expect(afterPause.filter((t) => t < unpausedAt - 1000)).toEqual([]);

    // Delete stops them for good.
    const deleted = await f.remove('every-second');
    expect(f.result(deleted!)).toEqual({ status: 'success' });
    await sleep(1_500);
    const atDelete = await f.count('tick');
    await sleep(3_000);
    expect(await f.count('tick')).toBe(atDelete);
    const gone = await f.invokeFeed('alarm', 'READ', 'every-second');
    expect(f.result(gone)).toEqual({ error: 'could not find trigger /guest/every-second in the feed registrations' });
  });
});

describe('the npm client', () => {
  it('creates, reads and deletes a feed with feeds.create/get/delete; includeSchedule=false fires the payload alone', async () => {
    const ow = openwhisk({ apihost: wh.apiHost, api_key: wh.guestAuth });
    await ow.triggers.create({ name: 'npm-alarm', trigger: { annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }] } });
    await ow.rules.create({ name: 'npm-rule', trigger: 'npm-alarm', action: 'npm-echo' });
    // The client's typings lack feeds.get and the activation shape of feed answers.
    const feeds = ow.feeds as any;
    const created = await feeds.create({ name: '/whisk.system/alarms/alarm', trigger: 'npm-alarm', params: { cron: '*/2 * * * * *', trigger_payload: 'plain text', includeSchedule: false } });
    expect(created.response.result.status).toBe('success');
    const read = await feeds.get({ name: '/whisk.system/alarms/alarm', trigger: 'npm-alarm' });
    expect(read.response.result.config).toMatchObject({ cron: '*/2 * * * * *', payload: { payload: 'plain text' }, includeSchedule: false });
    const [first] = await until('an npm-echo activation', async () => {
      const r = await f.results('npm-echo');
      return r.length ? r : undefined;
    });
    expect(first).toEqual({ payload: 'plain text' });
    const deleted = await feeds.delete({ name: '/whisk.system/alarms/alarm', trigger: 'npm-alarm' });
    expect(deleted.response.result).toEqual({ status: 'success' });
    await ow.triggers.delete({ name: 'npm-alarm' });
    const after = await f.invokeFeed('alarm', 'READ', 'npm-alarm');
    expect(after.status).toBe(502);
    expect(f.result(after).error).toMatch(/could not find trigger \/guest\/npm-alarm/);
  });
});

describe('invalid parameters', () => {
  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    ['alarm', 'no cron', {}, /alarms trigger feed is missing the cron parameter/],
    ['alarm', 'bad cron', { cron: 'every day' }, /cron pattern 'every day' is not valid/],
    ['alarm', 'seven fields', { cron: '* * * * * * *' }, /cron pattern '\* \* \* \* \* \* \*' is not valid/],
    ['alarm', 'bad timezone', { cron: '* * * * *', timezone: 'Mars/Olympus' }, /^Invalid timezone\.$/],
    ['alarm', 'past startDate', { cron: '* * * * *', startDate: '2020-01-01T00:00:00Z' }, /startDate parameter '2020-01-01T00:00:00Z' must be in the future/],
    ['alarm', 'bad stopDate', { cron: '* * * * *', stopDate: 'soon' }, /stopDate parameter 'soon' is not a valid Date/],
    ['alarm', 'stop before start', { cron: '* * * * *', startDate: Date.now() + 7200_000, stopDate: Date.now() + 3600_000 }, /must be greater than the startDate/],
    ['alarm', 'no tick before stopDate', { cron: '0 0 1 1 *', stopDate: Date.now() + 3600_000 * 24 }, /has no occurrence between/],
    ['alarm', 'maxTriggers with stopDate', { cron: '* * * * *', maxTriggers: 3, stopDate: Date.now() + 3600_000 }, /maxTriggers is not allowed when the stopDate parameter is specified/],
    ['alarm', 'bad catchUp', { cron: '* * * * *', catchUp: 1000 }, /catchUp parameter must be an integer from 0 to 100/],
    ['once', 'no date', {}, /alarms once trigger feed is missing the date parameter/],
    ['once', 'past date', { date: '2001-01-01' }, /date parameter '2001-01-01' must be in the future/],
    ['once', 'unparsable date', { date: 'tomorrow-ish' }, /date parameter 'tomorrow-ish' is not a valid Date/],
    ['once', 'bad deleteAfterFire', { date: Date.now() + 60_000, deleteAfterFire: 'maybe' }, /deleteAfterFire parameter must be one of \[false, true, rules\]/],
    ['interval', 'no minutes', {}, /interval trigger feed is missing the minutes parameter/],
    ['interval', 'fractional minutes', { minutes: 5.5 }, /the minutes parameter must be an integer/],
    ['interval', 'negative minutes', { minutes: -3 }, /the minutes parameter must be an integer greater than zero/],
  ];
  for (const [feed, what, params, message] of cases) {
    it(`${feed}: ${what} → 400, and neither trigger nor registration is left`, async () => {
      const name = `bad-${feed}-${what.replace(/\W+/g, '-')}`;
      const r = await f.create(name, feed, params);
      expect(r.status).toBe(502); // an application error, as OpenWhisk answers it
      expect(r.body.response).toMatchObject({ status: 'application error', success: false });
      expect(f.result(r).error).toMatch(message);
      // The provider answered 400 with the same message.
      const direct = await http(wh.apiHost, 'POST', `/feeds/v1/alarms/triggers/_/${name}`, { auth: wh.guestAuth, body: { feed, ...params } });
      expect(direct.status).toBe(400);
      expect(direct.body.error).toMatch(message);
      expect((await f.api('GET', `/triggers/${name}`)).status).toBe(404);
      await f.api('PUT', `/triggers/${name}`);
      expect(f.result(await f.invokeFeed(feed, 'READ', name)).error).toMatch(/could not find trigger/);
      await f.api('DELETE', `/triggers/${name}`);
    });
  }

  it('answers 400 on the provider API itself, and refuses an unknown lifecycle event and a missing triggerName', async () => {
    await f.api('PUT', '/triggers/direct');
    const direct = await http(wh.apiHost, 'POST', '/feeds/v1/alarms/triggers/_/direct', { auth: wh.guestAuth, body: { feed: 'alarm', cron: 'nope' } });
    expect(direct.status).toBe(400);
    expect(direct.body.error).toMatch(/cron pattern 'nope' is not valid/);
    const unknown = await f.invokeFeed('alarm', 'RESTART', 'direct', { cron: '* * * * *' });
    expect(f.result(unknown).error).toMatch(/unsupported lifecycleEvent 'RESTART'/);
    const noName = await http(wh.apiHost, 'POST', '/api/v1/namespaces/whisk.system/actions/alarms/alarm?blocking=true', {
      auth: wh.guestAuth,
      body: { lifecycleEvent: 'CREATE', authKey: wh.guestAuth, cron: '* * * * *' },
    });
    expect(noName.body.response.result).toEqual({ error: 'no trigger name parameter was provided' });
    const wrongKey = await http(wh.apiHost, 'POST', '/feeds/v1/alarms/triggers/guest/direct', {
      auth: '11111111-2222-3333-4444-555555555555:' + 'x'.repeat(64),
      body: { feed: 'alarm', cron: '* * * * *' },
    });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.error).toMatch(/Trigger authentication request failed/);
    const noTrigger = await http(wh.apiHost, 'POST', '/feeds/v1/alarms/triggers/_/no-such-trigger', { auth: wh.guestAuth, body: { feed: 'alarm', cron: '* * * * *' } });
    expect(noTrigger.status).toBe(404);
    const update = await f.invokeFeed('alarm', 'UPDATE', 'direct', {});
    expect(f.result(update).error).toMatch(/could not find trigger \/guest\/direct/);
    await f.api('DELETE', '/triggers/direct');
  });
});

describe('once', () => {
  it('fires once and, with deleteAfterFire=true, deletes its trigger and registration', async () => {
    const date = new Date(Date.now() + 2_500).toISOString();
    expect((await f.create('once-delete', 'once', { date, deleteAfterFire: true, trigger_payload: { n: 1 } })).status).toBe(200);
    await f.api('PUT', '/rules/once-delete-rule', { trigger: '/_/once-delete', action: '/_/once-echo' });
    await until('the trigger to be deleted', async () => (await f.api('GET', '/triggers/once-delete')).status === 404, 20_000);
    await sleep(1_000);
    const fired = (await f.results('once-echo')).filter((p) => p.n === 1);
    expect(fired).toHaveLength(1);
    expect(fired[0].alarm).toEqual({ feed: 'once', scheduledTime: date, date });
    await f.api('PUT', '/triggers/once-delete');
    expect(f.result(await f.invokeFeed('once', 'READ', 'once-delete')).error).toMatch(/could not find trigger/);
    expect((await f.api('GET', '/rules/once-delete-rule')).status).toBe(200); // `true` keeps the rules
    await f.api('DELETE', '/rules/once-delete-rule');
    await f.api('DELETE', '/triggers/once-delete');
  });

  it('with deleteAfterFire=rules also deletes the rules; with false, stays readable and inactive', async () => {
    const soon = () => new Date(Date.now() + 2_500).toISOString();
    await f.create('once-rules', 'once', { date: soon(), deleteAfterFire: 'RULES', trigger_payload: { n: 2 } });
    await f.api('PUT', '/rules/once-rules-rule', { trigger: '/_/once-rules', action: '/_/once-echo' });
    await f.create('once-keep', 'once', { date: soon(), trigger_payload: { n: 3 } });
    await f.api('PUT', '/rules/once-keep-rule', { trigger: '/_/once-keep', action: '/_/once-echo' });
    await until('the rule to be deleted', async () => (await f.api('GET', '/rules/once-rules-rule')).status === 404, 20_000);
    expect((await f.api('GET', '/triggers/once-rules')).status).toBe(404);
    const kept = await until('once-keep to be inactive', async () => {
      const r = f.result(await f.get('once-keep'));
      return r?.status?.active === false ? r : undefined;
    });
    expect(kept.status.reason).toMatchObject({ kind: 'AUTO', message: 'Automatically disabled after firing once' });
    await until('once-keep fired', async () => kept.counters.fired === 1 || f.result(await f.get('once-keep')).counters.fired === 1);
    expect(kept.nextFires).toEqual([]);
    const results = await f.results('once-echo');
    expect(results.filter((p) => p.n === 2)).toHaveLength(1);
    expect(results.filter((p) => p.n === 3)).toHaveLength(1);
    const unpause = await f.invokeFeed('once', 'UNPAUSE', 'once-keep');
    expect(f.result(unpause).error).toMatch(/date .* has passed/);
    await f.remove('once-keep');
  });
});

describe('interval', () => {
  it('fires first at startDate, then every `minutes` on that grid', async () => {
    const start = Date.now() + 2_000;
    const r = await f.create('every-minute', 'interval', { minutes: 1, startDate: start, trigger_payload: { kind: 'interval' } });
    expect(f.result(r).nextFires.slice(0, 2)).toEqual([new Date(start).toISOString(), new Date(start + 60_000).toISOString()]);
    await f.api('PUT', '/rules/every-minute-rule', { trigger: '/_/every-minute', action: '/_/misc-echo' });
    const [fire] = await until('the first interval fire', async () => {
      const got = (await f.results('misc-echo')).filter((p) => p.kind === 'interval');
      return got.length ? got : undefined;
    });
    expect(fire.alarm).toEqual({ feed: 'interval', scheduledTime: new Date(start).toISOString(), minutes: 1, startDate: new Date(start).toISOString() });
    const read = f.result(await f.get('every-minute'));
    expect(read.nextFires[0]).toBe(new Date(start + 60_000).toISOString());
    expect(read.config).toMatchObject({ minutes: 1, startDate: new Date(start).toISOString() });
    await f.remove('every-minute');
  });
});

describe('UPDATE', () => {
  it('reschedules at once, and refuses an update with nothing to update', async () => {
    await f.create('updated', 'alarm', { cron: '0 0 1 1 *', trigger_payload: { kind: 'updated' } });
    await f.api('PUT', '/rules/updated-rule', { trigger: '/_/updated', action: '/_/misc-echo' });
    const none = await f.invokeFeed('alarm', 'UPDATE', 'updated', {});
    expect(f.result(none)).toEqual({ error: 'no updatable parameters were specified' });
    const upd = await f.invokeFeed('alarm', 'UPDATE', 'updated', { cron: '* * * * * *' });
    expect(f.result(upd)).toMatchObject({ status: 'success', config: { cron: '* * * * * *' } });
    await until('a fire on the new schedule', async () => (await f.results('misc-echo')).some((p) => p.kind === 'updated'));
    await f.remove('updated');
  });
});

describe('auto-disable', () => {
  it('disables a registration whose trigger was deleted behind its back (404), and READ says why', async () => {
    await f.create('orphan', 'alarm', { cron: '* * * * * *' });
    await until('a first fire', async () => f.result(await f.get('orphan')).counters.fired >= 1);
    expect((await f.api('DELETE', '/triggers/orphan')).status).toBe(200);
    await sleep(2_500);
    const read = await f.invokeFeed('alarm', 'READ', 'orphan');
    expect(read.status).toBe(200);
    const s = f.result(read);
    expect(s.status.active).toBe(false);
    expect(s.status.reason).toMatchObject({ kind: 'AUTO', statusCode: 404 });
    expect(s.status.reason.message).toMatch(/404/);
    expect(s.nextFires).toEqual([]);
    const gone = await f.invokeFeed('alarm', 'DELETE', 'orphan');
    expect(f.result(gone)).toEqual({ status: 'success' });
  });
});

describe('operations', () => {
  it('serves health and metrics, and never logs or records the authKey', async () => {
    const health = await http(wh.apiHost, 'GET', '/feeds/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', providers: { alarms: { scheduler: 'timers' } } });
    const metrics = await http(wh.apiHost, 'GET', '/feeds/v1/metrics');
    expect(metrics.text).toMatch(/whiskhub_feed_events_total\{provider="alarms",event="fired"\} \d+/);
    expect(metrics.text).toMatch(/whiskhub_feed_fire_latency_ms_count\{provider="alarms"\} \d+/);

    const secret = wh.guestAuth.split(':')[1];
    // The banner prints the guest key twice; nothing else may.
    expect(wh.output().split(secret).length - 1).toBe(2);
    const records = await f.api('GET', '/activations?docs=true&limit=200');
    expect(JSON.stringify(records.body)).not.toContain(secret);
  });
});
