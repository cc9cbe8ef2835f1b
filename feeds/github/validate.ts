import { randomBytes } from 'node:crypto';
import { badRequest } from '../../src/entities/errors.js';
import { DEFAULT_GITHUB_API, type GitHubConfig } from './github-config.js';

const str = (params: Record<string, unknown>, name: string): string | undefined => {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw badRequest(`${name} must be a string`);
  return v.trim();
};

const required = (params: Record<string, unknown>, name: string): string => {
  const v = str(params, name);
  if (!v) throw badRequest(`the ${name} parameter is required`);
  return v;
};

/** `events`: a comma-separated string or a JSON array; entries trimmed (the catalog did not). */
export function parseEvents(v: unknown): string[] {
  const list = Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : [];
  const events = [...new Set(list.map((e) => e.trim()).filter(Boolean))];
  if (!events.length) throw badRequest('the events parameter is required: a comma-separated list of GitHub event names (e.g. push,pull_request), or *');
  for (const e of events) if (!/^(\*|[a-z_]+)$/.test(e)) throw badRequest(`'${e}' is not a GitHub event name (they look like push, pull_request, issues)`);
  return events;
}

function parseBaseUrl(v: string | undefined): string {
  if (!v) return DEFAULT_GITHUB_API;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw badRequest(`baseUrl '${v}' is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw badRequest('baseUrl must be an http(s) URL');
  return v.replace(/\/+$/, '');
}

/** CREATE of /whisk.system/github/webhook: username, repository (owner/repo or repo), accessToken, events, baseUrl. */
export function validateGitHubCreate(params: Record<string, unknown>): GitHubConfig {
  const username = required(params, 'username');
  const repository = required(params, 'repository');
  const parts = repository.split('/');
  if (parts.length > 2 || parts.some((p) => !p)) throw badRequest(`repository '${repository}' must be owner/repo or a repository of username`);
  const [owner, repo] = parts.length === 2 ? parts : [username, parts[0]];
  return {
    username,
    owner,
    repo,
    events: parseEvents(params.events),
    baseUrl: parseBaseUrl(str(params, 'baseUrl')),
    accessToken: required(params, 'accessToken'),
    secret: randomBytes(32).toString('hex'),
  };
}

/** UPDATE: events and accessToken may change (the hook is edited); the repository may not. */
export function validateGitHubUpdate(cur: GitHubConfig, params: Record<string, unknown>): GitHubConfig {
  const fixed = ['username', 'repository', 'baseUrl'].filter((k) => params[k] !== undefined);
  if (fixed.length) throw badRequest(`${fixed.join(', ')} cannot be updated: delete the feed and create it again`);
  if (params.events === undefined && params.accessToken === undefined) throw badRequest('UPDATE needs events or accessToken');
  return {
    ...cur,
    ...(params.events !== undefined ? { events: parseEvents(params.events) } : {}),
    ...(params.accessToken !== undefined ? { accessToken: required(params, 'accessToken') } : {}),
  };
}
