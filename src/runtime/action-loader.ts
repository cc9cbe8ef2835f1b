import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as vm from 'node:vm';
import { readZip } from './zip-reader.js';

/**
 * Turns the `value` of an /init into the action's entry function.
 *
 * Plain code runs as a CommonJS-style script (exports, require, module, __filename, __dirname in
 * scope), so both `function main(){}` and `exports.main = …` / `module.exports = …` work. Code
 * with ES module syntax (`export function main`) is written to a temporary `.mjs` file and
 * imported. Binary code is a base64 zip: unpacked into a temporary folder and required as a
 * package (its package.json `main`, else index.js).
 */
export type ActionMain = (params: Record<string, unknown>) => unknown;

export interface ActionSource {
  name: string;
  main: string;
  code: string;
  binary: boolean;
}

export class ActionLoadError extends Error {
  override name = 'ActionLoadError';
}

const MAIN_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
const ESM_SYNTAX = /Cannot use import statement|Unexpected token 'export'|'import\.meta'|await is only valid/;

/** Where plain code "lives" for require() and stack traces: beside the proxy, so the runtime
 * image's node_modules (if any) resolve. Nothing is written there. */
function scriptFilename(name: string): string {
  const safe = (name || 'action').replace(/[^\w.-]/g, '_');
  return fileURLToPath(new URL(`./${safe}.action.js`, import.meta.url));
}

export async function loadAction(source: ActionSource): Promise<ActionMain> {
  const main = source.main || 'main';
  if (!MAIN_NAME.test(main)) throw new ActionLoadError(`Action entrypoint '${main}' is not a valid function name.`);
  const path = main.split('.');
  const fn = source.binary ? await loadZip(source.code, path) : await loadScript(source, path);
  if (typeof fn !== 'function') throw new ActionLoadError(`Action entrypoint '${main}' is not a function.`);
  return fn as ActionMain;
}

async function loadScript(source: ActionSource, path: string[]): Promise<unknown> {
  const filename = scriptFilename(source.name);
  let wrapper: (...args: unknown[]) => unknown;
  try {
    // The wrapper opens on the code's first line, so reported line numbers stay right.
    wrapper = vm.runInThisContext(
      `(function (exports, require, module, __filename, __dirname) {${source.code}\n;return typeof ${path[0]} === 'undefined' ? undefined : ${path[0]};\n})`,
      { filename },
    ) as (...args: unknown[]) => unknown;
  } catch (err) {
    if (err instanceof SyntaxError && ESM_SYNTAX.test(err.message)) return loadModuleText(source, path);
    throw err;
  }
  const module = { exports: {} as unknown };
  const declared = wrapper.call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
  const fromScope = pick(declared, path.slice(1));
  return typeof fromScope === 'function' ? fromScope : fromExports(module.exports, path);
}

async function loadModuleText(source: ActionSource, path: string[]): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'action-'));
  const file = join(dir, 'action.mjs');
  await writeFile(file, source.code);
  return fromExports(await import(pathToFileURL(file).href), path);
}

async function loadZip(base64: string, path: string[]): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'action-'));
  for (const entry of readZip(Buffer.from(base64, 'base64'))) {
    const target = safeJoin(dir, entry.name);
    if (entry.name.endsWith('/')) {
      await mkdir(target, { recursive: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, entry.data);
    }
  }
  if (!existsSync(join(dir, 'package.json')) && !existsSync(join(dir, 'index.js'))) {
    throw new ActionLoadError('Zipped actions must contain either package.json or index.js at the root.');
  }
  // Like the reference runtime: relative file access in the action starts at its own folder.
  process.chdir(dir);
  const require = createRequire(join(dir, 'package.json'));
  let exported: unknown;
  try {
    exported = require(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw err;
    exported = await import(pathToFileURL(require.resolve(dir)).href);
  }
  return fromExports(exported, path);
}

/** `main` on the exports, on an ES module's default export, or the export itself for "main". */
function fromExports(exported: unknown, path: string[]): unknown {
  const direct = pick(exported, path);
  if (typeof direct === 'function') return direct;
  const viaDefault = pick((exported as { default?: unknown } | null)?.default, path);
  if (typeof viaDefault === 'function') return viaDefault;
  if (path.length === 1 && path[0] === 'main') {
    if (typeof exported === 'function') return exported;
    const def = (exported as { default?: unknown } | null)?.default;
    if (typeof def === 'function') return def;
  }
  return undefined;
}

function pick(from: unknown, path: string[]): unknown {
  let value = from;
  for (const key of path) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Refuses entries that would land outside the folder (absolute paths, `..`). */
function safeJoin(dir: string, name: string): string {
  const rel = normalize(name);
  if (rel.startsWith('/') || rel === '..' || rel.startsWith(`..${sep}`) || /^[A-Za-z]:/.test(rel)) {
    throw new ActionLoadError(`The action archive holds an unsafe path: ${name}`);
  }
  return join(dir, rel);
}
