import type { ContainerPool } from './container-pool.js';
import type { ActionDoc, ActivationDoc, ActivationResponse } from '../entities/documents.js';
import { isBlackbox, isSequence } from '../entities/documents.js';
import { getValue, type KeyValue } from '../entities/params.js';
import { withFieldTexts } from '../entities/json-text.js';
import { formatLogs } from './log-format.js';
import type { ActivationMessage } from './messages.js';
import { initFailure, runOutcome, Status, systemError } from './outcome.js';

const MB = 1024 * 1024;
/** How long to wait for the sentinel after /run answered before giving up on the logs. */
const LOG_WAIT_MS = 2_000;

/** `init: true` parameters and the action's identity go to /init as (string) environment. */
function initEnv(msg: ActivationMessage, action: ActionDoc, apiKey: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg.initArgs)) env[k] = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  env.__OW_NAMESPACE = msg.user.namespace;
  env.__OW_ACTION_NAME = `/${msg.action.path}/${msg.action.name}`;
  env.__OW_ACTION_VERSION = action.version;
  env.__OW_ACTIVATION_ID = msg.activationId;
  env.__OW_TRANSACTION_ID = msg.transactionId;
  if (apiKey) env.__OW_API_KEY = apiKey;
  return env;
}

/** The key is passed to the action only if `provide-api-key` says so (or is missing, for old actions). */
function apiKeyFor(action: ActionDoc, msg: ActivationMessage): string | undefined {
  const flag = getValue(action.annotations, 'provide-api-key');
  return flag === undefined || flag === true ? msg.user.authKey : undefined;
}

export interface RunResult {
  record: ActivationDoc;
  isSystemError: boolean;
}

/**
 * Runs one activation in a pooled container: /init when the container is new to the action,
 * /run, then the logs up to the sentinel; builds the record OpenWhisk would. A container that
 * timed out, crashed or failed to initialize is destroyed, never reused. `onRan` gets the record
 * without logs as soon as /run answered, before the logs are collected (a blocking caller's
 * answer need not wait for them, as in OpenWhisk).
 */
export async function runActivation(pool: ContainerPool, msg: ActivationMessage, action: ActionDoc, onRan?: (early: RunResult) => void): Promise<RunResult> {
  if (isSequence(action.exec)) throw new Error('sequences run in the controller, not in an invoker');
  const limits = action.limits;
  const logLimit = limits.logs * MB;
  const lease = await pool.acquire({
    actionKey: `${msg.action.path}/${msg.action.name}@${msg.action.rev}`,
    kind: action.exec.kind,
    image: isBlackbox(action.exec) ? action.exec.image : undefined,
    memoryMB: limits.memory,
    concurrency: limits.concurrency,
  });
  const apiKey = apiKeyFor(action, msg);
  const start = Date.now();
  let initTime: number | undefined;
  let response: ActivationResponse;
  let end: number;
  let broken = false;
  let timedOut = false;
  try {
    if (lease.needsInit) {
      const exec = action.exec;
      const init = await lease.container.init(
        {
          name: msg.action.name,
          main: exec.main ?? 'main',
          code: exec.code ?? '',
          binary: exec.binary,
          env: initEnv(msg, action, apiKey),
        },
        limits.timeout,
      );
      initTime = init.end - init.start;
      if (init.statusCode !== 200 || init.timedOut || init.exited) {
        broken = true;
        timedOut = init.timedOut;
        response = initFailure(init, limits.timeout);
        end = init.end;
        const logs = await lease.container.collectLogs(logLimit, LOG_WAIT_MS).catch(() => ({ lines: [], truncated: false, complete: false }));
        return { record: record(msg, action, start, end, response, formatLogs(logs, logLimit, true), initTime, timedOut), isSystemError: false };
      }
      lease.initialized();
    }
    const deadline = Date.now() + limits.timeout;
    const run = await lease.container.run(
      // Arguments with their text noted (a large fire's) are sent as that text.
      withFieldTexts({
        value: msg.content,
        namespace: msg.user.namespace,
        action_name: `/${msg.action.path}/${msg.action.name}`,
        action_version: action.version,
        activation_id: msg.activationId,
        transaction_id: msg.transactionId,
        deadline: String(deadline),
        ...(apiKey ? { api_key: apiKey } : {}),
      }, 'value'),
      limits.timeout,
    );
    response = runOutcome(run, limits.timeout);
    end = run.end;
    timedOut = run.timedOut;
    broken = run.timedOut || run.exited || run.oomKilled;
    onRan?.({ record: record(msg, action, start, end, response, [], initTime, timedOut), isSystemError: false });
    const logs = broken
      ? { lines: [], truncated: false, complete: false }
      : await lease.container.collectLogs(logLimit, LOG_WAIT_MS).catch(() => ({ lines: [], truncated: false, complete: false }));
    const lines = formatLogs(logs, logLimit, response.statusCode === Status.developerError);
    return { record: record(msg, action, start, end, response, lines, initTime, timedOut), isSystemError: false };
  } catch (err) {
    broken = true;
    const now = Date.now();
    return {
      record: record(msg, action, start, now, systemError(`Failed to run the action: ${(err as Error).message}`), [], initTime, false),
      isSystemError: true,
    };
  } finally {
    await lease.release(broken);
  }
}

function record(
  msg: ActivationMessage,
  action: ActionDoc,
  start: number,
  end: number,
  response: ActivationResponse,
  logs: string[],
  initTime: number | undefined,
  timedOut: boolean,
): ActivationDoc {
  const annotations: KeyValue[] = [
    { key: 'path', value: `${msg.action.path}/${msg.action.name}` },
    { key: 'waitTime', value: Math.max(0, start - msg.receivedAt) },
    { key: 'kind', value: action.exec.kind },
    { key: 'timeout', value: timedOut },
    { key: 'limits', value: action.limits },
  ];
  if (initTime !== undefined) annotations.push({ key: 'initTime', value: initTime });
  if (msg.binding) annotations.push({ key: 'binding', value: msg.binding });
  if (msg.cause) annotations.push({ key: 'causedBy', value: 'sequence' });
  return {
    namespace: msg.user.namespace,
    name: msg.action.name,
    version: action.version,
    subject: msg.user.subject,
    publish: false,
    activationId: msg.activationId,
    start,
    end,
    duration: end - start,
    ...(msg.cause ? { cause: msg.cause } : {}),
    response,
    logs,
    annotations,
    entityPaths: entityPaths(msg),
  };
}

/** The names an activation is listed by: `action`, or `pkg/action` (also through the binding). */
export function entityPaths(msg: Pick<ActivationMessage, 'action' | 'binding'>): string[] {
  const pkg = msg.action.path.split('/')[1];
  const paths = [pkg ? `${pkg}/${msg.action.name}` : msg.action.name];
  if (msg.binding) paths.push(`${msg.binding.split('/')[1]}/${msg.action.name}`);
  return paths;
}
