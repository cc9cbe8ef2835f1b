/**
 * The feed action of every /whisk.system feed: alarms (alarm, once, interval), github (webhook),
 * slack (events) and messaging (kafkaFeed, messageHubFeed). It turns a lifecycle event into a call
 * to the provider's API, with the caller's authKey as Basic authorization (the provider checks it
 * by reading the trigger):
 *
 *   CREATE → POST, READ → GET, UPDATE → PUT, DELETE → DELETE,
 *   PAUSE → POST …/pause, UNPAUSE → POST …/unpause     on <provider>/feeds/v1/<provider>/triggers/<ns>/<name>
 *
 * Which provider and which feed: the action's bound parameters `feedProvider` and `feedName`
 * (the catalog binds them), else the action's own name. The reference's bound `fireOnce` and
 * `isInterval` still pick the alarms feed. The provider is the package's bound `providerUrl` when
 * set (the cluster), else the API host the action runs against (standalone serves the provider
 * API on the controller's port). The answer is the provider's JSON; a refusal is returned as
 * `{error}` (OpenWhisk keeps nothing else of a failed result), so the activation is an
 * application error and `wsk trigger create` reports it (and deletes the trigger). Nothing here
 * logs or returns the authKey or any other secret parameter.
 */
const ROUTES = {
  CREATE: ['POST', ''],
  READ: ['GET', ''],
  UPDATE: ['PUT', ''],
  DELETE: ['DELETE', ''],
  PAUSE: ['POST', '/pause'],
  UNPAUSE: ['POST', '/unpause'],
};

function feedOf(params) {
  if (params.feedName) return String(params.feedName);
  if (params.fireOnce === true || params.fireOnce === 'true') return 'once';
  if (params.isInterval === true || params.isInterval === 'true') return 'interval';
  return String(process.env.__OW_ACTION_NAME || '').split('/').pop();
}

async function main(params) {
  const { lifecycleEvent, triggerName, authKey, providerUrl, apihost, feedProvider, feedName: _f, fireOnce: _o, isInterval: _i, ...feedParams } = params;
  const provider = String(feedProvider || String(process.env.__OW_ACTION_NAME || '').split('/').slice(-2, -1)[0] || '');
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
  if (!host) return { error: `no providerUrl parameter and no __OW_API_HOST: cannot reach the ${provider} provider` };
  const url = `${host}/feeds/v1/${encodeURIComponent(provider)}/triggers/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}${route[1]}`;
  const body = event === 'CREATE' ? { feed: feedOf(params), ...feedParams } : event === 'UPDATE' ? feedParams : undefined;
  const headers = { authorization: `Basic ${Buffer.from(String(authKey)).toString('base64')}` };
  if (body) headers['content-type'] = 'application/json';

  let res;
  try {
    res = await fetch(url, { method: route[0], headers, body: body && JSON.stringify(body), signal: AbortSignal.timeout(50_000) });
  } catch (err) {
    return { error: `cannot reach the ${provider} provider at ${host}: ${err.message}` };
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
  return { error: json.error || json.message || `the ${provider} provider answered ${res.status}` };
}

exports.main = main;
