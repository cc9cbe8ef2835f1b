import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Container, ContainerFactory, ContainerSpec } from '../../src/containers/container-factory.js';
import { ProcessContainerFactory } from '../../src/containers/process/process-container-factory.js';
import type { ProcessContainer } from '../../src/containers/process/process-container.js';
import { ContainerPool, type ContainerNeed, type Lease, type PoolSettings } from '../../src/invoker/container-pool.js';
import { createLogger } from '../../src/logging/logger.js';

/**
 * The ContainerPool over the real ProcessContainerFactory: every container is a real action
 * proxy process, so "paused" is a stopped process and "destroyed" a process that is gone.
 */
beforeAll(() => {
  execFileSync('bash', ['deploy/runtimes/build-proxy.sh'], { stdio: 'inherit', timeout: 120_000 });
}, 150_000);

const logger = createLogger('silent', 'test');
const CODE = 'function main(p) { return p.sleep ? new Promise((r) => setTimeout(() => r({ slept: p.sleep }), p.sleep)) : { pid: process.pid, n: p.n ?? 0 }; }';
const open: { pool: ContainerPool; factory: ContainerFactory }[] = [];

afterEach(async () => {
  for (const { pool, factory } of open.splice(0)) {
    await pool.close();
    await factory.close();
  }
});

function newPool(settings: Partial<PoolSettings> = {}, factory: ContainerFactory = new ProcessContainerFactory()): ContainerPool {
  const pool = new ContainerPool(
    factory,
    { memoryBudgetMB: 1024, prewarm: [], pauseAfterMs: 60_000, idleTimeoutMs: 600_000, env: {}, labels: { 'whiskhub.test': 'container-pool' }, ...settings },
    logger,
    'wh_pooltest',
  );
  open.push({ pool, factory });
  return pool;
}

const need = (actionKey: string, extra: Partial<ContainerNeed> = {}): ContainerNeed => ({ actionKey, kind: 'nodejs:20', memoryMB: 256, concurrency: 1, ...extra });

/** Runs the action once on the lease (with /init first when it needs it); resolves with the result. */
const initialized = new WeakSet<Lease>();
async function use(lease: Lease, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  if (lease.needsInit && !initialized.has(lease)) {
    initialized.add(lease);
    const init = await lease.container.init({ name: 'a', main: 'main', code: CODE, env: {} }, 5_000);
    expect(init.statusCode).toBe(200);
    lease.initialized();
  }
  const run = await lease.container.run({ value: params }, 5_000);
  expect(run.statusCode).toBe(200);
  await lease.container.collectLogs(1024 * 1024, 1_000);
  return JSON.parse(run.body) as Record<string, unknown>;
}

