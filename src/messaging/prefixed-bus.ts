import { renamed, type BusMessage, type MessageBus, type SubscribeOptions, type Subscription } from './bus.js';

/**
 * A MessageBus whose topic and group names all start with `prefix`, so that several whiskhub
 * clusters (or test runs) can share one Kafka without hearing each other: their `health`,
 * `invoker<N>` and `completed<N>` topics and consumer groups are distinct. Handlers see the
 * topic names without the prefix.
 */
export function prefixedBus(inner: MessageBus, prefix: string): MessageBus {
  if (!prefix) return inner;
  const name = (topic: string) => `${prefix}${topic}`;
  return {
    durable: inner.durable,
    inProcess: inner.inProcess,
    ensureTopics: (topics: string[], partitions?: number) => inner.ensureTopics(topics.map(name), partitions),
    publish: (topic: string, messages: BusMessage[]) => inner.publish(name(topic), messages),
    subscribe: (options: SubscribeOptions): Promise<Subscription> =>
      inner.subscribe({
        ...options,
        topic: name(options.topic),
        group: name(options.group),
        handler: (batch) => options.handler(batch.map((m) => renamed(m, options.topic))),
      }),
    close: () => inner.close(),
  };
}
