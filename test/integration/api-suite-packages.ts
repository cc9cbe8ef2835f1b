import { describe, expect, it } from 'vitest';
import { expectError, expectOk, forbiddenText, nextMillisecond, type ApiSession } from './api-support.js';

const kv = (list: { key: string; value: unknown }[]) => Object.fromEntries(list.map((p) => [p.key, p.value]));

/** Checklist 23, 29–31, 33, 34, and sharing public packages across namespaces. */
export function describePackages(s: ApiSession): void {
  describe('packages', () => {
    it('creates, reads with actions and feeds, updates wholesale, and deletes', async () => {
      const name = s.uniq('pkg');
      const created = await s.put(`/namespaces/_/packages/${name}`, {
        parameters: [{ key: 'a', value: 1 }],
        annotations: [{ key: 'x', value: 'y' }],
      });
      expect(created).toMatchObject({ namespace: 'guest', name, version: '0.0.1', publish: false, binding: {}, parameters: [{ key: 'a', value: 1 }] });
      expect(typeof created.updated).toBe('number');
      await s.createAction('_', `${name}/act`);
      await s.createAction('_', `${name}/feedact`, { annotations: [{ key: 'feed', value: true }] });
      const got = expectOk(await s.call('GET', `/namespaces/_/packages/${name}`));
      expect(got.actions.map((a: any) => a.name)).toEqual(['act']);
      expect(got.feeds.map((a: any) => a.name)).toEqual(['feedact']);
      expect(Object.keys(got.actions[0]).sort()).toEqual(['annotations', 'name', 'version']);
      const up = expectOk(
        await s.call('PUT', `/namespaces/_/packages/${name}?overwrite=true`, { body: { annotations: [{ key: 'z', value: 2 }], publish: true } }),
      );
      expect(up).toMatchObject({ version: '0.0.2', publish: true, annotations: [{ key: 'z', value: 2 }], parameters: [{ key: 'a', value: 1 }] });
      expectError(await s.call('PUT', `/namespaces/_/packages/${name}`, { body: {} }), 409, 'resource already exists');
    });

    it('reserves the name default (23)', async () => {
      expectError(await s.call('PUT', '/namespaces/_/packages/default', { body: {} }), 400, "Package name 'default' is reserved.");
    });

    it("words a missing own package with its name", async () => {
      const name = s.uniq('nopkg');
      expectError(await s.call('GET', `/namespaces/_/packages/${name}`), 404, `The requested resource 'guest/${name}' does not exist.`);
      expectError(await s.call('DELETE', `/namespaces/_/packages/${name}`), 404);
    });

    it('refuses to delete a non-empty package unless forced (29)', async () => {
      const name = s.uniq('full');
      await s.put(`/namespaces/_/packages/${name}`, {});
      await s.createAction('_', `${name}/one`);
      await s.createAction('_', `${name}/two`);
      expectError(
        await s.call('DELETE', `/namespaces/_/packages/${name}`),
        409,
        'Package not empty (contains 2 entities). Set force param or delete package contents.',
      );
      const deleted = expectOk(await s.call('DELETE', `/namespaces/_/packages/${name}?force=true`));
      expect(deleted).toMatchObject({ name, binding: {} });
      expectError(await s.call('GET', `/namespaces/_/actions/${name}/one`), 404);
      expectError(await s.call('GET', `/namespaces/_/packages/${name}`), 404);
      // Recreating the package does not bring the actions back.
      await s.put(`/namespaces/_/packages/${name}`, {});
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${name}/`))).toEqual([]);
    });

    it('answers 405 to POST on a package', async () => {
      const name = s.uniq('post');
      await s.put(`/namespaces/_/packages/${name}`, {});
      expectError(await s.call('POST', `/namespaces/_/packages/${name}`, { body: {} }), 405);
    });

    it('lists packages newest first with binding false or the target, and counts', async () => {
      const a = s.uniq('la');
      await s.put(`/namespaces/_/packages/${a}`, { parameters: [{ key: 'hidden', value: 1 }] });
      await nextMillisecond();
      const b = s.uniq('lb');
      await s.put(`/namespaces/_/packages/${b}`, { binding: { namespace: '_', name: a } });
      const list = expectOk(await s.call('GET', '/namespaces/_/packages?limit=0'));
      const names = list.map((p: any) => p.name);
      expect(names.indexOf(b)).toBeLessThan(names.indexOf(a));
      const pa = list.find((p: any) => p.name === a);
      const pb = list.find((p: any) => p.name === b);
      expect(pa.binding).toBe(false);
      expect(pb.binding).toEqual({ namespace: 'guest', name: a });
      expect(Object.keys(pa).sort()).toEqual(['annotations', 'binding', 'name', 'namespace', 'publish', 'updated', 'version']);
      const count = expectOk(await s.call('GET', '/namespaces/_/packages?count=true'));
      expect(count.packages).toBe(list.length);
    });
  });

  describe('bindings', () => {
    it('keeps the binding annotation server-side: set on bindings, kept on update, dropped from packages', async () => {
      const target = s.uniq('keep');
      const plain = await s.put(`/namespaces/_/packages/${target}`, { annotations: [{ key: 'binding', value: 'forged' }, { key: 'x', value: 1 }] });
      expect(plain.annotations).toEqual([{ key: 'x', value: 1 }]);
      const name = s.uniq('keepb');
      await s.put(`/namespaces/_/packages/${name}`, { binding: { namespace: '_', name: target }, annotations: [{ key: 'binding', value: 'forged' }] });
      const up = expectOk(await s.call('PUT', `/namespaces/_/packages/${name}?overwrite=true`, { body: { annotations: [{ key: 'y', value: 2 }] } }));
      expect(up.binding).toEqual({ namespace: 'guest', name: target });
      expect(kv(up.annotations)).toEqual({ y: 2, binding: { namespace: 'guest', name: target } });
      const got = expectOk(await s.call('GET', `/namespaces/_/packages/${name}`));
      expect(kv(got.annotations)).toEqual({ y: 2, binding: { namespace: 'guest', name: target } });
    });

    it('answers 404 for a binding whose own target is gone', async () => {
      const target = s.uniq('gone');
      await s.put(`/namespaces/_/packages/${target}`, {});
      await s.createAction('_', `${target}/act`);
      const name = s.uniq('orphan');
      await s.put(`/namespaces/_/packages/${name}`, { binding: { namespace: '_', name: target } });
      expectOk(await s.call('DELETE', `/namespaces/_/packages/${target}?force=true`));
      expectError(await s.call('GET', `/namespaces/_/packages/${name}`), 404);
      expectError(await s.call('GET', `/namespaces/_/actions/${name}/act`), 404);
      expect(expectOk(await s.call('DELETE', `/namespaces/_/packages/${name}`)).name).toBe(name);
    });

    it('binds to an own package: merged parameters, target actions, binding annotation (31)', async () => {
      const target = s.uniq('target');
      await s.put(`/namespaces/_/packages/${target}`, { parameters: [{ key: 'a', value: 1 }, { key: 'b', value: 1 }] });
      await s.createAction('_', `${target}/act`, { parameters: [{ key: 'c', value: 3 }] });
      const name = s.uniq('bind');
      const created = await s.put(`/namespaces/_/packages/${name}`, { binding: { namespace: '_', name: target }, parameters: [{ key: 'b', value: 2 }] });
      expect(created.binding).toEqual({ namespace: 'guest', name: target });
      expect(kv(created.annotations).binding).toEqual({ namespace: 'guest', name: target });
      const got = expectOk(await s.call('GET', `/namespaces/_/packages/${name}`));
      expect(got).toMatchObject({ namespace: 'guest', name, binding: { namespace: 'guest', name: target } });
      expect(kv(got.parameters)).toEqual({ a: 1, b: 2 });
      expect(got.actions.map((a: any) => a.name)).toEqual(['act']);
      const act = expectOk(await s.call('GET', `/namespaces/_/actions/${name}/act`));
      expect(kv(act.parameters)).toEqual({ a: 1, b: 2, c: 3 });
      expect(kv(act.annotations).binding).toBe(`guest/${name}`);
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${name}/`)).map((a: any) => a.name)).toEqual(['act']);
    });

    it('refuses bad binding targets (30)', async () => {
      const put = (binding: unknown, name = s.uniq('bad')) => s.call('PUT', `/namespaces/_/packages/${name}`, { body: { binding } });
      expectError(await put({ namespace: '_', name: s.uniq('ghost') }), 400, 'Binding references a package that does not exist.');
      const action = s.uniq('notpkg');
      await s.createAction('_', action);
      expectError(await put({ namespace: 'guest', name: action }), 409, 'Cannot bind to a resource that is not a package.');
      const real = s.uniq('real');
      await s.put(`/namespaces/_/packages/${real}`, {});
      const b1 = s.uniq('b1');
      await s.put(`/namespaces/_/packages/${b1}`, { binding: { namespace: '_', name: real } });
      expectError(await put({ namespace: '_', name: b1 }), 400, 'Cannot bind to another package binding.');
      const convert = await s.call('PUT', `/namespaces/_/packages/${real}?overwrite=true`, { body: { binding: { namespace: '_', name: b1 } } });
      expectError(convert, 400);
      const other = s.uniq('real2');
      await s.put(`/namespaces/_/packages/${other}`, {});
      const toBinding = await s.call('PUT', `/namespaces/_/packages/${real}?overwrite=true`, { body: { binding: { namespace: '_', name: other } } });
      expectError(toBinding, 409, 'Resource is a package and cannot be converted into a binding.');
      expectError(await put('guest/x'), 400);
      expectError(await put({ namespace: '_' }), 400);
      expectError(await put({ namespace: '_', name: '%bad' }), 400);
    });

    it('refuses actions created, updated or deleted in a binding (34)', async () => {
      const target = s.uniq('t34');
      await s.put(`/namespaces/_/packages/${target}`, {});
      await s.createAction('_', `${target}/act`);
      const name = s.uniq('b34');
      await s.put(`/namespaces/_/packages/${name}`, { binding: { namespace: '_', name: target } });
      const msg = 'Operation not permitted on package binding.';
      expectError(await s.call('PUT', `/namespaces/_/actions/${name}/new`, { body: { exec: { kind: 'nodejs:20', code: 'x' } } }), 400, msg);
      expectError(await s.call('PUT', `/namespaces/_/actions/${name}/act?overwrite=true`, { body: {} }), 400, msg);
      expectError(await s.call('DELETE', `/namespaces/_/actions/${name}/act`), 400, msg);
      // A binding deletes freely, and its target keeps its action.
      expect(expectOk(await s.call('DELETE', `/namespaces/_/packages/${name}`)).binding).toEqual({ namespace: 'guest', name: target });
      expectOk(await s.call('GET', `/namespaces/_/actions/${target}/act`));
    });
  });

  describe('public packages across namespaces (33)', () => {
    it("shares other's public package: list, get, bind, read actions through the binding", async () => {
      const pub = s.uniq('pub');
      const priv = s.uniq('priv');
      const otherBinding = s.uniq('obind');
      await s.put(`/namespaces/_/packages/${pub}`, { publish: true, parameters: [{ key: 'p', value: 'pkg' }, { key: 'q', value: 'pkg' }] }, s.running.other);
      await s.createAction('_', `${pub}/shared`, { parameters: [{ key: 'a', value: 'action' }] }, s.running.other);
      await s.put(`/namespaces/_/packages/${priv}`, {}, s.running.other);
      await s.createAction('_', `${priv}/hidden`, {}, s.running.other);
      await s.put(`/namespaces/_/packages/${otherBinding}`, { publish: true, binding: { namespace: '_', name: pub } }, s.running.other);

      // Listing another namespace's packages shows only public non-bindings.
      const listed = expectOk(await s.call('GET', '/namespaces/other/packages?limit=0')).map((p: any) => p.name);
      expect(listed).toContain(pub);
      expect(listed).not.toContain(priv);
      expect(listed).not.toContain(otherBinding);
      const counted = expectOk(await s.call('GET', '/namespaces/other/packages?count=true'));
      expect(counted).toEqual({ packages: listed.length });
      // The owner sees all three.
      const own = expectOk(await s.asOther('GET', '/namespaces/_/packages?limit=0')).map((p: any) => p.name);
      expect(own).toEqual(expect.arrayContaining([pub, priv, otherBinding]));

      // GET: public yes; private, foreign bindings and missing ones are 403.
      const got = expectOk(await s.call('GET', `/namespaces/other/packages/${pub}`));
      expect(got.actions.map((a: any) => a.name)).toEqual(['shared']);
      expectError(await s.call('GET', `/namespaces/other/packages/${priv}`), 403, forbiddenText(`other/${priv}`));
      expectError(await s.call('GET', `/namespaces/other/packages/${otherBinding}`), 403);
      const ghost = s.uniq('ghost');
      expectError(await s.call('GET', `/namespaces/other/packages/${ghost}`), 403, forbiddenText(`other/${ghost}`));

      // Actions of a public package are readable; of a private one, not.
      expect(expectOk(await s.call('GET', `/namespaces/other/actions/${pub}/shared`)).namespace).toBe(`other/${pub}`);
      // Entitlement to an action in a package is entitlement to the package, which the 403 names.
      expectError(await s.call('GET', `/namespaces/other/actions/${priv}/hidden`), 403, forbiddenText(`other/${priv}`));
      expectError(await s.call('GET', `/namespaces/other/actions/${ghost}/hidden`), 403, forbiddenText(`other/${ghost}`));
      expectError(await s.call('GET', `/namespaces/other/actions/${pub}/nope`), 404);
      expectError(await s.call('GET', `/namespaces/other/actions/${otherBinding}/shared`), 403);

      // Bind from guest and read through the binding.
      const mine = s.uniq('mine');
      const bound = await s.put(`/namespaces/_/packages/${mine}`, { binding: { namespace: 'other', name: pub }, parameters: [{ key: 'q', value: 'binding' }] });
      expect(bound.binding).toEqual({ namespace: 'other', name: pub });
      const viaBinding = expectOk(await s.call('GET', `/namespaces/_/packages/${mine}`));
      expect(kv(viaBinding.parameters)).toEqual({ p: 'pkg', q: 'binding' });
      expect(viaBinding.actions.map((a: any) => a.name)).toEqual(['shared']);
      const act = expectOk(await s.call('GET', `/namespaces/_/actions/${mine}/shared`));
      expect(act).toMatchObject({ namespace: `other/${pub}`, name: 'shared' });
      expect(kv(act.parameters)).toEqual({ p: 'pkg', q: 'binding', a: 'action' });
      expect(kv(act.annotations).binding).toBe(`guest/${mine}`);
      expect(expectOk(await s.call('GET', `/namespaces/_/actions/${mine}/`)).map((a: any) => a.name)).toEqual(['shared']);

      // No binding to private or missing foreign packages; no writes into other's packages.
      expectError(await s.call('PUT', `/namespaces/_/packages/${s.uniq('b')}`, { body: { binding: { namespace: 'other', name: priv } } }), 403, forbiddenText(`other/${priv}`));
      expectError(await s.call('PUT', `/namespaces/_/packages/${s.uniq('b')}`, { body: { binding: { namespace: 'other', name: ghost } } }), 403);
      expectError(await s.call('PUT', `/namespaces/other/actions/${pub}/mine`, { body: { exec: { kind: 'nodejs:20', code: 'x' } } }), 403);
      expectError(await s.call('DELETE', `/namespaces/other/actions/${pub}/shared`), 403);
      expectError(await s.call('PUT', `/namespaces/other/packages/${pub}?overwrite=true`, { body: {} }), 403, forbiddenText(`other/${pub}`));
      expectError(await s.call('DELETE', `/namespaces/other/packages/${pub}`), 403, forbiddenText(`other/${pub}`));
      // A public package's actions list for everyone (READ on the package); the namespace's
      // whole action collection, and private packages, stay the owner's.
      expect(expectOk(await s.call('GET', `/namespaces/other/actions/${pub}/`)).map((a: any) => a.name)).toEqual(['shared']);
      expect(expectOk(await s.call('GET', `/namespaces/other/actions/${pub}/?count=true`))).toEqual({ actions: 1 });
      expectError(await s.call('GET', `/namespaces/other/actions/${priv}/`), 403, forbiddenText(`other/${priv}`));
      expectError(await s.call('GET', `/namespaces/other/actions/${otherBinding}/`), 403);
      expectError(await s.call('GET', `/namespaces/other/actions/${ghost}/`), 403, forbiddenText(`other/${ghost}`));
      expectError(await s.call('GET', '/namespaces/other/actions'), 403, forbiddenText('other'));

      // Once unpublished, the binding no longer reaches the package or its actions.
      await s.put(`/namespaces/_/packages/${pub}?overwrite=true`, { publish: false }, s.running.other);
      expectError(await s.call('GET', `/namespaces/_/actions/${mine}/shared`), 403);
      expectError(await s.call('GET', `/namespaces/other/packages/${pub}`), 403);
      expectError(await s.call('GET', `/namespaces/other/actions/${pub}/`), 403);
      expectError(await s.call('GET', `/namespaces/_/packages/${mine}`), 403, forbiddenText(`guest/${mine}`));
      expectError(await s.call('GET', `/namespaces/_/actions/${mine}/`), 403, forbiddenText(`guest/${mine}`));
      // The binding itself can still be deleted by its owner.
      expect(expectOk(await s.call('DELETE', `/namespaces/_/packages/${mine}`)).name).toBe(mine);
    });
  });
}
