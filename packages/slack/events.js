/**
 * The feed action of /whisk.system/slack: `events` (Slack's Events API). It turns a lifecycle event
 * into a call to the Slack provider's API with the caller's authKey as Basic authorization:
 *
 *   CREATE → POST, READ → GET, UPDATE → PUT, DELETE → DELETE,
 *   PAUSE → POST …/pause, UNPAUSE → POST …/unpause     on <provider>/feeds/v1/slack/triggers/<ns>/<name>
 *
 * Parameters: signingSecret (the Slack app's Signing Secret), eventTypes (optional, comma-separated
 * event types such as message,app_mention; default all). The CREATE and READ results carry the
 * `requestUrl` to paste into the app's Event Subscriptions. Nothing here logs or returns the
 * authKey or the signing secret.
 */
const PROVIDER = 'slack';
const FEED = 'events';
const ROUTES = {
  CREATE: ['POST', ''],
  READ: ['GET', ''],
  UPDATE: ['PUT', ''],
  DELETE: ['DELETE', ''],
  PAUSE: ['POST', '/pause'],
  UNPAUSE: ['POST', '/unpause'],
};

async function main(params) {
  const { lifecycleEvent, triggerName, authKey, providerUrl, apihost, ...feedParams } = params;
  const event = String(lifecycleEvent || '').toUpperCase();
  const route = ROUTES[event];
  if (!route) {
    return { error: `unsupported lifecycleEvent '${lifecycleEvent}': use one of ${Object.keys(ROUTES).join(', ')}` };
  }
  if (!triggerName) return { error: 'no trigger name parameter was provided' };
  if (!authKey) return { error: 'no authKey parameter was provided' };
  const parts = String(triggerName).replace(/^\//, '').split('/');
  if (parts.length > 2 || parts.some((p) => !p)) return { error: `triggerName '${triggerName}' must be /namespace/name` };
  let [namespace, name] = parts.length === 2 ? parts : ['_', parts[0]];
  if (namespace === '_' && process.env.__OW_NAMESPACE) namespace = process.env.__OW_NAMESPACE;

  const host = String(providerUrl || apihost || process.env.__OW_API_HOST || '').replace(/\/+$/, '');
  if (!host) return { error: `no providerUrl parameter and no __OW_API_HOST: cannot reach the ${PROVIDER} provider` };
  const url = `${host}/feeds/v1/${PROVIDER}/triggers/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}${route[1]}`;
  const body = event === 'CREATE' ? { feed: FEED, ...feedParams } : event === 'UPDATE' ? feedParams : undefined;
  const headers = { authorization: `Basic ${Buffer.from(String(authKey)).toString('base64')}` };
  if (body) headers['content-type'] = 'application/json';

  let res;
  try {
    res = await fetch(url, { method: route[0], headers, body: body && JSON.stringify(body), signal: AbortSignal.timeout(50_000) });
  } catch (err) {
    return { error: `cannot reach the ${PROVIDER} provider at ${host}: ${err.message}` };
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  console.log(`${event} /${namespace}/${name}: ${res.status}`);
  if (res.ok) return json;
  return { error: json.error || json.message || `the ${PROVIDER} provider answered ${res.status}` };
}

exports.main = main;
