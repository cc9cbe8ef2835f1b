import { describe, expect, it } from 'vitest';
import { expectError, expectOk, forbiddenText, nextMillisecond, NOT_FOUND, type ApiSession } from './api-support.js';

const kv = (list: { key: string; value: unknown }[]) => Object.fromEntries(list.map((p) => [p.key, p.value]));

/** Triggers (17, 22, 25, 26) and rules (56–61). */
export function describeTriggersAndRules(s: ApiSession): void {
  describe('triggers', () => {
    it('creates, reads, updates wholesale (17) and deletes (25)', async () => {
      const name = s.uniq('trig');
      const created = await s.put(`/namespaces/_/triggers/${name}`, {
        parameters: [{ key: 'a', value: 1 }],
        annotations: [{ key: 'x', value: 1 }, { key: 'y', value: 2 }],
      });
      expect(created).toMatchObject({ namespace: 'guest', name, version: '0.0.1', publish: false, limits: {}, parameters: [{ key: 'a', value: 1 }] });
      expect(created).not.toHaveProperty('rules');
      expect(typeof created.updated).toBe('number');
      expect(expectOk(await s.call('GET', `/namespaces/_/triggers/${name}`))).toEqual(created);
      expectError(await s.call('PUT', `/namespaces/_/triggers/${name}`, { body: {} }), 409, 'resource already exists');
      const up = expectOk(await s.call('PUT', `/namespaces/_/triggers/${name}?overwrite=true`, { body: { annotations: [{ key: 'y', value: 3 }] } }));
      expect(up.version).toBe('0.0.2');
      expect(up.annotations).toEqual([{ key: 'y', value: 3 }]);
      expect(up.parameters).toEqual([{ key: 'a', value: 1 }]);
      const deleted = expectOk(await s.call('DELETE', `/namespaces/_/triggers/${name}`));
      expect(deleted).toMatchObject({ name, version: '0.0.2' });
      expectError(await s.call('DELETE', `/namespaces/_/triggers/${name}`), 404, NOT_FOUND);
      expectError(await s.call('GET', `/namespaces/_/triggers/${name}`), 404, NOT_FOUND);
    });

    it('checks a feed annotation', async () => {
      const ok = await s.put(`/namespaces/_/triggers/${s.uniq('feed')}`, { annotations: [{ key: 'feed', value: '/whisk.system/alarms/alarm' }] });
      expect(kv(ok.annotations).feed).toBe('/whisk.system/alarms/alarm');
      for (const feed of ['nope', '/a/b/c/d', 42, '/a/$b']) {
        const res = await s.call('PUT', `/namespaces/_/triggers/${s.uniq('feed')}`, { body: { annotations: [{ key: 'feed', value: feed }] } });
        expectError(res, 400, 'Feed name is not valid');
      }
    });

    it('lists summaries newest first, with limit, skip and count', async () => {
      const first = s.uniq('lt');
      await s.put(`/namespaces/_/triggers/${first}`, { parameters: [{ key: 'p', value: 1 }] });
      await nextMillisecond();
      const second = s.uniq('lt');
      await s.put(`/namespaces/_/triggers/${second}`, {});
      const list = expectOk(await s.call('GET', '/namespaces/_/triggers?limit=2'));
      expect(list.map((t: any) => t.name)).toEqual([second, first]);
      expect(Object.keys(list[1]).sort()).toEqual(['annotations', 'name', 'namespace', 'publish', 'updated', 'version']);
      expect(expectOk(await s.call('GET', '/namespaces/_/triggers?limit=1&skip=1')).map((t: any) => t.name)).toEqual([first]);
      const count = expectOk(await s.call('GET', '/namespaces/_/triggers?count=true'));
      expect(count.triggers).toBeGreaterThanOrEqual(2);
    });

    it('answers 404 to extra path segments (20)', async () => {
      expectError(await s.call('GET', '/namespaces/_/triggers/a/b'), 404);
      expectError(await s.call('PUT', '/namespaces/_/triggers/a/b', { body: {} }), 404);
    });
  });

  describe('rules', () => {
    const setup = async () => {
      const trigger = s.uniq('rt');
      const action = s.uniq('ra');
      await s.put(`/namespaces/_/triggers/${trigger}`, {});
      await s.createAction('_', action);
      return { trigger, action, rule: s.uniq('rule') };
    };

    it('creates an active rule linked on the trigger (58), as wsk sends it', async () => {
      const { trigger, action, rule } = await setup();
      const created = await s.put(`/namespaces/_/rules/${rule}`, { name: rule, status: '', trigger: `/_/${trigger}`, action: `/_/${action}` });
      expect(created).toMatchObject({
        namespace: 'guest',
        name: rule,
        version: '0.0.1',
        publish: false,
        status: 'active',
        trigger: { path: 'guest', name: trigger },
        action: { path: 'guest', name: action },
      });
      const got = expectOk(await s.call('GET', `/namespaces/_/rules/${rule}`));
      expect(got).toMatchObject({ status: 'active', trigger: { path: 'guest', name: trigger }, action: { path: 'guest', name: action } });
      const t = expectOk(await s.call('GET', `/namespaces/_/triggers/${trigger}`));
      expect(t.rules).toEqual({ [`guest/${rule}`]: { action: { path: 'guest', name: action }, status: 'active' } });
      // Updating the trigger keeps its rules.
      const up = expectOk(await s.call('PUT', `/namespaces/_/triggers/${trigger}?overwrite=true`, { body: { parameters: [], rules: {} } }));
      expect(up.rules).toEqual(t.rules);
      expectError(await s.call('PUT', `/namespaces/_/rules/${rule}`, { body: { trigger: `/_/${trigger}`, action: `/_/${action}` } }), 409, 'resource already exists');
    });

    it('accepts object-form ends and actions in packages', async () => {
      const { trigger, rule } = await setup();
      const pkg = s.uniq('rpkg');
      await s.put(`/namespaces/_/packages/${pkg}`, {});
      await s.createAction('_', `${pkg}/act`);
      const created = await s.put(`/namespaces/_/rules/${rule}`, { trigger: { path: 'guest', name: trigger }, action: `/guest/${pkg}/act` });
      expect(created.action).toEqual({ path: `guest/${pkg}`, name: 'act' });
    });

    it('refuses missing or bare ends (56, 57)', async () => {
      const { trigger, action, rule } = await setup();
      const put = (body: unknown) => s.call('PUT', `/namespaces/_/rules/${rule}`, { body });
      const ghostT = s.uniq('ghost');
      const ghostA = s.uniq('ghost');
      expectError(await put({ trigger: `/_/${ghostT}`, action: `/_/${action}` }), 400, `trigger /guest/${ghostT} does not exist`);
      expectError(await put({ trigger: `/_/${trigger}`, action: `/_/${ghostA}` }), 400, `action /guest/${ghostA} does not exist`);
      expectError(await put({ trigger: `/_/${trigger}`, action: `/_/${trigger}` }), 400, `action /guest/${trigger} does not exist`);
      expectError(await put({ trigger: trigger, action: `/_/${action}` }), 400, /must contain at least the namespace and the name of the entity/);
      expectError(await put({ trigger: `/_/${trigger}` }), 400, 'rule requires a valid trigger and a valid action');
      expectError(await put({}), 400, 'rule requires a valid trigger and a valid action');
      expectError(await put({ trigger: 42, action: `/_/${action}` }), 400);
      expectError(await put({ trigger: { path: 42, name: trigger }, action: `/_/${action}` }), 400);
      expectError(await s.call('GET', `/namespaces/_/rules/${rule}`), 404, NOT_FOUND);
    });

    it("needs read access to both ends: another namespace's trigger or private action is 403", async () => {
      const { trigger, action, rule } = await setup();
      const theirs = s.uniq('their');
      await s.put(`/namespaces/_/triggers/${theirs}`, {}, s.running.other);
      await s.createAction('_', theirs + 'a', {}, s.running.other);
      const put = (body: unknown) => s.call('PUT', `/namespaces/_/rules/${rule}`, { body });
      expectError(await put({ trigger: `/other/${theirs}`, action: `/_/${action}` }), 403, forbiddenText(`other/${theirs}`));
      expectError(await put({ trigger: `/_/${trigger}`, action: `/other/${theirs}a` }), 403, forbiddenText(`other/${theirs}a`));
      // A published package's action is readable, so a rule may point at it.
      const pub = s.uniq('rpub');
      await s.put(`/namespaces/_/packages/${pub}`, { publish: true }, s.running.other);
      await s.createAction('_', `${pub}/act`, {}, s.running.other);
      const created = await s.put(`/namespaces/_/rules/${rule}`, { trigger: `/_/${trigger}`, action: `/other/${pub}/act` });
      expect(created).toMatchObject({ status: 'active', action: { path: `other/${pub}`, name: 'act' } });
    });

    it('toggles status with POST, as wsk sends it (59)', async () => {
      const { trigger, action, rule } = await setup();
      await s.put(`/namespaces/_/rules/${rule}`, { trigger: `/_/${trigger}`, action: `/_/${action}` });
      const off = { status: 'inactive', trigger: null, action: null };
      expect((await s.call('POST', `/namespaces/_/rules/${rule}`, { body: off })).status).toBe(200);
      expect(expectOk(await s.call('GET', `/namespaces/_/rules/${rule}`)).status).toBe('inactive');
      expect((await s.call('POST', `/namespaces/_/rules/${rule}`, { body: off })).status).toBe(200);
      expect(expectOk(await s.call('GET', `/namespaces/_/triggers/${trigger}`)).rules[`guest/${rule}`].status).toBe('inactive');
      expectError(await s.call('POST', `/namespaces/_/rules/${rule}`, { body: { status: 'paused' } }), 400);
      expectError(await s.call('POST', `/namespaces/_/rules/${rule}`, { body: {} }), 400);
      expectError(await s.call('POST', `/namespaces/_/rules/${rule}`), 400);
      expect((await s.call('POST', `/namespaces/_/rules/${rule}`, { body: { status: 'active', trigger: null, action: null } })).status).toBe(200);
      expect(expectOk(await s.call('GET', `/namespaces/_/rules/${rule}`)).status).toBe('active');
      expectError(await s.call('POST', `/namespaces/_/rules/${s.uniq('ghost')}`, { body: { status: 'active' } }), 404);
    });

    it('keeps the status across an update and moves the link to a new trigger', async () => {
      const { trigger, action, rule } = await setup();
      await s.put(`/namespaces/_/rules/${rule}`, { trigger: `/_/${trigger}`, action: `/_/${action}` });
      await s.call('POST', `/namespaces/_/rules/${rule}`, { body: { status: 'inactive' } });
      const t2 = s.uniq('rt2');
      await s.put(`/namespaces/_/triggers/${t2}`, {});
      const up = expectOk(await s.call('PUT', `/namespaces/_/rules/${rule}?overwrite=true`, { body: { trigger: `/_/${t2}` } }));
      expect(up).toMatchObject({ version: '0.0.2', status: 'inactive', trigger: { path: 'guest', name: t2 }, action: { path: 'guest', name: action } });
      expect(expectOk(await s.call('GET', `/namespaces/_/triggers/${trigger}`)).rules ?? {}).toEqual({});
      expect(expectOk(await s.call('GET', `/namespaces/_/triggers/${t2}`)).rules).toEqual({
        [`guest/${rule}`]: { action: { path: 'guest', name: action }, status: 'inactive' },
      });
    });

    it('reads inactive once the trigger is gone, and cannot be enabled then (60)', async () => {
      const { trigger, action, rule } = await setup();
      await s.put(`/namespaces/_/rules/${rule}`, { trigger: `/_/${trigger}`, action: `/_/${action}` });
      expectOk(await s.call('DELETE', `/namespaces/_/triggers/${trigger}`));
      expect(expectOk(await s.call('GET', `/namespaces/_/rules/${rule}`)).status).toBe('inactive');
      expectError(await s.call('POST', `/namespaces/_/rules/${rule}`, { body: { status: 'active' } }), 404, 'Only rules with existing triggers can be activated');
      expect(expectOk(await s.call('DELETE', `/namespaces/_/rules/${rule}`)).status).toBe('inactive');
    });

    it('deletes an active rule, returning it inactive, and unlinks it (61)', async () => {
      const { trigger, action, rule } = await setup();
      await s.put(`/namespaces/_/rules/${rule}`, { trigger: `/_/${trigger}`, action: `/_/${action}` });
      const deleted = expectOk(await s.call('DELETE', `/namespaces/_/rules/${rule}`));
      expect(deleted).toMatchObject({ name: rule, status: 'inactive', trigger: { path: 'guest', name: trigger } });
      expect(expectOk(await s.call('GET', `/namespaces/_/triggers/${trigger}`)).rules ?? {}).toEqual({});
      expectError(await s.call('DELETE', `/namespaces/_/rules/${rule}`), 404, NOT_FOUND);
    });

    it('links every rule when several are created on one trigger at once', async () => {
      const { trigger, action } = await setup();
      const rules = Array.from({ length: 6 }, () => s.uniq('crule'));
      const results = await Promise.all(
        rules.map((r) => s.call('PUT', `/namespaces/_/rules/${r}`, { body: { trigger: `/_/${trigger}`, action: `/_/${action}` } })),
      );
      for (const r of results) expectOk(r);
      const t = expectOk(await s.call('GET', `/namespaces/_/triggers/${trigger}`));
      expect(Object.keys(t.rules).sort()).toEqual(rules.map((r) => `guest/${r}`).sort());
      for (const r of rules) expect(expectOk(await s.call('GET', `/namespaces/_/rules/${r}`)).status).toBe('active');
    });

    it('lists rules without status', async () => {
      const { trigger, action, rule } = await setup();
      await s.put(`/namespaces/_/rules/${rule}`, { trigger: `/_/${trigger}`, action: `/_/${action}` });
      const list = expectOk(await s.call('GET', '/namespaces/_/rules?limit=1'));
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ namespace: 'guest', name: rule, trigger: { path: 'guest', name: trigger } });
      expect(list[0]).not.toHaveProperty('status');
      expect(list[0]).not.toHaveProperty('entityType');
      expect(expectOk(await s.call('GET', '/namespaces/_/rules?count=true')).rules).toBeGreaterThanOrEqual(1);
    });
  });
}
