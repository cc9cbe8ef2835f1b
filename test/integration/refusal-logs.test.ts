import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startController, type RunningController } from '../support/controller-harness.js';

/**
 * What the controller logs when it refuses a request: a read that finds nothing is routine
 * (clients look before they create; the catalog installer does at every start) and stays out of
 * the info log; other refusals are logged at info with their reason, never with the caller's key.
 */
describe('refusal logs', () => {
  const lines: { level: number; msg: string; status?: number; reason?: string }[] = [];
  const raw: string[] = [];
  let c: RunningController;

  beforeAll(async () => {
    c = await startController('embedded', { WHISKHUB_LOG_LEVEL: 'info' }, {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line));
      },
    });
  });
  afterAll(() => c.close());

  const refused = () => lines.filter((l) => l.msg === 'request refused');

  it('does not log a GET that finds nothing at info', async () => {
    const res = await http(c.baseUrl, 'GET', '/api/v1/namespaces/_/actions/missing', { auth: c.guest });
    expect(res.status).toBe(404);
    expect(refused()).toEqual([]);
  });

  it('logs other refusals at info with their status and reason, without the key', async () => {
    const del = await http(c.baseUrl, 'DELETE', '/api/v1/namespaces/_/actions/missing', { auth: c.guest });
    expect(del.status).toBe(404);
    const bad = await http(c.baseUrl, 'PUT', '/api/v1/namespaces/_/actions/x', { auth: c.guest, rawBody: '{"exec": {' });
    expect(bad.status).toBe(400);
    expect(refused().map((l) => [l.level, l.status])).toEqual([
      [30, 404],
      [30, 400],
    ]);
    expect(refused()[1].reason).toMatch(/malformed/);
    const key = c.guest.split(':')[1];
    expect(raw.some((l) => l.includes(key))).toBe(false);
  });
});
