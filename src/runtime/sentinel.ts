/**
 * The end-of-activation marker. The proxy writes it on its own line to both stdout and stderr
 * after each /run and after a failed /init; the invoker reads each stream up to it.
 *
 * The same text as LOG_SENTINEL in src/containers/container-factory.ts: the proxy imports
 * nothing outside src/runtime/ because only these files are copied into the runtime image
 * (test/unit/runtime-proxy.test.ts checks that the two agree).
 */
export const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

/** Writes the sentinel to both streams (synchronous for files and pipes on Linux). */
export function writeSentinels(): void {
  process.stdout.write(`${SENTINEL}\n`);
  process.stderr.write(`${SENTINEL}\n`);
}
