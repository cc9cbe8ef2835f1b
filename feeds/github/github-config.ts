/** A GitHub webhook registration's configuration, as stored (secrets included; READ shows none). */
export interface GitHubConfig {
  username: string;
  owner: string;
  repo: string;
  /** Event names the hook subscribes to and the trigger fires for (`*`: all). */
  events: string[];
  /** GitHub's REST API root (`https://api.github.com`, or `https://<host>/api/v3`). */
  baseUrl: string;
  /** Can write repository hooks. Secret. */
  accessToken: string;
  /** The hook's signing secret, random per registration. Secret. */
  secret: string;
  /** Set once the hook exists. */
  hookId?: number;
  hookUrl?: string;
  lastDelivery?: { id: string; event: string; at: string };
}

export const DEFAULT_GITHUB_API = 'https://api.github.com';
