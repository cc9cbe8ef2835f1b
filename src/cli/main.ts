import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import { SETTINGS } from '../config/settings.js';
import { HubError } from '../entities/errors.js';
import { createLogger } from '../logging/logger.js';
import { VERSION } from '../version.js';
import { registerAdminCommand } from './admin-command.js';
import { registerCatalogCommand } from './catalog-command.js';
import { registerProviderCommand } from './feed-providers.js';
import { startControllerRole, startInvokerRole } from './cluster-roles.js';
import { banner, startStandalone } from './standalone.js';

const program = new Command();
program.name('whiskhub').description('An OpenWhisk-compatible, event-centred serverless platform').version(VERSION);

program
  .command('standalone')
  .description('run every role in one process on the embedded store (what `npm start` runs)')
  .action(async () => {
    const config = loadConfig(process.env, 'standalone');
    const logger = createLogger(config.logLevel, 'standalone');
    const handle = await startStandalone(config, logger);
    process.stderr.write(banner(handle));
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      await handle.close();
      logger.info('stopped; all data is on disk');
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

for (const [name, description, start] of [
  ['controller', 'run a controller: the REST API and the load balancer (cluster: Kafka and CouchDB)', startControllerRole],
  ['invoker', 'run an invoker: consume invoker<N> and run activations in containers (cluster)', startInvokerRole],
] as const) {
  program
    .command(name)
    .description(description)
    .action(async () => {
      const config = loadConfig(process.env, 'cluster');
      const logger = createLogger(config.logLevel, name);
      const role = await start(config, logger);
      logger.info(`${role.describe} started`);
      const stop = async (signal: string) => {
        logger.info({ signal }, 'stopping');
        await role.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}

program
  .command('settings')
  .description('print every setting (environment variable) with its defaults')
  .option('--markdown', 'as a Markdown table')
  .action((opts: { markdown?: boolean }) => {
    if (opts.markdown) {
      console.log('| variable | standalone default | cluster default | meaning |\n| --- | --- | --- | --- |');
      for (const s of SETTINGS) {
        const d = s as { standalone?: string; cluster?: string };
        console.log(`| \`${s.env}\` | ${d.standalone ? `\`${d.standalone}\`` : '–'} | ${d.cluster ? `\`${d.cluster}\`` : '–'} | ${s.doc} |`);
      }
      return;
    }
    for (const s of SETTINGS) console.log(`${s.env}\n    ${s.doc}`);
  });

registerAdminCommand(program);
registerCatalogCommand(program);
registerProviderCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof HubError) {
    console.error(`whiskhub: ${err.message}`);
    process.exit(2);
  }
  console.error(`whiskhub: ${(err as Error).message ?? err}`);
  process.exit(1);
});
