import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAction } from '../../src/controller/actions/action-body.js';
import { ProcessContainerFactory } from '../../src/containers/process/process-container-factory.js';
import type { ActivationDoc, Identity } from '../../src/entities/documents.js';
import { Invoker } from '../../src/invoker/invoker.js';
import type { AckMessage, ActivationMessage } from '../../src/invoker/messages.js';
import { createLogger } from '../../src/logging/logger.js';
import { Topics } from '../../src/messaging/bus.js';
import { createInProcessBus } from '../../src/messaging/inproc/inproc-bus.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';

/**
 * An invoker's run slots (maxInFlight) are held while an activation runs, not while its record
 * is being stored: a store that is slow to take records must not hold back runs. The store here
 * is the real embedded store whose record writes the test holds at a gate.
 */
beforeAll(() => {
  execFileSync('bash', ['deploy/runtimes/build-proxy.sh'], { stdio: 'inherit', timeout: 120_000 });
}, 150_000);

const identity: Identity = { subject: 'tester', namespace: 'tester', uuid: 'u', key: 'k', limits: {} };

describe('Invoker run slots', () => {
  const bus = createInProcessBus();
  const factory = new ProcessContainerFactory();
  let inner: ArtifactStore;
  let invoker: Invoker;
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  let heldWrites = 0;
  // The embedded store, with its record writes held until the test opens the gate.
  const gated = (target: ArtifactStore) => new Proxy(target, {
    get(target, prop, receiver) {
      if (prop === 'putActivations') {
        return async (docs: ActivationDoc[]) => {
          heldWrites++;
          await gate;
          return target.putActivations(docs);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as ArtifactStore;
  const acks: AckMessage[] = [];

  beforeAll(async () => {
    inner = await createEmbeddedStore(mkdtempSync(join(tmpdir(), 'whiskhub-invoker-slots-')));
    invoker = new Invoker({
      index: 0,
      bus,
      store: gated(inner),
      factory,
      logger: createLogger('silent', 'test'),
      maxInFlight: 2,
      pool: { memoryBudgetMB: 1024, prewarm: [], pauseAfterMs: 60_000, idleTimeoutMs: 600_000, env: {} },
    });
    const action = newAction({ namespace: 'tester', name: 'echo' }, { exec: { kind: 'nodejs:20', code: 'function main(p) { return { n: p.n }; }' } }, identity, {
      memory: { min: 128, max: 512, default: 256 },
      timeout: { min: 100, max: 60_000, default: 60_000 },
      logs: { min: 0, max: 10, default: 10 },
      concurrency: { min: 1, max: 1, default: 1 },
    } as never);
    const rev = await inner.putEntity('tester/echo', action);
    await bus.subscribe({ topic: Topics.completed(0), group: 'test', handler: async (batch) => void acks.push(...batch.map((m) => JSON.parse(m.value) as AckMessage)) });
    await invoker.start();
    const messages: ActivationMessage[] = Array.from({ length: 6 }, (_, n) => ({
      transactionId: `t${n}`,
      activationId: `a${n}`.padEnd(32, '0'),
      action: { path: 'tester', name: 'echo', version: action.version, rev },
      user: { subject: 'tester', namespace: 'tester', authKey: 'u:k' },
      content: { n },
      initArgs: {},
      blocking: true,
      rootControllerIndex: 0,
      receivedAt: Date.now(),
    }));
    await bus.publish(Topics.invoker(0), messages.map((m) => ({ key: m.activationId, value: JSON.stringify(m) })));
  }, 60_000);

  afterAll(async () => {
    openGate();
    await invoker?.stop();
    await factory.close();
    await bus.close();
    await inner?.close?.();
  });

  it('runs every activation while the first records are still held, then stores them all', async () => {
    const until = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${acks.length} acks, ${heldWrites} writes held`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // Six runs through two slots, with no record stored yet.
    await until('six results', () => acks.filter((a) => a.kind === 'result').length === 6);
    await until('a record write at the gate', () => heldWrites > 0);
    expect(acks.filter((a) => a.kind === 'completion')).toHaveLength(0);
    expect(acks.map((a) => (a.activation?.response.result as { n: number }).n).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    openGate();
    await until('six completions', () => acks.filter((a) => a.kind === 'completion').length === 6);
    for (let n = 0; n < 6; n++) expect(await inner.getActivation('tester', `a${n}`.padEnd(32, '0'))).toBeDefined();
  }, 60_000);
});
