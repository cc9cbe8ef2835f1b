import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the compiled action proxy is: `dist/src/runtime/main.js` under the whiskhub package
 * root, found by walking up from this module (it runs from src/ under vitest and from dist/src/
 * when built, so a fixed relative path would not do).
 */
export function findProxyScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && isWhiskhub(pkg)) {
      const script = join(dir, 'dist', 'src', 'runtime', 'main.js');
      if (!existsSync(script)) {
        throw new Error(`the action proxy is not built (${script} is missing): run \`npm run build\` or deploy/runtimes/build-proxy.sh`);
      }
      return script;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the whiskhub package root to locate the action proxy');
    dir = parent;
  }
}

function isWhiskhub(pkg: string): boolean {
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'whiskhub';
  } catch {
    return false;
  }
}
