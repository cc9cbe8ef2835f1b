/**
 * Runs `call` again while it fails with an error kafkajs marks retriable, until the deadline. The
 * admin client does not retry group-coordinator errors itself: on a broker that has just started
 * (or moved a group), OffsetFetch answers "not the correct coordinator" or "coordinator not
 * available" for a moment, and a role must not die of that at start.
 */
export async function whileRetriable<T>(call: () => Promise<T>, deadline: number): Promise<T> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await call();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() + delay > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
