import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { makeZip, type ZipEntry } from './zip.js';

const require = createRequire(import.meta.url);

/** The files of an installed npm package that its code needs at run time (no docs, no type declarations). */
function moduleFiles(name: string): { path: string; rel: string }[] {
  const root = dirname(require.resolve(`${name}/package.json`));
  const out: { path: string; rel: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'types' && e.name !== 'node_modules' && e.name !== 'docs') walk(path);
      } else if (/\.(c?js|json)$/.test(e.name) && !/\.spec\.js$/.test(e.name)) out.push({ path, rel: relative(root, path).split(sep).join('/') });
    }
  };
  walk(root);
  return out;
}

/**
 * An action's code as a zip: the action file as `index.js` beside `node_modules/<module>/…` for
 * each module it requires (they must have no dependencies of their own, as kafkajs has none).
 * Entries are sorted and undated, so the same sources always give the same archive.
 */
export function bundleAction(actionFile: string, modules: string[]): string {
  const entries: ZipEntry[] = [{ name: 'index.js', content: readFileSync(actionFile), deflate: true }];
  for (const m of modules) {
    for (const f of moduleFiles(m)) entries.push({ name: `node_modules/${m}/${f.rel}`, content: readFileSync(f.path), deflate: true });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return makeZip(entries).toString('base64');
}
