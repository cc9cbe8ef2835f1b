import type { Logger } from '../../src/logging/logger.js';
import { hookUrl, LastDeliveryNotes, type Deliveries } from '../kit/hooks.js';
import type { FeedEvents, FeedProvider } from '../kit/provider.js';
import type { Registration } from '../kit/registration.js';
import type { Registrations } from '../kit/registrations.js';
import type { SlackConfig } from './slack-config.js';
import { validateSlackCreate, validateSlackUpdate } from './validate.js';

export type SlackRegistration = Registration<SlackConfig>;

/**
 * The Slack provider: feed `events` (Slack's Events API). CREATE stores the app's signing secret
 * and answers the Request URL to paste into the app's Event Subscriptions; `receive.ts` verifies,
 * answers and deduplicates the deliveries and fires them through the kit's queue.
 */
export class SlackProvider implements FeedProvider<SlackConfig> {
  readonly name = 'slack';
  readonly feeds = ['events'] as const;
  events?: FeedEvents;

  constructor(
    readonly registrations: Registrations,
    readonly deliveries: Deliveries,
    private readonly publicUrl: () => string,
    readonly logger: Logger,
  ) {
    this.lastDeliveries = new LastDeliveryNotes(registrations, logger);
  }

  /** The newest delivery, noted on the registration after the answer. */
  readonly lastDeliveries: LastDeliveryNotes;

  validateCreate(_feed: string, params: Record<string, unknown>): SlackConfig {
    return validateSlackCreate(params);
  }

  validateUpdate(reg: SlackRegistration, params: Record<string, unknown>): SlackConfig {
    return validateSlackUpdate(reg.config, params);
  }

  initialCounters() {
    return {};
  }

  whyNotActivatable(): string | undefined {
    return undefined;
  }

  describe(reg: SlackRegistration) {
    const c = reg.config;
    return {
      config: { name: reg.trigger, namespace: reg.namespace, eventTypes: c.eventTypes },
      requestUrl: hookUrl(this.publicUrl(), this.name, reg.namespace, reg.trigger),
      ...(c.lastEvent ? { lastEvent: c.lastEvent } : {}),
    };
  }

  async activate(): Promise<void> {}

  async deactivate(): Promise<void> {}

  async removed(reg: SlackRegistration): Promise<void> {
    await this.deliveries.clear(reg.id);
  }

  async start(events: FeedEvents): Promise<void> {
    this.events = events;
  }

  async stop(): Promise<void> {}
}
