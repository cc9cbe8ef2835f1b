import { verify } from '@octokit/webhooks-methods';
import { readStdin, serveBodies } from './body-server.js';
import { FloorLog } from './floor-log.js';

/**
 * The floor of `bench webhooks`: a bare node HTTP server that does only what the issue asks of
 * any endpoint that answers "queued": the bare server's work (signature checked in constant
 * time with the same function, JSON parsed) plus a delivery id remembered (in memory) and the
 * delivery appended to a file and synced before its 202. No framework, no store, no fires. What it
 * reaches against the bare server is the most a durable endpoint can reach on this machine.
 * Arguments: port, log file. The secret comes in on stdin.
 */
const [port, logPath] = process.argv.slice(2);
const secret = await readStdin();
const log = await FloorLog.open(logPath);
const seen = new Set<string>();

serveBodies(Number(port), async (req, raw) => {
  const text = raw.toString('utf8');
  if (!(await verify(secret, text, String(req.headers['x-hub-signature-256'])).catch(() => false))) return { status: 400, body: '{"error":"bad signature"}' };
  try {
    JSON.parse(text);
  } catch {
    return { status: 400, body: '{"error":"malformed"}' };
  }
  const delivery = String(req.headers['x-github-delivery']);
  if (seen.has(delivery)) return { status: 200, body: '{"ok":true,"fired":false}' };
  seen.add(delivery);
  await log.append(Buffer.from(`${JSON.stringify({ delivery, event: req.headers['x-github-event'], bytes: raw.length })}\n`), raw);
  return { status: 202, body: '{"ok":true}' };
});
