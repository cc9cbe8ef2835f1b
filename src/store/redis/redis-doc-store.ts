import { Redis } from 'ioredis';
import { StoreConflictError, type DocQuery, type DocStore, type Stored } from '../artifact-store.js';
import { newRevSuffix } from '../rev-suffix.js';

/**
 * Puts a document if its rev is the one given (none: only if there is no document). KEYS: the
 * collection's hash (id → `rev\n json`) and its id index (a sorted set, all scores 0, so ids come
 * back in byte order). ARGV: id, expected rev or '', the new rev's suffix, the JSON. Answers the
 * new rev, or nil on a conflict. One script, so the check and the write are one step for Redis.
 */
const PUT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local gen = 0
if cur then
  local rev = string.sub(cur, 1, string.find(cur, '\\n', 1, true) - 1)
  if rev ~= ARGV[2] then return false end
  gen = tonumber(string.match(rev, '^(%d+)-')) or 0
elseif ARGV[2] ~= '' then
  return false
end
local rev = (gen + 1) .. '-' .. ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], rev .. '\\n' .. ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return rev
`;

/** Deletes a document if its rev is the one given. Answers 1, or 0 on a conflict (or no document). */
const DELETE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
if string.sub(cur, 1, string.find(cur, '\\n', 1, true) - 1) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

type Scripted = Redis & {
  whDocPut(hash: string, ids: string, id: string, rev: string, suffix: string, json: string): Promise<string | null>;
  whDocDelete(hash: string, ids: string, id: string, rev: string): Promise<number>;
};

/**
 * A DocStore on Redis, for the cluster's feed providers: their registrations take a
 * compare-and-set per alarm tick, and Redis does tens of thousands of those a second where a
 * CouchDB-compatible server does hundreds. Redis holds the providers' queues already (BullMQ), so
 * this adds no new service; give it an append-only file in production, as the queues need too.
 *
 * Keys: `<prefix>:{<collection>}` and `<prefix>:{<collection>}:ids` (the braces keep a
 * collection's two keys on one Redis Cluster slot).
 */
export class RedisDocStore implements DocStore {
  private readonly redis: Scripted;

  constructor(url: string, private readonly prefix: string) {
    const redis = new Redis(url);
    redis.defineCommand('whDocPut', { numberOfKeys: 2, lua: PUT });
    redis.defineCommand('whDocDelete', { numberOfKeys: 2, lua: DELETE });
    this.redis = redis as Scripted;
  }

  private keys(collection: string): [string, string] {
    const hash = `${this.prefix}:{${collection}}`;
    return [hash, `${hash}:ids`];
  }

  async getDoc<T extends object>(collection: string, id: string): Promise<Stored<T> | undefined> {
    const raw = await this.redis.hget(this.keys(collection)[0], id);
    return raw === null ? undefined : parse<T>(id, raw);
  }

  async putDoc<T extends object>(collection: string, id: string, doc: T, rev?: string): Promise<string> {
    const [hash, ids] = this.keys(collection);
    const next = await this.redis.whDocPut(hash, ids, id, rev ?? '', newRevSuffix(), JSON.stringify(doc));
    if (next === null) throw new StoreConflictError(`${collection}/${id}`);
    return next;
  }

  async deleteDoc(collection: string, id: string, rev: string): Promise<void> {
    const [hash, ids] = this.keys(collection);
    if ((await this.redis.whDocDelete(hash, ids, id, rev)) !== 1) throw new StoreConflictError(`${collection}/${id}`);
  }

  async listDocs<T extends object>(collection: string, q: DocQuery): Promise<Stored<T>[]> {
    const [hash, ids] = this.keys(collection);
    // Byte ranges: from the prefix itself up to (not including) the prefix followed by 0xff.
    const min = q.prefix ? Buffer.from(`[${q.prefix}`) : '-';
    const max = q.prefix ? Buffer.concat([Buffer.from(`(${q.prefix}`), Buffer.from([0xff])]) : '+';
    const page = await this.redis.zrangebylex(ids, min, max, 'LIMIT', q.skip, q.limit);
    if (!page.length) return [];
    const raws = await this.redis.hmget(hash, ...page);
    const out: Stored<T>[] = [];
    page.forEach((id, i) => {
      const raw = raws[i];
      // Deleted between the two reads: left out, as a listing a moment later would.
      if (raw !== null) out.push(parse<T>(id, raw));
    });
    return out;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function parse<T>(id: string, raw: string): Stored<T> {
  const nl = raw.indexOf('\n');
  return { id, rev: raw.slice(0, nl), doc: JSON.parse(raw.slice(nl + 1)) as T };
}