const pidOf = (c: Container) => (c as ProcessContainer).pid;
/** The process state letter from /proc (R, S, T = stopped), or undefined once gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
const alive = (pid: number) => {
  const s = procState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

describe('ContainerPool on process containers', () => {
  it('reuses a warm container for the same action key, and never for another action', async () => {
    const pool = newPool();
    const first = await pool.acquire(need('ns/a@1'));
    expect(first.source).toBe('cold');
    expect(first.needsInit).toBe(true);
    const r1 = await use(first);
    await first.release();
    expect(pool.stats()).toMatchObject({ warm: 1, busy: 0 });

    const again = await pool.acquire(need('ns/a@1'));
    expect(again.source).toBe('warm');
    expect(again.needsInit).toBe(false);
    expect(again.container.id).toBe(first.container.id);
    expect((await use(again, { n: 2 })).pid).toBe(r1.pid);

    const other = await pool.acquire(need('ns/b@1'));
    expect(other.source).toBe('cold');
    expect(other.container.id).not.toBe(first.container.id);
    await again.release();
    await other.release();
  });

  it('does not reuse the container of an older revision', async () => {
    const pool = newPool();
    const old = await pool.acquire(need('ns/a@1-aaa'));
    await use(old);
    await old.release();
    const updated = await pool.acquire(need('ns/a@2-bbb'));
    expect(updated.source).toBe('cold');
    expect(updated.needsInit).toBe(true);
    expect(updated.container.id).not.toBe(old.container.id);
    await updated.release();
  });

  it('lends a stem cell of the kind and memory, then makes a new one', async () => {
    const pool = newPool({ prewarm: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }] });
    await pool.start();
    expect(pool.stats()).toMatchObject({ prewarm: 1, creating: 0 });

    // Other memory: the stem cell does not fit it.
    const small = await pool.acquire(need('ns/small@1', { memoryMB: 128 }));
    expect(small.source).toBe('cold');
    await small.release();

    const claimed = await pool.acquire(need('ns/a@1'));
    expect(claimed.source).toBe('prewarm');
    expect(claimed.needsInit).toBe(true);
    await use(claimed);
    await until('a new stem cell', () => pool.stats().prewarm === 1);
    await claimed.release();
    const next = await pool.acquire(need('ns/b@1'));
    expect(next.source).toBe('prewarm');
    expect(next.container.id).not.toBe(claimed.container.id);
    await next.release();
  });

  it('pauses an idle container, and resumes it for the next activation', async () => {
    const pool = newPool({ pauseAfterMs: 100 });
    const lease = await pool.acquire(need('ns/a@1'));
    await use(lease);
    const pid = pidOf(lease.container);
    await lease.release();
    expect(procState(pid)).not.toBe('T');
    await until('paused', () => pool.stats().paused === 1);
    expect(procState(pid)).toBe('T');

    const resumed = await pool.acquire(need('ns/a@1'));
    expect(resumed.source).toBe('paused');
    expect(resumed.container.id).toBe(lease.container.id);
    expect(procState(pid)).not.toBe('T');
    expect((await use(resumed, { n: 5 })).n).toBe(5);
    await resumed.release();
  });

  it('waits for a pause under way before resuming (Docker pauses take tens of ms)', async () => {
    const pool = newPool({ pauseAfterMs: 20 }, slowPauses(new ProcessContainerFactory(), 150));
    const lease = await pool.acquire(need('ns/a@1'));
    await use(lease);
    await lease.release();
    await sleep(60); // the pause started and is still under way
    const again = await pool.acquire(need('ns/a@1'));
    expect(again.container.id).toBe(lease.container.id);
    expect(procState(pidOf(lease.container))).not.toBe('T');
    // Runs past the moment the pause lands: a container lent while pausing would freeze mid-run.
    expect((await use(again, { sleep: 300 })).slept).toBe(300);
    expect(procState(pidOf(lease.container))).not.toBe('T');
    await again.release();
  });

  it('destroys a container idle past the idle timeout', async () => {
    const pool = newPool({ pauseAfterMs: 50, idleTimeoutMs: 300 });
    const lease = await pool.acquire(need('ns/a@1'));
    await use(lease);
    const pid = pidOf(lease.container);
    await lease.release();
    await until('destroyed', () => !alive(pid), 3_000);
    expect(pool.stats()).toEqual({ warm: 0, paused: 0, prewarm: 0, busy: 0, creating: 0 });
    expect(pool.usedMemoryMB).toBe(0);
    const next = await pool.acquire(need('ns/a@1'));
    expect(next.source).toBe('cold');
    await next.release();
  });

  it('evicts the least recently used idle container when the memory budget is full', async () => {
    const pool = newPool({ memoryBudgetMB: 512 });
    const a = await pool.acquire(need('ns/a@1'));
    const b = await pool.acquire(need('ns/b@1'));
    await Promise.all([use(a), use(b)]);
    await a.release(); // a is now the least recently used
    await sleep(5);
    await b.release();
    const c = await pool.acquire(need('ns/c@1'));
    expect(c.source).toBe('cold');
    await use(c);
    await until('a evicted', () => !alive(pidOf(a.container)));
    expect(alive(pidOf(b.container))).toBe(true);
    expect(pool.usedMemoryMB).toBe(512);
    const b2 = await pool.acquire(need('ns/b@1'));
    expect(b2.source).toBe('warm');
    await b2.release();
    await c.release();
  });

  it('queues acquires in order when nothing is free, and serves them on release', async () => {
    const pool = newPool({ memoryBudgetMB: 256 });
    const a = await pool.acquire(need('ns/a@1'));
    await use(a);
    const order: string[] = [];
    const pb = pool.acquire(need('ns/b@1')).then((l) => (order.push('b'), l));
    const pc = pool.acquire(need('ns/c@1')).then((l) => (order.push('c'), l));
    await sleep(150);
    expect(order).toEqual([]);
    await a.release();
    const b = await pb;
    await sleep(100);
    expect(order).toEqual(['b']);
    await use(b);
    await b.release();
    const c = await pc;
    expect(order).toEqual(['b', 'c']);
    expect(c.source).toBe('cold');
    await c.release();
  });

  it('lets one container run `concurrency` activations at once', async () => {
    const pool = newPool({ memoryBudgetMB: 512 });
    const first = await pool.acquire(need('ns/conc@1', { concurrency: 3 }));
    await use(first);
    const second = await pool.acquire(need('ns/conc@1', { concurrency: 3 }));
    const third = await pool.acquire(need('ns/conc@1', { concurrency: 3 }));
    expect([second.source, third.source]).toEqual(['warm', 'warm']);
    expect(second.container.id).toBe(first.container.id);
    expect(third.container.id).toBe(first.container.id);
    const t0 = Date.now();
    const results = await Promise.all([use(first, { sleep: 300 }), use(second, { sleep: 300 }), use(third, { sleep: 300 })]);
    expect(results.map((r) => r.slept)).toEqual([300, 300, 300]);
    expect(Date.now() - t0).toBeLessThan(800); // side by side, not one after the other
    const fourth = await pool.acquire(need('ns/conc@1', { concurrency: 3 }));
    expect(fourth.container.id).not.toBe(first.container.id); // three slots were taken
    await Promise.all([first.release(), second.release(), third.release(), fourth.release()]);
  });

  it('shares one starting container among a burst of a concurrent action, and starts over if its /init fails', async () => {
    const pool = newPool({ memoryBudgetMB: 1024 });
    const [first, ...joining] = [1, 2, 3].map(() => pool.acquire(need('ns/burst@1', { concurrency: 3 })));
    const lead = await first;
    expect(lead.source).toBe('cold');
    await use(lead); // its /init lets the others in
    const joined = await Promise.all(joining);
    expect(joined.map((l) => [l.source, l.needsInit])).toEqual([
      ['warm', false],
      ['warm', false],
    ]);
    expect(joined.every((l) => l.container.id === lead.container.id)).toBe(true);
    expect(pool.usedMemoryMB).toBe(256);
    await Promise.all(joined.map((l) => use(l)));
    await Promise.all([lead, ...joined].map((l) => l.release()));

    // A lease gives its container back without /init: the one that joined it gets another.
    const failing = await pool.acquire(need('ns/burst@2', { concurrency: 2 }));
    const waiting = pool.acquire(need('ns/burst@2', { concurrency: 2 }));
    await sleep(50);
    await failing.release();
    expect(alive(pidOf(failing.container))).toBe(false);
    const retried = await waiting;
    expect(retried.needsInit).toBe(true);
    expect(retried.container.id).not.toBe(failing.container.id);
    expect(await use(retried)).toHaveProperty('pid');
    await retried.release();
  });

  it('destroys a container released as broken, and a fresh one serves the next acquire', async () => {
    const pool = newPool();
    const lease = await pool.acquire(need('ns/a@1'));
    await use(lease);
    const pid = pidOf(lease.container);
    await lease.release(true);
    expect(alive(pid)).toBe(false);
    expect(pool.usedMemoryMB).toBe(0);
    const next = await pool.acquire(need('ns/a@1'));
    expect(next.source).toBe('cold');
    expect(next.container.id).not.toBe(lease.container.id);
    await next.release();
  });

  it('destroys a container whose /init never succeeded', async () => {
    const pool = newPool();
    const lease = await pool.acquire(need('ns/a@1'));
    const pid = pidOf(lease.container);
    await lease.release(); // not initialized(): nobody may reuse it
    expect(alive(pid)).toBe(false);
    expect((await pool.acquire(need('ns/a@1'))).source).toBe('cold');
  });

  it('refuses an action larger than the whole budget instead of waiting forever', async () => {
    const pool = newPool({ memoryBudgetMB: 256 });
    await expect(pool.acquire(need('ns/big@1', { memoryMB: 512 }))).rejects.toThrow(/more than this invoker's 256 MB/);
  });

  it('on close, destroys every container, those still being created included', async () => {
    const factory = new ProcessContainerFactory();
    const pool = newPool({ prewarm: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }] }, factory);
    const starting = pool.start();
    const pending = pool.acquire(need('ns/a@1', { memoryMB: 128 }));
    pending.catch(() => undefined);
    await pool.close();
    await starting;
    const outcome = await pending.then(
      (l) => l,
      (e: Error) => e,
    );
    expect(outcome).toBeInstanceOf(Error);
    expect(pool.usedMemoryMB).toBe(0);
    expect((factory as unknown as { live: Set<unknown> }).live.size).toBe(0);
  });
});

/** The real factory, with pause taking `ms` longer (as Docker's does), to catch races around it. */
function slowPauses(inner: ContainerFactory, ms: number): ContainerFactory {
  return {
    name: inner.name,
    cleanup: (labels) => inner.cleanup(labels),
    close: () => inner.close(),
    create: async (spec: ContainerSpec) => {
      const c = await inner.create(spec);
      return Object.assign(Object.create(c) as Container, {
        pause: async () => {
          await sleep(ms);
          await c.pause();
        },
      });
    },
  };
}
