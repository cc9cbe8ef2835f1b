import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerAdminRoutes } from '../admin/admin-routes.js';
import { AdminService, authString } from '../admin/admin-service.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { TriggerEngine } from '../controller/invoke/trigger-engine.js';
import { EmbeddedFireQueue } from '../triggers/embedded/embedded-fire-queue.js';
import { installCatalog } from '../../catalog/installer.js';
import { catalogPackages } from '../../catalog/manifest.js';
import { buildController } from './build-controller.js';
import { stopSteps } from './stop-steps.js';
import { localFire, type LocalFire } from '../controller/fire-trigger.js';
import { standaloneFeeds } from './feed-providers.js';
import { openBus, openContainerFactory } from './open-pipeline-parts.js';
import { openStore } from './open-store.js';
import { startControllerPipeline, type ControllerPipeline } from './start-pipeline.js';
import { startInvoker } from './start-invoker.js';

export interface StandaloneHandle {
  apiHost: string;
  guestAuth: string;
  dataDir: string;
  /** Where actions run: `docker` or `process`. */
  containers: string;
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
  const bus = openBus(config, logger, 'whiskhub-standalone');
  const stops = stopSteps(logger);
  stops.add(() => store.close());
  stops.add(async () => bus.close());
  const stopAll = stops.run;
  try {
    const admin = new AdminService(store);
    const guest = await admin.ensureNamespace('guest', 'guest', config.guestAuth);
    if (guest.changed) logger.warn('the guest key was replaced by WHISKHUB_GUEST_AUTH');
    // whisk.system owns the catalog (/whisk.system/alarms); the alarms provider runs in-process.
    const system = await admin.ensureNamespace('whisk.system', 'whisk.system', config.systemAuth);
    let apiHost = config.apiHost;
    let fire: LocalFire | undefined;
    const feeds = standaloneFeeds(config, store, () => apiHost, logger, () => fire);
    const token = readOrCreateToken(config.dataDir);
    // The invoker and the controller share one process and talk over the in-process bus.
    // The balancer listens before the invoker starts, so it hears the invoker's first ping.
    let pipeline: ControllerPipeline | undefined;
    const { app, ctx } = await buildController(config, store, logger, {
      gateway: async (throttles) => (pipeline = await startControllerPipeline(config, store, bus, throttles, logger)).gateway,
      extraRoutes: (a) => {
        registerAdminRoutes(a, admin, token);
        feeds.register(a);
      },
    });
    fire = localFire(ctx);
    stops.add(() => pipeline!.balancer.stop());
    // Fires are kept in the embedded store until fanned out, so a crash loses none.
    const triggers = new TriggerEngine(store, new EmbeddedFireQueue(store, logger), pipeline!.gateway, ctx.throttles, config, logger, bus.durable);
    stops.add(() => triggers.stop());
    const factory = await openContainerFactory(config, logger);
    stops.add(() => factory.close());
    const invoker = await startInvoker(config, store, bus, factory, logger);
    stops.add(() => invoker.stop());
    stops.add(() => app.close());
    await pipeline!.balancer.waitForInvoker(10_000);
    await triggers.start();
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    apiHost = `http://${config.host}:${port}`;
    await installCatalog({
      apiHost,
      authKey: authString(system.key),
      packages: catalogPackages({ alarmsProviderUrl: config.feeds.providerUrl }),
      report: (line) => logger.info(line),
    });
    stops.add(() => feeds.kit.stop());
    await feeds.kit.start();
    writeFileSync(runtimeFile(config.dataDir), JSON.stringify({ pid: process.pid, apiHost }));
    return {
      apiHost,
      guestAuth: authString(guest.key),
      dataDir: config.dataDir,
      containers: factory.name,
      store,
      close: async () => {
        await stopAll();
        rmSync(runtimeFile(config.dataDir), { force: true });
      },
    };
  } catch (err) {
    await stopAll();
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
    `  actions run as ${h.containers === 'docker' ? 'Docker containers' : 'local processes'}`,
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
