import { createServer } from 'node:http';
import { FloorLog } from './floor-log.js';

/**
 * The controller's part of the Kafka floor (`bench kafka`): a bare node HTTP server that takes a
 * fire body, parses it (a controller must know it is JSON), appends it to a file and syncs it
 * before answering 202. No triggers, records or rules. Arguments: port, log file.
 */
const [port, logPath] = process.argv.slice(2);
const log = await FloorLog.open(logPath);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      const raw = Buffer.concat(chunks);
      try {
        JSON.parse(raw.toString('utf8'));
      } catch {
        return res.writeHead(400).end();
      }
      await log.append(raw);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"activationId":"floor"}');
    })();
  });
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
