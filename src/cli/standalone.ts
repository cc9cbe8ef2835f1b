import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerAdminRoutes } from '../admin/admin-routes.js';
import { AdminService, authString } from '../admin/admin-service.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { buildController } from './build-controller.js';
import { openStore } from './open-store.js';

export interface StandaloneHandle {
  apiHost: string;
  guestAuth: string;
  dataDir: string;
  store: ArtifactStore;
  close(): Promise<void>;
}

/** Where a running standalone leaves its address, for `whiskhub admin` to find it. */
export const runtimeFile = (dataDir: string) => join(dataDir, 'standalone.json');
export const adminTokenFile = (dataDir: string) => join(dataDir, 'admin.token');

function readOrCreateToken(dataDir: string): string {
  const file = adminTokenFile(dataDir);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, token, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/**
 * Every role in one process on the embedded store: `npm start`. Creates the `guest` namespace on
 * first start (with WHISKHUB_GUEST_AUTH when set, else a generated key that is kept).
 */
export async function startStandalone(config: Config, logger: Logger): Promise<StandaloneHandle> {
  mkdirSync(config.dataDir, { recursive: true });
  const store = await openStore(config, logger);
  try {
    const admin = new AdminService(store);
    const guest = await admin.ensureNamespace('guest', 'guest', config.guestAuth);
    if (guest.changed) logger.warn('the guest key was replaced by WHISKHUB_GUEST_AUTH');
    const token = readOrCreateToken(config.dataDir);
    const { app } = await buildController(config, store, logger, {
      extraRoutes: (a) => registerAdminRoutes(a, admin, token),
    });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const apiHost = `http://${config.host}:${port}`;
    writeFileSync(runtimeFile(config.dataDir), JSON.stringify({ pid: process.pid, apiHost }));
    return {
      apiHost,
      guestAuth: authString(guest.key),
      dataDir: config.dataDir,
      store,
      close: async () => {
        await app.close();
        await store.close();
        rmSync(runtimeFile(config.dataDir), { force: true });
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

export function banner(h: StandaloneHandle): string {
  return [
    '',
    'whiskhub standalone is running.',
    `  API host:   ${h.apiHost}`,
    `  namespace:  guest`,
    `  data:       ${h.dataDir}`,
    '',
    'Point the wsk CLI at it:',
    `  wsk property set --apihost ${h.apiHost} --auth ${h.guestAuth}`,
    '  (use `wsk -i ...`; the API is plain HTTP on loopback)',
    '',
    'Or the openwhisk npm client:',
    `  openwhisk({ apihost: '${h.apiHost}', api_key: '${h.guestAuth}' })`,
    '',
    'Stop with Ctrl-C.',
    '',
  ].join('\n');
}
