import { createProxyServer } from './proxy-server.js';

/**
 * The action proxy: `node main.js`, the runtime image's command and what the process factory
 * spawns. Plain Node, node: built-ins only, because only src/runtime/ goes into the image.
 *
 * Environment (read here and nowhere else in the proxy):
 *   __OW_PROXY_PORT   port to listen on (default 8080, OpenWhisk's)
 *   __OW_PROXY_HOST   address to bind (default 0.0.0.0; 127.0.0.1 on a shared host network)
 *   __OW_PROXY_EXIT_WITH_STDIN=1   exit when stdin ends: a process-factory child then dies with
 *                     its invoker instead of living on as an orphan.
 * Everything else in the environment is the action's.
 */
const port = Number(process.env.__OW_PROXY_PORT || 8080);
const host = process.env.__OW_PROXY_HOST || '0.0.0.0';
const exitWithStdin = process.env.__OW_PROXY_EXIT_WITH_STDIN === '1';
for (const key of ['__OW_PROXY_PORT', '__OW_PROXY_HOST', '__OW_PROXY_EXIT_WITH_STDIN']) delete process.env[key];

// As PID 1 in a container, Node gets no default signal handling: without these, `docker stop`
// waits out its grace period.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));

// The action's stray errors (a rejected promise nobody awaited, a throw in a timer) go to its
// logs; the proxy keeps serving, as other activations may be in flight.
process.on('unhandledRejection', (reason) => console.error('Unhandled promise rejection:', reason));
process.on('uncaughtException', (err) => console.error('Uncaught exception:', err));

if (exitWithStdin) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

const server = createProxyServer();
server.on('error', (err) => {
  console.error(`action proxy: cannot listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
});
server.listen(port, host);
