import { describe, expect, it } from 'vitest';
import { PublishQueue, type TopicBatch } from '../../src/messaging/kafka/publish-queue.js';

/** The Kafka bus's request coalescing, on its own (the bus itself runs the contract on real Kafka). */
describe('PublishQueue', () => {
  const msg = (v: string) => [{ value: v }];

  it('sends the publishes of one event-loop turn in one request, in order per topic', async () => {
    const sent: TopicBatch[][] = [];
    const q = new PublishQueue(async (batches) => void sent.push(batches));
    await Promise.all([q.publish('a', msg('1')), q.publish('b', msg('x')), q.publish('a', msg('2')), q.publish('a', msg('3'))]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual([
      { topic: 'a', messages: [{ value: '1' }, { value: '2' }, { value: '3' }] },
      { topic: 'b', messages: [{ value: 'x' }] },
    ]);
  });

  it('carries what arrives while a request is out in the next one', async () => {
    const sent: string[][] = [];
    let release!: () => void;
    const q = new PublishQueue(async (batches) => {
      sent.push(batches.flatMap((b) => b.messages.map((m) => m.value)));
      if (sent.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = q.publish('t', msg('1'));
    await new Promise((r) => setImmediate(r));
    const later = [q.publish('t', msg('2')), q.publish('t', msg('3'))];
    release();
    await Promise.all([first, ...later]);
    expect(sent).toEqual([['1'], ['2', '3']]);
  });

  it('fails every publish a failed request carried, and goes on with the next', async () => {
    let calls = 0;
    const q = new PublishQueue(async () => {
      if (++calls === 1) throw new Error('broker away');
    });
    const failed = [q.publish('t', msg('1')), q.publish('t', msg('2'))];
    for (const p of failed) await expect(p).rejects.toThrow('broker away');
    await expect(q.publish('t', msg('3'))).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
