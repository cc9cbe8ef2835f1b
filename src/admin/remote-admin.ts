import type { NamespaceKey, NamespaceLimits, SubjectDoc } from '../entities/documents.js';
import { HubError } from '../entities/errors.js';

/** The admin operations, whether done on the store directly or through a running standalone. */
export interface AdminApi {
  createUser(subject: string, opts?: { namespace?: string; auth?: string }): Promise<NamespaceKey>;
  getUser(subject: string): Promise<SubjectDoc>;
  listUsers(namespace?: string): Promise<SubjectDoc[]>;
  deleteUser(subject: string, namespace?: string): Promise<void>;
  setBlocked(subject: string, blocked: boolean): Promise<void>;
  setLimits(namespace: string, limits: NamespaceLimits | undefined): Promise<SubjectDoc>;
}

export class RemoteAdmin implements AdminApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new HubError(res.status, 'ADMIN_REMOTE', parsed?.error ?? `HTTP ${res.status}`);
    return parsed as T;
  }

  createUser(subject: string, opts: { namespace?: string; auth?: string } = {}) {
    return this.call<NamespaceKey>('POST', '/users', { subject, ...opts });
  }
  getUser(subject: string) {
    return this.call<SubjectDoc>('GET', `/users/${encodeURIComponent(subject)}`);
  }
  listUsers(namespace?: string) {
    return this.call<SubjectDoc[]>('GET', `/users${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ''}`);
  }
  async deleteUser(subject: string, namespace?: string) {
    await this.call('DELETE', `/users/${encodeURIComponent(subject)}${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ''}`);
  }
  async setBlocked(subject: string, blocked: boolean) {
    await this.call('POST', `/users/${encodeURIComponent(subject)}/blocked`, { blocked });
  }
  setLimits(namespace: string, limits: NamespaceLimits | undefined) {
    return this.call<SubjectDoc>('PUT', `/limits/${encodeURIComponent(namespace)}`, limits ?? null);
  }
}
