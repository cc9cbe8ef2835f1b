import type { Logger } from '../../src/logging/logger.js';
import { hookUrl, LastDeliveryNotes, type Deliveries } from '../kit/hooks.js';
import type { FeedEvents, FeedProvider } from '../kit/provider.js';
import type { Registration } from '../kit/registration.js';
import type { Registrations } from '../kit/registrations.js';
import type { GitHubConfig } from './github-config.js';
import type { GitHubHooksApi } from './hooks-api.js';
import { validateGitHubCreate, validateGitHubUpdate } from './validate.js';

export type GitHubRegistration = Registration<GitHubConfig>;

/**
 * The GitHub provider: feed `webhook`, compatible with /whisk.system/github. CREATE makes a
 * repository hook through GitHub's REST API that delivers to the hub (`/hooks/v1/github/<ns>/<trigger>`,
 * no API key in it) signed with a random secret of the registration; DELETE removes that hook.
 * Deliveries are verified, filtered and deduplicated in `receive.ts`, then fired through the
 * kit's queue.
 */
export class GitHubProvider implements FeedProvider<GitHubConfig> {
  readonly name = 'github';
  readonly feeds = ['webhook'] as const;
  events?: FeedEvents;

  constructor(
    readonly registrations: Registrations,
    readonly deliveries: Deliveries,
    private readonly api: GitHubHooksApi,
    private readonly publicUrl: () => string,
    readonly logger: Logger,
  ) {
    this.lastDeliveries = new LastDeliveryNotes(registrations, logger);
  }

  /** The newest delivery, noted on the registration after the answer. */
  readonly lastDeliveries: LastDeliveryNotes;

  validateCreate(_feed: string, params: Record<string, unknown>): GitHubConfig {
    return validateGitHubCreate(params);
  }

  validateUpdate(reg: GitHubRegistration, params: Record<string, unknown>): GitHubConfig {
    return validateGitHubUpdate(reg.config, params);
  }

  initialCounters() {
    return {};
  }

  whyNotActivatable(): string | undefined {
    return undefined;
  }

  url(reg: { namespace: string; trigger: string }): string {
    return hookUrl(this.publicUrl(), this.name, reg.namespace, reg.trigger);
  }

  describe(reg: GitHubRegistration) {
    const c = reg.config;
    return {
      config: { name: reg.trigger, namespace: reg.namespace, username: c.username, repository: `${c.owner}/${c.repo}`, events: c.events, baseUrl: c.baseUrl },
      hook: { id: c.hookId, url: c.hookUrl ?? this.url(reg), ...(c.lastDelivery ? { lastDelivery: c.lastDelivery } : {}) },
    };
  }

  /**
   * Makes sure the repository hook exists and matches the configuration (created on CREATE,
   * edited on UPDATE/UNPAUSE). The hook id is written to the registration, and onto `reg` itself
   * so the CREATE answer shows it.
   */
  async activate(reg: GitHubRegistration): Promise<void> {
    const url = this.url(reg);
    const c = reg.config;
    if (c.hookId !== undefined && (await this.api.edit(c, c.hookId, url))) return;
    const { id } = await this.api.create(c, url);
    c.hookId = id;
    c.hookUrl = url;
    await this.registrations.update<GitHubConfig>(reg.id, (cur) =>
      cur.generation === reg.generation ? { ...cur, config: { ...cur.config, hookId: id, hookUrl: url } } : undefined,
    );
    this.logger.info({ registration: reg.id, hookId: id, repository: `${c.owner}/${c.repo}` }, 'github hook created');
  }

  /** Deliveries of an inactive registration are answered and not fired: nothing to stop. */
  async deactivate(): Promise<void> {}

  async removed(reg: GitHubRegistration): Promise<void> {
    await this.deliveries.clear(reg.id);
    if (reg.config.hookId === undefined) return;
    await this.api.remove(reg.config, reg.config.hookId);
    this.logger.info({ registration: reg.id, hookId: reg.config.hookId }, 'github hook deleted');
  }

  async start(events: FeedEvents): Promise<void> {
    this.events = events;
  }

  async stop(): Promise<void> {}
}
