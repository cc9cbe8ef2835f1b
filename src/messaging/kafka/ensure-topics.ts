import type { Admin } from 'kafkajs';

/**
 * Creates missing topics; existing ones are left as they are (their partition count included).
 * Topics seen to exist are remembered, so subscribe() can ensure its topic for free.
 */
export class TopicEnsurer {
  private readonly known = new Set<string>();

  constructor(private readonly admin: () => Promise<Admin>) {}

  async ensure(topics: string[], partitions: number): Promise<void> {
    const wanted = [...new Set(topics)].filter((t) => !this.known.has(t));
    if (wanted.length === 0) return;
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      // Resolves false when another client created them first: that is success too.
      await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
    }
    for (const t of wanted) this.known.add(t);
  }
}
