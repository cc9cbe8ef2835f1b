/**
 * Runs `work` on every item, at most `limit` at once, and resolves when all are done. Failures are
 * the caller's to catch inside `work`: one item's failure does not stop the others. A provider
 * restarting with a thousand registrations settles and plans them this way instead of one after
 * another (each is a few round trips to the store and Redis).
 */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
