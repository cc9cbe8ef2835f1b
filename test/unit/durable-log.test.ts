import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurableLog } from '../../src/store/embedded/durable-log.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'whiskhub-log-')), 'x.log');

/** Opens a log and answers the records it holds. */
async function readAll<R>(log: DurableLog<R>): Promise<R[]> {
  const out: R[] = [];
  await log.open((r) => out.push(r));
  return out;
}

/** The numbers in the log at `path`, as a process opening it afresh reads them. */
async function numbersIn(path: string): Promise<number[]> {
  const again = new DurableLog<{ n: number }>(path);
  try {
    return (await readAll(again)).map((r) => r.n);
  } finally {
    await again.close();
  }
}

const upTo = (count: number) => Array.from({ length: count }, (_, n) => n);

describe('durable log', () => {
  it('groups concurrent appends and reads them back in order', async () => {
    const path = tmp();
    const log = new DurableLog<{ n: number }>(path);
    await readAll(log);
    await Promise.all(upTo(100).map((n) => log.append([{ n }])));
    await log.close();
    expect(await numbersIn(path)).toEqual(upTo(100));
  });

  it('keeps the order of appends made while earlier batches are still being written and synced', async () => {
    const path = tmp();
    const log = new DurableLog<{ n: number }>(path);
    await readAll(log);
    const appended: Promise<void>[] = [];
    const resolvedOrder: number[] = [];
    for (let n = 0; n < 300; n++) {
      appended.push(log.append([{ n }]).then(() => void resolvedOrder.push(n)));
      if (n % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(appended);
    expect(resolvedOrder).toHaveLength(300);
    await log.close();
    expect(await numbersIn(path)).toEqual(upTo(300));
  });

  it('ignores a torn last line left by a crash, but refuses corruption in the middle', async () => {
    const path = tmp();
    const log = new DurableLog<{ n: number }>(path);
    await readAll(log);
    await log.append([{ n: 1 }, { n: 2 }]);
    await log.close();
    appendFileSync(path, '{"n":3');
    expect(await numbersIn(path)).toEqual([1, 2]);
    appendFileSync(path, '\n{"n":4}\n');
    await expect(new DurableLog(path).open(() => undefined)).rejects.toThrow(/corrupt record at line 3/);
  });

  it('compacts by rewriting atomically', async () => {
    const path = tmp();
    const log = new DurableLog<{ n: number }>(path);
    await readAll(log);
    await log.append([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await log.rewriteLines(['{"n":3}\n']);
    await log.append([{ n: 4 }]);
    await log.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toEqual(['{"n":3}', '{"n":4}']);
  });

  it('takes appends while a rewrite copies its snapshot, and keeps them in the new log after it', async () => {
    const path = tmp();
    const log = new DurableLog<{ n: number }>(path);
    await readAll(log);
    await log.append([{ n: 1 }]);
    // A snapshot of 16 MB: sixteen megabyte writes, each a point where the event loop serves others.
    const big = `{"n":0,"pad":"${'x'.repeat(1000)}"}\n`;
    function* snapshot() {
      for (let i = 0; i < 16_000; i++) yield big;
    }
    let rewritten = false;
    const rewrite = log.rewriteLines(snapshot()).then(() => (rewritten = true));
    await new Promise((r) => setImmediate(r));
    // Durable (in the old log) before the copy is over: appends no longer wait for it.
    await log.append([{ n: 2 }]);
    expect(rewritten).toBe(false);
    await log.append([{ n: 3 }]);
    await rewrite;
    const late = log.append([{ n: 4 }]); // after the switch: straight into the new log
    await late;
    await log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(16_003);
    expect(lines.slice(-3)).toEqual(['{"n":2}', '{"n":3}', '{"n":4}']);
    expect(lines.slice(0, 16_000).every((l) => l === big.trim())).toBe(true);
    // And read back after a restart, in that order.
    expect((await numbersIn(path)).slice(-3)).toEqual([2, 3, 4]);
  });

  it('leaves the old log whole when a rewrite fails, appends made during it included', async () => {
    const path = tmp();
    const log = new DurableLog<{ n: number }>(path);
    await readAll(log);
    await log.append([{ n: 1 }]);
    function* failing() {
      yield `{"n":0,"pad":"${'x'.repeat(2 << 20)}"}\n`;
      throw new Error('snapshot failed');
    }
    const rewrite = log.rewriteLines(failing());
    const during = log.append([{ n: 2 }]);
    await expect(rewrite).rejects.toThrow('snapshot failed');
    await during;
    await log.append([{ n: 3 }]);
    await log.close();
    expect(await numbersIn(path)).toEqual([1, 2, 3]);
  });
});
