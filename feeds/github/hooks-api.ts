import { HubError } from '../../src/entities/errors.js';
import { jsonOf } from '../../src/http/keep-alive-client.js';
import type { GitHubConfig } from './github-config.js';

/** GitHub's REST API for repository hooks (`/repos/{owner}/{repo}/hooks`), with the registration's token. */
export class GitHubHooksApi {
  constructor(private readonly timeoutMs = 15_000) {}

  private async call(c: GitHubConfig, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
    const url = `${c.baseUrl}/repos/${encodeURIComponent(c.owner)}/${encodeURIComponent(c.repo)}/hooks${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${c.accessToken}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'whiskhub',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new HubError(502, 'GITHUB_UNREACHABLE', `cannot reach GitHub at ${c.baseUrl}: ${(err as Error).message}`);
    }
    const text = await res.text();
    return { status: res.status, json: jsonOf(text), text };
  }

  private refused(what: string, r: { status: number; json: any; text: string }): HubError {
    const detail = r.json?.message ?? r.text.slice(0, 300);
    const status = r.status >= 400 && r.status < 600 ? r.status : 502;
    return new HubError(status, 'GITHUB_REFUSED', `GitHub refused to ${what} (${r.status}): ${detail}`);
  }

  /** Creates the hook: JSON deliveries to `url`, signed with the registration's secret. */
  async create(c: GitHubConfig, url: string): Promise<{ id: number }> {
    const r = await this.call(c, 'POST', '', {
      name: 'web',
      active: true,
      events: c.events,
      config: { url, content_type: 'json', secret: c.secret, insecure_ssl: '0' },
    });
    if (r.status !== 201 && r.status !== 200) throw this.refused(`create the hook on ${c.owner}/${c.repo}`, r);
    if (typeof r.json?.id !== 'number') throw new HubError(502, 'GITHUB_REFUSED', 'GitHub answered the hook creation without a hook id');
    return { id: r.json.id };
  }

  /** Changes the events (and keeps URL and secret); false when the hook is gone. */
  async edit(c: GitHubConfig, id: number, url: string): Promise<boolean> {
    const r = await this.call(c, 'PATCH', `/${id}`, { active: true, events: c.events, config: { url, content_type: 'json', secret: c.secret, insecure_ssl: '0' } });
    if (r.status === 404) return false;
    if (r.status >= 300) throw this.refused(`edit hook ${id} on ${c.owner}/${c.repo}`, r);
    return true;
  }

  /** Deletes the hook; a hook already gone (404) counts as deleted. */
  async remove(c: GitHubConfig, id: number): Promise<void> {
    const r = await this.call(c, 'DELETE', `/${id}`);
    if (r.status !== 204 && r.status !== 200 && r.status !== 404) throw this.refused(`delete hook ${id} on ${c.owner}/${c.repo}`, r);
  }
}
