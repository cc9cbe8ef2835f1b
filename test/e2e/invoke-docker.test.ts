import { beforeAll } from 'vitest';
import { runCommand } from '../support/standalone-process.js';
import { describeInvocation } from './invoke-suite.js';

// The Docker engine comes from deploy/dev/services-up.sh (npm test starts it); the runtime image
// is built locally with `docker import` (no registry is reachable here).
beforeAll(async () => {
  if (!process.env.DOCKER_HOST) throw new Error('DOCKER_HOST is not set: start the services with deploy/dev/services-up.sh (npm test does)');
  const built = await runCommand('bash', ['deploy/runtimes/build-nodejs-image.sh']);
  if (built.code !== 0) throw new Error(`building the runtime image failed:\n${built.stdout}\n${built.stderr}`);
}, 180_000);

describeInvocation('docker');
