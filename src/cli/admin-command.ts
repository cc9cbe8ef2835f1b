import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AdminService, authString } from '../admin/admin-service.js';
import { RemoteAdmin, type AdminApi } from '../admin/remote-admin.js';
import { loadConfig } from '../config/config.js';
import type { NamespaceLimits } from '../entities/documents.js';
import { createLogger } from '../logging/logger.js';
import { openStore } from './open-store.js';
import { adminTokenFile, runtimeFile } from './standalone.js';

/**
 * `whiskhub admin`: wskadmin's user and limits commands. With CouchDB it writes to the store
 * directly; with the embedded store it goes through the running standalone when there is one
 * (the store admits one process), else opens the store itself.
 */
async function withAdmin<T>(fn: (admin: AdminApi) => Promise<T>): Promise<T> {
  const env = process.env;
  const config = loadConfig(env, env.WHISKHUB_STORE === 'couchdb' ? 'cluster' : 'standalone');
  if (config.store === 'embedded' && existsSync(runtimeFile(config.dataDir))) {
    const { pid, apiHost } = JSON.parse(readFileSync(runtimeFile(config.dataDir), 'utf8')) as { pid: number; apiHost: string };
    if (isAlive(pid)) {
      return fn(new RemoteAdmin(apiHost, readFileSync(adminTokenFile(config.dataDir), 'utf8').trim()));
    }
  }
  const store = await openStore(config, createLogger('warn', 'admin'));
  try {
    return await fn(new AdminService(store));
  } finally {
    await store.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const apiHostHint = () => process.env.WHISKHUB_API_HOST ?? `http://127.0.0.1:${process.env.WHISKHUB_PORT ?? 3233}`;

export function registerAdminCommand(program: Command): void {
  const admin = program.command('admin').description('manage namespaces, keys and limits (like wskadmin)');
  const user = admin.command('user').description('subjects, their namespaces and keys');

  user
    .command('create <subject>')
    .description('create a subject with a namespace and key (or add a namespace to a subject); prints the key')
    .option('-n, --namespace <namespace>', 'namespace to create (default: the subject name)')
    .option('-u, --auth <uuid:key>', 'use this key instead of generating one')
    .action(async (subject: string, opts: { namespace?: string; auth?: string }) => {
      const key = await withAdmin((a) => a.createUser(subject, opts));
      console.log(authString(key));
      console.error(`namespace '${key.name}' created. Point wsk at it with:\n  wsk property set --apihost ${apiHostHint()} --auth ${authString(key)}`);
    });

  user
    .command('get <subject>')
    .description("print a subject's key (for one namespace, or all with --all)")
    .option('-n, --namespace <namespace>', 'the namespace whose key to print')
    .option('-a, --all', 'print every namespace and key of the subject')
    .action(async (subject: string, opts: { namespace?: string; all?: boolean }) => {
      const doc = await withAdmin((a) => a.getUser(subject));
      if (opts.all) {
        for (const n of doc.namespaces) console.log(`${n.name}\t${authString(n)}`);
        return;
      }
      const ns = doc.namespaces.find((n) => n.name === (opts.namespace ?? subject)) ?? doc.namespaces[0];
      if (!ns) throw new Error(`subject '${subject}' has no namespace '${opts.namespace}'`);
      console.log(authString(ns));
    });

  user
    .command('list [namespace]')
    .description('list subjects (with namespaces and uuids; keys only with --keys), or those owning a namespace')
    .option('-k, --keys', 'include the secret keys')
    .action(async (namespace: string | undefined, opts: { keys?: boolean }) => {
      const subjects = await withAdmin((a) => a.listUsers(namespace));
      for (const s of subjects) {
        for (const n of s.namespaces) {
          const cred = opts.keys ? authString(n) : n.uuid;
          console.log(`${s.subject}\t${n.name}\t${cred}${s.blocked ? '\tblocked' : ''}`);
        }
      }
    });

  user
    .command('delete <subject>')
    .description('delete a subject and all its keys, or one namespace with --namespace')
    .option('-n, --namespace <namespace>', 'delete only this namespace of the subject')
    .action(async (subject: string, opts: { namespace?: string }) => {
      await withAdmin((a) => a.deleteUser(subject, opts.namespace));
      console.error(opts.namespace ? `namespace '${opts.namespace}' of '${subject}' deleted` : `subject '${subject}' deleted`);
    });

  for (const [cmd, blocked] of [['block', true], ['unblock', false]] as const) {
    user
      .command(`${cmd} <subject>`)
      .description(blocked ? 'refuse every key of a subject' : 'accept the keys of a blocked subject again')
      .action(async (subject: string) => {
        await withAdmin((a) => a.setBlocked(subject, blocked));
        console.error(`subject '${subject}' ${blocked ? 'blocked' : 'unblocked'}`);
      });
  }

  const limits = admin.command('limits').description('per-namespace throttle overrides');
  limits
    .command('set <namespace>')
    .description('override throttles for one namespace')
    .option('--invocationsPerMinute <n>', 'action invocations per minute', Number)
    .option('--concurrentInvocations <n>', 'activations in flight', Number)
    .option('--firesPerMinute <n>', 'trigger fires per minute', Number)
    .action(async (namespace: string, opts: NamespaceLimits) => {
      for (const [k, v] of Object.entries(opts)) {
        if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`--${k} must be a whole number`);
      }
      const doc = await withAdmin((a) => a.setLimits(namespace, opts));
      console.log(JSON.stringify(doc.limits ?? {}));
    });
  limits
    .command('delete <namespace>')
    .description('remove the overrides; the deployment defaults apply again')
    .action(async (namespace: string) => {
      await withAdmin((a) => a.setLimits(namespace, undefined));
      console.error(`limits of '${namespace}' reset to the defaults`);
    });
}
