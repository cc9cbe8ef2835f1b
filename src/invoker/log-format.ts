import type { CollectedLogs } from '../containers/container-factory.js';

/**
 * Activation log lines as OpenWhisk stores them: the timestamp padded to 30 characters, the
 * stream, then the text (`wsk activation logs --strip` relies on this shape).
 */
export function formatLogs(logs: CollectedLogs, limitBytes: number, developerError: boolean): string[] {
  const lines = logs.lines.map((l) => `${l.time.padEnd(30)} ${l.stream}: ${l.message}`);
  const now = new Date().toISOString().replace('Z', '000000Z');
  if (logs.truncated) {
    lines.push(`${now.padEnd(30)} stderr: Logs were truncated because the total bytes size exceeds the limit of ${limitBytes} bytes.`);
  }
  if (!logs.complete && developerError) {
    lines.push(`${now.padEnd(30)} stderr: The action did not initialize or run as expected. Log data might be missing.`);
  }
  return lines;
}
