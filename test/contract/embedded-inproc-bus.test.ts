import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../src/messaging/bus.js';
import { createInProcessBus } from '../../src/messaging/inproc/inproc-bus.js';
import { describeMessageBus } from './message-bus.contract.js';

// The standalone bus: in memory, so it runs with the embedded contracts (no services needed).
describeMessageBus('in-process', {
  open: async () => createInProcessBus(),
});

const messages = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: String(from + i) }));

async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('InProcessMessageBus specifics', () => {
  it('keeps the newest retainConsumed consumed messages for late fromBeginning groups, with stable offsets', async () => {
    const bus = createInProcessBus({ retainConsumed: 10 });
    let consumed = 0;
    await bus.subscribe({ topic: 't', group: 'live', handler: async (b) => void (consumed += b.length) });
    for (let i = 0; i < 5_000; i += 250) await bus.publish('t', messages(250, i));
    await until(() => consumed === 5_000);

    const late: ReceivedMessage[] = [];
    await bus.subscribe({ topic: 't', group: 'late', fromBeginning: true, handler: async (b) => void late.push(...b) });
    await bus.publish('t', messages(2, 5_000));
    await until(() => late.length === 12);
    expect(late.map((m) => m.offset)).toEqual(Array.from({ length: 12 }, (_, i) => String(4_990 + i)));
    expect(late.map((m) => m.value)).toEqual(late.map((m) => m.offset));
    await bus.close();
  });

  it('never drops what a group has not consumed', async () => {
    const bus = createInProcessBus({ retainConsumed: 10 });
    const idle = await bus.subscribe({ topic: 't', group: 'slow', handler: async () => {} });
    await idle.stop();
    let consumed = 0;
    await bus.subscribe({ topic: 't', group: 'fast', handler: async (b) => void (consumed += b.length) });
    await bus.publish('t', messages(3_000));
    await until(() => consumed === 3_000);

    const got: ReceivedMessage[] = [];
    await bus.subscribe({ topic: 't', group: 'slow', handler: async (b) => void got.push(...b) });
    await until(() => got.length === 3_000);
    expect(got.map((m) => m.value)).toEqual(messages(3_000).map((m) => m.value));
    await bus.close();
  });

  it('hands one batch at a time to a group, in turn to its subscribers, in topic order', async () => {
    const bus = createInProcessBus({ maxBatch: 7 });
    const seen: string[] = [];
    const who: string[] = [];
    let inFlight = 0;
    let overlap = false;
    const handler = (name: string) => async (b: ReceivedMessage[]) => {
      overlap ||= ++inFlight > 1;
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(...b.map((m) => m.value));
      who.push(name);
      inFlight--;
    };
    await bus.subscribe({ topic: 't', group: 'g', handler: handler('a') });
    await bus.subscribe({ topic: 't', group: 'g', handler: handler('b') });
    await bus.publish('t', messages(70));
    await until(() => seen.length === 70);
    expect(seen).toEqual(messages(70).map((m) => m.value));
    expect(who).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'a' : 'b')));
    expect(overlap).toBe(false);
    await bus.close();
  });

  it('delivers after publish returns, never inside it', async () => {
    const bus = createInProcessBus();
    let called = false;
    await bus.subscribe({ topic: 't', group: 'g', handler: async () => void (called = true) });
    const published = bus.publish('t', messages(1));
    expect(called).toBe(false);
    await published;
    await until(() => called);
    await bus.close();
  });
});
