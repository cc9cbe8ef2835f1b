import { execFileSync } from 'node:child_process';
import { beforeAll } from 'vitest';
import { ProcessContainerFactory } from '../../src/containers/process/process-container-factory.js';
import { describeContainerFactory } from './container-factory.contract.js';

// The process factory needs no services: only the compiled proxy, built here when stale.
beforeAll(() => {
  execFileSync('bash', ['deploy/runtimes/build-proxy.sh'], { stdio: 'inherit', timeout: 120_000 });
}, 150_000);

describeContainerFactory('process', {
  newFactory: () => new ProcessContainerFactory(),
  memory: {
    // The limit is V8's heap (--max-old-space-size): an action filling the heap past it is
    // aborted by Node, which the factory reads on stderr. Off-heap memory (Buffers) is not held.
    limitMB: 128,
    hogCode: 'function main() { const keep = []; for (let i = 0; i < 1e8; i++) keep.push({ i, s: "x" + i }); return { n: keep.length }; }',
    reportsOomKilled: true,
  },
});
