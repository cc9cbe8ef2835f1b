import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCommand, startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';

/**
 * Apache OpenWhisk's own deployment tool, wskdeploy (built from the Go module proxy by
 * deploy/dev/install-wsk.sh), deploying and undeploying a manifest against `whiskhub standalone`.
 * The `wsk` CLI itself cannot be built from the registries this project may use (see
 * deploy/dev/WSK.md), so this is how CI drives whiskhub with an OpenWhisk Go client.
 */
const WSKDEPLOY = process.env.WHISKHUB_WSKDEPLOY ?? join(REPO, '.data/tools/bin/wskdeploy');
const FIXTURE = join(REPO, 'test/e2e/fixtures/wskdeploy');

let wh: StandaloneProcess;
let ow: ReturnType<typeof openwhisk>;
let args: string[];

beforeAll(async () => {
  if (!existsSync(WSKDEPLOY)) throw new Error(`wskdeploy not found at ${WSKDEPLOY}: run deploy/dev/install-wsk.sh (npm test does)`);
  wh = await startStandaloneProcess();
  ow = openwhisk({ apihost: wh.apiHost, api_key: wh.guestAuth });
  // An empty config file, so nothing from the user's ~/.wskprops leaks in.
  const props = join(mkdtempSync(join(tmpdir(), 'whiskhub-wskdeploy-')), 'wskprops');
  writeFileSync(props, '');
  args = ['--config', props, '-m', 'manifest.yaml', '--apihost', wh.apiHost, '-u', wh.guestAuth, '-n', 'guest'];
});

afterAll(async () => {
  await wh?.stop();
});

const wskdeploy = (...extra: string[]) => runCommand(WSKDEPLOY, [...extra, ...args], {}, FIXTURE);

describe('wskdeploy', () => {
  it('deploys a manifest: package, action, trigger and an active rule', async () => {
    const res = await wskdeploy();
    expect(res.stdout + res.stderr).toContain('Deployment completed successfully');
    expect(res.code).toBe(0);

    const pkg = (await ow.packages.get({ name: 'demo' })) as any;
    expect(pkg.version).toBe('1.0.0');
    expect(pkg.parameters).toEqual([{ key: 'region', value: 'eu' }]);
    expect(pkg.actions.map((a: { name: string }) => a.name)).toEqual(['hello']);

    const action = (await ow.actions.get({ name: 'demo/hello' })) as any;
    expect(action).toMatchObject({ namespace: 'guest/demo', exec: { kind: 'nodejs:20' }, limits: { timeout: 5000, memory: 128 } });
    expect(action.exec.code).toContain('hello ${params.name}');
    expect(action.parameters).toEqual([{ key: 'name', value: 'world' }]);

    const trigger = (await ow.triggers.get({ name: 'everyTick' })) as any;
    expect(trigger.parameters).toEqual([{ key: 'source', value: 'manifest' }]);
    const rule = (await ow.rules.get({ name: 'onTick' })) as any;
    expect(rule).toMatchObject({ status: 'active', action: { path: 'guest/demo', name: 'hello' }, trigger: { name: 'everyTick' } });
  });

  it('redeploys the same manifest over the existing entities', async () => {
    const res = await wskdeploy();
    expect(res.code).toBe(0);
    expect(((await ow.actions.get({ name: 'demo/hello' })) as any).version).toBe('0.0.2');
  });

  it('undeploys everything it deployed', async () => {
    const res = await wskdeploy('undeploy');
    expect(res.stdout + res.stderr).toContain('Undeployment completed successfully');
    expect(res.code).toBe(0);
    expect(await ow.packages.list()).toEqual([]);
    expect(await ow.actions.list()).toEqual([]);
    expect(await ow.triggers.list()).toEqual([]);
    expect(await ow.rules.list()).toEqual([]);
  });

  it("deploys wskdeploy's `default` package to the namespace root", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-wskdeploy-root-'));
    writeFileSync(join(dir, 'manifest.yaml'), 'packages:\n  default:\n    actions:\n      rootAction:\n        function: a.js\n        runtime: nodejs:20\n');
    writeFileSync(join(dir, 'a.js'), 'function main(){return {}}');
    const res = await runCommand(WSKDEPLOY, args, {}, dir);
    expect(res.code).toBe(0);
    expect(((await ow.actions.get({ name: 'rootAction' })) as any).namespace).toBe('guest');
  });

  it('reports a server refusal with the server message and a failing exit code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-wskdeploy-bad-'));
    writeFileSync(
      join(dir, 'manifest.yaml'),
      'packages:\n  big:\n    actions:\n      a:\n        function: a.js\n        runtime: nodejs:20\n        limits:\n          memorySize: 4096\n',
    );
    writeFileSync(join(dir, 'a.js'), 'function main(){return {}}');
    const res = await runCommand(WSKDEPLOY, args, {}, dir);
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toContain('memory size 4096 MB exceeds allowed threshold of 512 MB');
    await expect(ow.actions.get({ name: 'big/a' })).rejects.toMatchObject({ statusCode: 404 });
  });
});
