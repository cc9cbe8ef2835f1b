import type { DocStore } from '../../src/store/artifact-store.js';
import type { FeedFireJob } from './fire-queue.js';

/** A fire that kept failing (429, 5xx, network) past its attempts: kept so it can be seen (READ) and replayed. */
export interface FeedDeadLetter {
  registrationId: string;
  job: FeedFireJob;
  status: number;
  error: string;
  at: number;
  /** What the provider adds to find the event again (Kafka: topic, partition and offsets). */
  detail?: Record<string, unknown>;
}

const COLLECTION = 'feed-deadletters';

/** Feed dead letters in the store, id `<registration id>/<job id>`. */
export class FeedDeadLetters {
  constructor(private readonly store: DocStore) {}

  async add(letter: FeedDeadLetter): Promise<void> {
    await this.store.putDoc(COLLECTION, `${letter.registrationId}/${letter.job.id}`, letter).catch(() => undefined);
  }

  /** The newest few letters of a registration, and how many there are. */
  async of(registrationId: string, newest = 5): Promise<{ count: number; latest: FeedDeadLetter[] }> {
    const all: FeedDeadLetter[] = [];
    for (let skip = 0; ; skip += 500) {
      const page = await this.store.listDocs<FeedDeadLetter>(COLLECTION, { prefix: `${registrationId}/`, limit: 500, skip });
      all.push(...page.map((r) => r.doc));
      if (page.length < 500) break;
    }
    all.sort((a, b) => b.at - a.at);
    return { count: all.length, latest: all.slice(0, newest) };
  }

  /** Drops a registration's letters (on DELETE). */
  async clear(registrationId: string): Promise<void> {
    const rows = await this.store.listDocs(COLLECTION, { prefix: `${registrationId}/`, limit: 10_000, skip: 0 });
    for (const r of rows) await this.store.deleteDoc(COLLECTION, r.id, r.rev).catch(() => undefined);
  }
}
