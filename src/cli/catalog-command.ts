import type { Command } from 'commander';
import { installCatalog } from '../../catalog/installer.js';
import { catalogPackages } from '../../catalog/manifest.js';
import { ConfigError, loadConfig } from '../config/config.js';

/**
 * `whiskhub catalog install`: installs the /whisk.system packages through the REST API with the
 * whisk.system key. Idempotent (only what differs is written) and verbose (one line per entity);
 * what the Kubernetes Job runs, and what standalone does in-process at start.
 */
export function registerCatalogCommand(program: Command): void {
  const catalog = program.command('catalog').description('the /whisk.system packages (alarms, github, slack, messaging)');
  catalog
    .command('install')
    .description('install or update the system packages through the REST API (idempotent)')
    .option('--apihost <url>', 'the controller (default: WHISKHUB_API_HOST, else http://127.0.0.1:3233)')
    .option('--auth <uuid:key>', 'the whisk.system key (default: WHISKHUB_SYSTEM_AUTH)')
    .option('--provider-url <url>', 'bind providerUrl: where feed actions reach the providers (default: WHISKHUB_FEEDS_PROVIDER_URL, else none)')
    .option('--github-provider-url <url>', 'where the github feed action reaches its provider, when it runs apart from the others (default: --provider-url)')
    .option('--slack-provider-url <url>', 'where the slack feed action reaches its provider, when it runs apart from the others (default: --provider-url)')
    .option('--kafka-provider-url <url>', 'where the messaging feed actions reach the kafka provider, when it runs apart from the others (default: --provider-url)')
    .action(async (opts: { apihost?: string; auth?: string; providerUrl?: string; githubProviderUrl?: string; slackProviderUrl?: string; kafkaProviderUrl?: string }) => {
      const config = loadConfig(process.env, 'cluster');
      const authKey = opts.auth ?? config.systemAuth;
      if (!authKey) throw new ConfigError('catalog install needs the whisk.system key: --auth or WHISKHUB_SYSTEM_AUTH');
      const apiHost = opts.apihost ?? config.apiHost;
      console.log(`catalog: controller ${apiHost}`);
      await installCatalog({
        apiHost,
        authKey,
        packages: catalogPackages({
          alarmsProviderUrl: opts.providerUrl ?? config.feeds.providerUrl,
          githubProviderUrl: opts.githubProviderUrl ?? opts.providerUrl ?? config.feeds.providerUrl,
          slackProviderUrl: opts.slackProviderUrl ?? opts.providerUrl ?? config.feeds.providerUrl,
          kafkaProviderUrl: opts.kafkaProviderUrl ?? opts.providerUrl ?? config.feeds.providerUrl,
        }),
        report: (line) => console.log(line),
      });
    });
}
