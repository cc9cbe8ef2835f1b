import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { http } from '../support/controller-harness.js';
import { startStandaloneProcess } from '../support/standalone-process.js';

/**
 * Standalone killed with SIGKILL right after answering 202 to a batch of fires: after a restart on
 * the same data, every accepted fire fans out (a trigger record with the rule's activation, and
 * that activation's record). Actions append to a file so the test can see each one ran.
 */
describe('durable fan-out across a crash (standalone)', () => {
  it('fans out every accepted fire after a SIGKILL and a restart', async () => {
    const env = {
      WHISKHUB_CONTAINER_FACTORY: 'process',
      WHISKHUB_LIMIT_FIRES_PER_MINUTE: '100000',
      WHISKHUB_LIMIT_INVOCATIONS_PER_MINUTE: '100000',
      WHISKHUB_LIMIT_CONCURRENT_INVOCATIONS: '100000',
    };
    const runs = join(mkdtempSync(join(tmpdir(), 'whiskhub-runs-')), 'runs.log');
    let wh = await startStandaloneProcess({ env });
    const api = (method: string, path: string, body?: unknown) =>
      http(wh.apiHost, method, `/api/v1/namespaces/_${path}`, { auth: wh.guestAuth, body });
    const code = `const fs = require('fs');
      function main(p) { return new Promise((r) => setTimeout(() => { fs.appendFileSync(${JSON.stringify(runs)}, p.i + '\\n'); r({ i: p.i }); }, 300)); }`;
    await api('PUT', '/actions/slow', { exec: { kind: 'nodejs:default', code } });
    await api('PUT', '/triggers/crash');
    await api('PUT', '/rules/crash-rule', { trigger: '/_/crash', action: '/_/slow' });

    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => api('POST', '/triggers/crash', { i })));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(await wh.stop('SIGKILL')).toBe(null);
    const ranBefore = existsSync(runs) ? readFileSync(runs, 'utf8').trim().split('\n').length : 0;

    wh = await startStandaloneProcess({ dataDir: wh.dataDir, env });
    try {
      const fireIds = answers.map((a) => a.body.activationId as string);
      const deadline = Date.now() + 90_000;
      let traced: { rules: { activation?: { status: string } }[]; state: string }[] = [];
      for (;;) {
        traced = (await Promise.all(fireIds.map((id) => api('GET', `/activations/${id}/trace`)))).map((t) => t.body);
        const finished = traced.filter((t) => t?.state === 'done' && t.rules[0]?.activation?.status === 'success').length;
        if (finished === fireIds.length) break;
        if (Date.now() > deadline) throw new Error(`only ${finished} of ${fireIds.length} fires fanned out after the restart (${ranBefore} ran before the kill)`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const ran = readFileSync(runs, 'utf8').trim().split('\n').map(Number);
      // Every fire's action ran; only an action cut off by the kill itself may have run twice.
      expect(new Set(ran).size).toBe(200);
      expect(ran.length - 200).toBeLessThanOrEqual(ranBefore === 200 ? 0 : 200 - ranBefore);
      expect((await api('GET', '/activations?count=true&name=crash')).body.activations).toBe(200);
      expect((await api('GET', '/activations?count=true&name=slow')).body.activations).toBe(200);
    } finally {
      await wh.stop();
    }
  }, 180_000);
});
