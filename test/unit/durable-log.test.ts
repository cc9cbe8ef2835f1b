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
});
