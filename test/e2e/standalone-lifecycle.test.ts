import openwhisk from 'openwhisk';
import { describe, expect, it } from 'vitest';
import { runCli, startStandaloneProcess } from '../support/standalone-process.js';

const code = 'function main() { return {}; }';
const GUEST = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';

describe('whiskhub standalone as a process', () => {
  it('prints the banner, keeps data and the guest key across a SIGINT restart', async () => {
    const first = await startStandaloneProcess();
    expect(first.output()).toContain(`API host:   ${first.apiHost}`);
    expect(first.output()).toContain(`data:       ${first.dataDir}`);
    const ow = openwhisk({ apihost: first.apiHost, api_key: first.guestAuth });
    await ow.actions.create({ name: 'kept', action: code });
    await ow.triggers.create({ name: 'kept-trigger' });
    expect(await first.stop('SIGINT')).toBe(0);

    const second = await startStandaloneProcess({ dataDir: first.dataDir });
    try {
      expect(second.guestAuth).toBe(first.guestAuth);
      const ow2 = openwhisk({ apihost: second.apiHost, api_key: second.guestAuth });
      expect(((await ow2.actions.get({ name: 'kept' })) as { exec: { code: string } }).exec.code).toBe(code);
      expect(((await ow2.triggers.list()) as { name: string }[]).map((t) => t.name)).toEqual(['kept-trigger']);
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }
  });

  it('uses WHISKHUB_GUEST_AUTH for the guest namespace', async () => {
    const wh = await startStandaloneProcess({ env: { WHISKHUB_GUEST_AUTH: GUEST } });
    try {
      expect(wh.guestAuth).toBe(GUEST);
      expect(await openwhisk({ apihost: wh.apiHost, api_key: GUEST }).namespaces.list()).toEqual(['guest']);
    } finally {
      await wh.stop();
    }
  });

  it('refuses a second process on the same data directory, and bad settings, with clear errors', async () => {
    const wh = await startStandaloneProcess();
    try {
      const second = await runCli(['standalone'], { WHISKHUB_DATA_DIR: wh.dataDir, WHISKHUB_PORT: '0' });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toMatch(/data directory .* is in use by process \d+/);
    } finally {
      await wh.stop();
    }
    const bad = await runCli(['standalone'], { WHISKHUB_PORT: 'eighty' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('WHISKHUB_PORT must be a whole number');
  });
});

describe('whiskhub admin', () => {
  it('manages namespaces and keys through a running standalone, and directly when it is stopped', async () => {
    const wh = await startStandaloneProcess({ env: { WHISKHUB_AUTH_CACHE_MS: '0' } });
    const env = { WHISKHUB_DATA_DIR: wh.dataDir };
    try {
      const created = await runCli(['admin', 'user', 'create', 'alice-subject', '-n', 'alice'], env);
      expect(created.code).toBe(0);
      const key = created.stdout.trim();
      expect(key).toMatch(/^[0-9a-f-]{36}:\S{64}$/);
      expect(created.stderr).toContain(`wsk property set --apihost`);
      expect(created.stderr).toContain(`--auth ${key}`);

      const alice = openwhisk({ apihost: wh.apiHost, api_key: key });
      expect(await alice.namespaces.list()).toEqual(['alice']);
      await openwhisk({ apihost: wh.apiHost, api_key: wh.guestAuth }).actions.create({ name: 'private', action: code });
      await expect(alice.actions.get({ name: 'private', namespace: 'guest' })).rejects.toMatchObject({ statusCode: 403 });

      const list = await runCli(['admin', 'user', 'list'], env);
      expect(list.stdout).toMatch(/^alice-subject\talice\t[0-9a-f-]{36}$/m);
      expect(list.stdout).not.toContain(key.split(':')[1]);
      expect((await runCli(['admin', 'user', 'get', 'alice-subject'], env)).stdout.trim()).toBe(key);

      const dup = await runCli(['admin', 'user', 'create', 'bobby-subject', '-n', 'alice'], env);
      expect(dup.code).toBe(2);
      expect(dup.stderr).toMatch(/already belongs to another subject/);

      expect((await runCli(['admin', 'user', 'delete', 'alice-subject'], env)).code).toBe(0);
      await expect(alice.namespaces.list()).rejects.toMatchObject({ statusCode: 401 });
    } finally {
      await wh.stop();
    }
    // With nothing running, admin opens the embedded store itself.
    const direct = await runCli(['admin', 'user', 'create', 'carol-subject'], env);
    expect(direct.code).toBe(0);
    const again = await startStandaloneProcess({ dataDir: wh.dataDir });
    try {
      expect(await openwhisk({ apihost: again.apiHost, api_key: direct.stdout.trim() }).namespaces.list()).toEqual(['carol-subject']);
    } finally {
      await again.stop();
    }
  });
});
