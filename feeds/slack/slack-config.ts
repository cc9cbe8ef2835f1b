/** A Slack events registration's configuration, as stored (the signing secret included; READ shows none). */
export interface SlackConfig {
  /** The Slack app's signing secret. Secret. */
  signingSecret: string;
  /** Event types (`event.type`) that fire; empty: all. */
  eventTypes: string[];
  lastEvent?: { id: string; type: string; at: string };
}
