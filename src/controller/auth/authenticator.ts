import { timingSafeEqual } from 'node:crypto';
import type { Identity, SubjectDoc } from '../../entities/documents.js';
import { Messages, unauthenticated } from '../../entities/errors.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { parseBasicAuth } from './basic-credentials.js';

interface CacheEntry {
  expires: number;
  subject?: SubjectDoc;
  /** The identity this uuid stands for, built once per lookup (every request of the key shares it). */
  identity?: Identity;
}

/** Parsed Authorization headers: a client sends the same one again and again. */
const PARSED_MAX = 1_000;

/**
 * Checks `uuid:key` credentials against the subjects in the store. Lookups by uuid are cached
 * briefly (negative answers too, so a flood of bad uuids cannot hammer the store); the key itself
 * is compared in constant time on every request.
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly parsed = new Map<string, { uuid: string; key: string }>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly ttlMs: number,
  ) {}

  async authenticate(header: string | undefined): Promise<Identity> {
    const fast = this.authenticateCached(header);
    if (fast) return fast;
    const creds = this.credentials(header);
    return this.verify(creds, await this.lookup(creds.uuid));
  }

  /**
   * The same check without a promise when the subject is cached (the common case): the auth hook
   * runs on every request, so it stays off the microtask queue when it can. Undefined means
   * "not cached, use authenticate()"; bad credentials throw as authenticate() would.
   */
  authenticateCached(header: string | undefined): Identity | undefined {
    const creds = this.credentials(header);
    const hit = this.cache.get(creds.uuid);
    if (!hit || hit.expires <= Date.now()) return undefined;
    // The key is still compared, in constant time, on every request; only the identity is reused.
    if (hit.identity && sameSecret(hit.identity.key, creds.key)) return hit.identity;
    const identity = this.verify(creds, hit.subject);
    hit.identity = identity;
    return identity;
  }

  private credentials(header: string | undefined): { uuid: string; key: string } {
    const known = header === undefined ? undefined : this.parsed.get(header);
    if (known) return known;
    const creds = parseBasicAuth(header);
    if (creds === undefined) throw unauthenticated(Messages.noAuth);
    if (creds === 'invalid' || creds.key.length !== 64 || creds.uuid.length === 0) throw unauthenticated(Messages.badAuth);
    // Only well-formed headers are kept (what they say is checked against the store each time).
    if (this.parsed.size >= PARSED_MAX) this.parsed.clear();
    this.parsed.set(header!, creds);
    return creds;
  }

  private verify(creds: { uuid: string; key: string }, subject: SubjectDoc | undefined): Identity {
    const ns = subject?.namespaces.find((n) => n.uuid === creds.uuid);
    if (!subject || !ns || subject.blocked || !sameSecret(ns.key, creds.key)) throw unauthenticated(Messages.badAuth);
    return Object.freeze({ subject: subject.subject, namespace: ns.name, uuid: ns.uuid, key: ns.key, limits: subject.limits ?? {} });
  }

  private async lookup(uuid: string): Promise<SubjectDoc | undefined> {
    const now = Date.now();
    const subject = await this.store.findSubjectByUuid(uuid);
    if (this.ttlMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(uuid, { expires: now + this.ttlMs, subject });
    }
    return subject;
  }

  /** Forget cached subjects, e.g. after this process changed keys. */
  invalidate(): void {
    this.cache.clear();
  }
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
