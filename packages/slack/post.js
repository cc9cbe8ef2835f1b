/**
 * /whisk.system/slack/post: posts a message to Slack, and fails when Slack refuses it (the
 * catalog's action reported success whatever Slack answered).
 *
 * Two ways, as in the catalog:
 * - `url`: an incoming-webhook URL; the message is POSTed as JSON. Slack answers 200 `ok`, or an
 *   error status with a reason (`invalid_payload`, `channel_not_found`, `no_text`, …).
 * - `token` (+ `channel`): the Web API's chat.postMessage at `baseUrl` (default
 *   https://slack.com/api) or at `url` when that names a Web API method, with the token as a Bearer
 *   credential. Slack answers `{ok: false, error}` when it refuses.
 *
 * Message fields: text (required unless attachments), channel, username (default "Simple Message
 * Bot"), icon_emoji, as_user (sent only when exactly true), attachments. The token is never logged
 * or returned.
 */
async function main(params) {
  const { url, token, baseUrl, text, attachments, channel, username, icon_emoji, as_user } = params;
  if (!text && !attachments) return { error: 'No text provided' };
  if (!url && !token) return { error: 'No Webhook URL provided (give url for an incoming webhook, or token and channel for chat.postMessage)' };
  const message = { text, username: username || 'Simple Message Bot' };
  if (channel) message.channel = channel;
  if (icon_emoji) message.icon_emoji = icon_emoji;
  if (as_user === true) message.as_user = true;
  if (attachments) message.attachments = typeof attachments === 'string' ? JSON.parse(attachments) : attachments;

  const api = !!token;
  if (api && !channel) return { error: 'No channel provided: chat.postMessage needs a channel' };
  const target = api ? (url && /\/api\/[a-z]+\.[a-zA-Z]+$/.test(url) ? url : `${String(baseUrl || 'https://slack.com/api').replace(/\/+$/, '')}/chat.postMessage`) : url;
  const headers = { 'content-type': 'application/json; charset=utf-8' };
  if (api) headers.authorization = `Bearer ${token}`;

  let res;
  try {
    res = await fetch(target, { method: 'POST', headers, body: JSON.stringify(message), signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    return { error: `cannot reach Slack: ${err.message}` };
  }
  const body = await res.text();
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  if (!res.ok) return { error: `Slack refused the message (${res.status}): ${(json && json.error) || body.slice(0, 300) || res.statusText}` };
  if (api) {
    if (!json || json.ok !== true) return { error: `Slack refused the message: ${(json && json.error) || body.slice(0, 300)}` };
    return { ok: true, channel: json.channel, ts: json.ts };
  }
  if (json && json.ok === false) return { error: `Slack refused the message: ${json.error}` };
  return { ok: true };
}

exports.main = main;
