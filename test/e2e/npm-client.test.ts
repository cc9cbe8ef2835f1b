import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneProcess, type StandaloneProcess } from '../support/standalone-process.js';

/**
 * The published `openwhisk` npm client against `whiskhub standalone`, used as its README tells
 * users to: create, get, list, update and delete every entity kind, and the error cases.
 */
let wh: StandaloneProcess;
let ow: ReturnType<typeof openwhisk>;

const code = 'function main(params) { return { msg: "hello " + params.name }; }';

/** The client rejects with an error carrying the HTTP status and the server's `error` text. */
async function failure(p: Promise<unknown>): Promise<{ statusCode: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { statusCode: number; message: string };
    return { statusCode: e.statusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

/** Polls until the call succeeds (records are written in batches, just after the answer). */
async function waitFor<T>(call: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

beforeAll(async () => {
  wh = await startStandaloneProcess();
  ow = openwhisk({ apihost: wh.apiHost, api_key: wh.guestAuth });
});

afterAll(async () => {
  expect(await wh?.stop('SIGTERM')).toBe(0);
});

describe('namespaces', () => {
  it('lists the caller namespace and gets its (empty) contents', async () => {
    expect(await ow.namespaces.list()).toEqual(['guest']);
    const contents = (await ow.namespaces.get({ namespace: 'guest' } as never)) as Record<string, unknown[]>;
    expect(contents).toMatchObject({ actions: [], packages: [], triggers: [], rules: [] });
  });
});

describe('actions', () => {
  it('creates, gets, lists, updates and deletes an action', async () => {
    const created = (await ow.actions.create({ name: 'hello', action: code, params: { name: 'x' } })) as any;
    expect(created).toMatchObject({ namespace: 'guest', name: 'hello', version: '0.0.1', exec: { kind: 'nodejs:20', code } });
    expect(created.parameters).toEqual([{ key: 'name', value: 'x' }]);

    const got = (await ow.actions.get({ name: 'hello' })) as any;
    expect(got.exec.code).toBe(code);
    expect(got.annotations).toEqual(expect.arrayContaining([{ key: 'exec', value: 'nodejs:20' }]));

    const list = (await ow.actions.list()) as any[];
    expect(list.map((a) => a.name)).toEqual(['hello']);
    expect(list[0].exec).toEqual({ binary: false });

    const updated = (await ow.actions.update({ name: 'hello', action: code, limits: { timeout: 5000 } })) as any;
    expect(updated.version).toBe('0.0.2');
    expect(updated.limits.timeout).toBe(5000);

    const deleted = (await ow.actions.delete({ name: 'hello' })) as any;
    expect(deleted.name).toBe('hello');
    expect((await failure(ow.actions.get({ name: 'hello' }))).statusCode).toBe(404);
  });

  it('refuses a duplicate create, a bad name, bad limits and an unknown kind', async () => {
    await ow.actions.create({ name: 'dup', action: code });
    const dup = await failure(ow.actions.create({ name: 'dup', action: code }));
    expect(dup.statusCode).toBe(409);
    expect(dup.message).toMatch(/resource already exists/);
    expect((await failure(ow.actions.create({ name: 'bad$name', action: code }))).statusCode).toBe(400);
    const limits = await failure(ow.actions.create({ name: 'lim', action: code, limits: { memory: 4096 } }));
    expect(limits.statusCode).toBe(400);
    expect(limits.message).toMatch(/memory size 4096 MB exceeds allowed threshold of 512 MB/);
    const kind = await failure(ow.actions.create({ name: 'k', action: { exec: { kind: 'cobol:1', code } } as any }));
    expect(kind.statusCode).toBe(400);
    expect(kind.message).toMatch(/not supported by this platform/);
  });

  it('invokes blocking (full record, or the result alone) and non-blocking', async () => {
    await ow.actions.create({ name: 'greet', action: code, params: { name: 'default' } });
    const record = (await ow.actions.invoke({ name: 'greet', blocking: true, params: { name: 'npm' } })) as any;
    expect(record.response).toMatchObject({ status: 'success', success: true, result: { msg: 'hello npm' } });
    expect(record.activationId).toMatch(/^[0-9a-f]{32}$/);
    expect(await ow.actions.invoke({ name: 'greet', blocking: true, result: true })).toEqual({ msg: 'hello default' });
    const queued = (await ow.actions.invoke({ name: 'greet' })) as any;
    expect(queued.activationId).toMatch(/^[0-9a-f]{32}$/);
    const stored = await waitFor(() => ow.activations.get({ name: queued.activationId }));
    expect((stored as any).response.result).toEqual({ msg: 'hello default' });
  });
});

describe('packages and bindings', () => {
  it('creates a package with an action, binds it, and deletes with force semantics', async () => {
    const pkg = (await ow.packages.create({ name: 'tools', package: { parameters: [{ key: 'a', value: 1 }] } })) as any;
    expect(pkg).toMatchObject({ name: 'tools', binding: {} });
    await ow.actions.create({ name: 'tools/echo', action: code });
    const bound = (await ow.packages.create({
      name: 'mytools',
      package: { binding: { namespace: 'guest', name: 'tools' }, parameters: [{ key: 'b', value: 2 }] },
    })) as any;
    expect(bound.binding).toEqual({ namespace: 'guest', name: 'tools' });

    const got = (await ow.packages.get({ name: 'mytools' })) as any;
    expect(got.parameters).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(got.actions.map((a: { name: string }) => a.name)).toEqual(['echo']);

    const list = (await ow.packages.list()) as any[];
    expect(list.map((p) => [p.name, p.binding])).toEqual(
      expect.arrayContaining([['tools', false], ['mytools', { namespace: 'guest', name: 'tools' }]]),
    );
    const updated = (await ow.packages.update({ name: 'tools', package: { publish: true } })) as any;
    expect(updated.version).toBe('0.0.2');
    expect(updated.publish).toBe(true);

    const notEmpty = await failure(ow.packages.delete({ name: 'tools' }));
    expect(notEmpty.statusCode).toBe(409);
    expect(notEmpty.message).toMatch(/Package not empty \(contains 1 entity\)/);
    await ow.packages.delete({ name: 'mytools' });
    await ow.actions.delete({ name: 'tools/echo' });
    await ow.packages.delete({ name: 'tools' });
    expect((await failure(ow.packages.get({ name: 'tools' }))).statusCode).toBe(404);
  });

  it('refuses a binding to a missing package and the reserved name default', async () => {
    const missing = await failure(ow.packages.create({ name: 'b2', package: { binding: { namespace: 'guest', name: 'nope' } } }));
    expect(missing.statusCode).toBe(400);
    expect(missing.message).toMatch(/Binding references a package that does not exist/);
    expect((await failure(ow.packages.create({ name: 'default' }))).statusCode).toBe(400);
  });
});

describe('triggers and rules', () => {
  it('creates, gets, lists, updates and deletes triggers and rules, with rule status', async () => {
    await ow.actions.create({ name: 'target', action: code });
    const t = (await ow.triggers.create({ name: 'tick', trigger: { parameters: [{ key: 'p', value: 'q' }] } })) as any;
    expect(t).toMatchObject({ name: 'tick', version: '0.0.1', parameters: [{ key: 'p', value: 'q' }] });

    const rule = (await ow.rules.create({ name: 'onTick', action: 'target', trigger: 'tick' })) as any;
    expect(rule).toMatchObject({ name: 'onTick', status: 'active', trigger: { path: 'guest', name: 'tick' }, action: { path: 'guest', name: 'target' } });
    expect(((await ow.triggers.get({ name: 'tick' })) as any).rules).toEqual({
      'guest/onTick': { action: { path: 'guest', name: 'target' }, status: 'active' },
    });

    await ow.rules.disable({ name: 'onTick' });
    expect(((await ow.rules.get({ name: 'onTick' })) as any).status).toBe('inactive');
    await ow.rules.enable({ name: 'onTick' });
    expect(((await ow.rules.get({ name: 'onTick' })) as any).status).toBe('active');
    expect(((await ow.rules.list()) as any[]).map((r) => r.name)).toEqual(['onTick']);
    expect(((await ow.triggers.list()) as any[]).map((r) => r.name)).toEqual(['tick']);

    const updated = (await ow.triggers.update({ name: 'tick', trigger: { parameters: [{ key: 'n', value: 1 }] } })) as any;
    expect(updated.parameters).toEqual([{ key: 'n', value: 1 }]);
    expect(updated.rules['guest/onTick'].status).toBe('active');

    const missing = await failure(ow.rules.create({ name: 'r2', action: 'nope', trigger: 'tick' }));
    expect(missing.statusCode).toBe(400);
    expect(missing.message).toMatch(/action \/guest\/nope does not exist/);

    const clash = await failure(ow.triggers.create({ name: 'target' }));
    expect(clash.statusCode).toBe(409);
    expect(clash.message).toMatch(/Resource by this name exists but is not in this collection/);

    const deletedRule = (await ow.rules.delete({ name: 'onTick' })) as any;
    expect(deletedRule.status).toBe('inactive');
    await ow.triggers.delete({ name: 'tick' });
    expect((await failure(ow.triggers.get({ name: 'tick' }))).statusCode).toBe(404);
  });

  it('fires a trigger into its rule, and answers 204 when no rule is active', async () => {
    await ow.triggers.create({ name: 'fire-me', trigger: { parameters: [{ key: 'name', value: 'trigger' }] } });
    expect(Buffer.isBuffer(await ow.triggers.invoke({ name: 'fire-me' }))).toBe(true); // 204: the client returns an empty Buffer
    await ow.actions.create({ name: 'on-fire', action: code });
    await ow.rules.create({ name: 'fire-rule', trigger: 'fire-me', action: 'on-fire' });
    const fired = (await ow.triggers.invoke({ name: 'fire-me', params: { name: 'payload' } })) as any;
    expect(fired.activationId).toMatch(/^[0-9a-f]{32}$/);
    const triggerRecord = (await waitFor(() => ow.activations.get({ name: fired.activationId }))) as any;
    const outcome = JSON.parse(triggerRecord.logs[0]);
    expect(outcome).toMatchObject({ statusCode: 0, success: true, rule: 'guest/fire-rule', action: 'guest/on-fire' });
    const actionRecord = (await waitFor(() => ow.activations.get({ name: outcome.activationId }))) as any;
    expect(actionRecord.response.result).toEqual({ msg: 'hello payload' });
  });
});

describe('activations and auth', () => {
  it('lists activations and validates ids', async () => {
    expect(((await ow.activations.list()) as any[]).length).toBeGreaterThan(0);
    const bad = await failure(ow.activations.get({ name: 'not-an-id' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.message).toMatch(/Activation id length is 9 but must be 32/);
    expect((await failure(ow.activations.get({ name: '0'.repeat(32) }))).statusCode).toBe(404);
  });

  it('refuses a wrong key', async () => {
    const [uuid] = wh.guestAuth.split(':');
    const wrong = openwhisk({ apihost: wh.apiHost, api_key: `${uuid}:${'x'.repeat(64)}` });
    const res = await failure(wrong.actions.list());
    expect(res.statusCode).toBe(401);
    expect(res.message).toMatch(/The supplied authentication is invalid/);
  });
});
