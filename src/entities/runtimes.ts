import { badRequest } from './errors.js';

/**
 * The runtime manifest: which `exec.kind` values this platform runs, and what `<family>:default`
 * resolves to. Images are the invoker's concern; here we only validate and resolve names.
 */
export const RUNTIMES = {
  nodejs: { default: 'nodejs:20', kinds: ['nodejs:20'] },
} as const;

export const SPECIAL_KINDS = ['blackbox', 'sequence'] as const;

export function supportedKinds(): string[] {
  const out: string[] = [];
  for (const [family, r] of Object.entries(RUNTIMES)) out.push(...r.kinds, `${family}:default`);
  return [...out, ...SPECIAL_KINDS].sort();
}

/** Lower-cases the kind and resolves `<family>:default`; unknown kinds are a 400. */
export function resolveKind(kind: unknown): string {
  const k = typeof kind === 'string' ? kind.toLowerCase() : '';
  if ((SPECIAL_KINDS as readonly string[]).includes(k)) return k;
  const [family, version] = k.split(':');
  const runtime = RUNTIMES[family as keyof typeof RUNTIMES];
  if (runtime) {
    if (version === 'default') return runtime.default;
    if ((runtime.kinds as readonly string[]).includes(k)) return k;
  }
  throw badRequest(
    `The specified runtime '${String(kind)}' is not supported by this platform. Valid values are: ${supportedKinds().join(', ')}.`,
    'UNSUPPORTED_KIND',
  );
}

/**
 * OpenWhisk's rule for `binary`: non-empty trimmed code whose length is a multiple of 4 and that
 * only uses the base64 alphabet (so even "abcd" counts as binary, as upstream does).
 */
export function isBinaryCode(code: string): boolean {
  const t = code.trim();
  return t.length > 0 && t.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t.replace(/\s/g, ''));
}
