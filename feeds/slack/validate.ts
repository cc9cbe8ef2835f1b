import { badRequest } from '../../src/entities/errors.js';
import type { SlackConfig } from './slack-config.js';

function eventTypes(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  const list = Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : undefined;
  if (!list) throw badRequest('eventTypes must be a comma-separated string or an array of Slack event types (e.g. message,app_mention)');
  const types = [...new Set(list.map((t) => t.trim()).filter(Boolean))];
  for (const t of types) if (!/^[a-z_.]+$/.test(t)) throw badRequest(`'${t}' is not a Slack event type (they look like message, app_mention, reaction_added)`);
  return types;
}

function signingSecret(v: unknown): string {
  if (typeof v !== 'string' || !v.trim()) throw badRequest('the signingSecret parameter is required: the Signing Secret of the Slack app (Basic Information)');
  return v.trim();
}

/** CREATE of /whisk.system/slack/events: signingSecret, eventTypes (optional). */
export function validateSlackCreate(params: Record<string, unknown>): SlackConfig {
  return { signingSecret: signingSecret(params.signingSecret), eventTypes: eventTypes(params.eventTypes) };
}

/** UPDATE: a new signingSecret and/or eventTypes. */
export function validateSlackUpdate(cur: SlackConfig, params: Record<string, unknown>): SlackConfig {
  if (params.signingSecret === undefined && params.eventTypes === undefined) throw badRequest('UPDATE needs signingSecret or eventTypes');
  return {
    ...cur,
    ...(params.signingSecret !== undefined ? { signingSecret: signingSecret(params.signingSecret) } : {}),
    ...(params.eventTypes !== undefined ? { eventTypes: eventTypes(params.eventTypes) } : {}),
  };
}
