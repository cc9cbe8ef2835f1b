import { serveBodies } from './body-server.js';
import { FloorLog } from './floor-log.js';

/**
 * The controller's part of the Kafka floor (`bench kafka`): a bare node HTTP server that takes a
 * fire body, parses it (a controller must know it is JSON), appends it to a file and syncs it
 * before answering 202. No triggers, records or rules. Arguments: port, log file.
 */
const [port, logPath] = process.argv.slice(2);
const log = await FloorLog.open(logPath);

serveBodies(Number(port), async (_req, raw) => {
  try {
    JSON.parse(raw.toString('utf8'));
  } catch {
    return { status: 400, body: '{"error":"malformed"}' };
  }
  await log.append(raw);
  return { status: 202, body: '{"activationId":"floor"}' };
});
