import { badRequest } from './errors.js';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

export const INITIAL_VERSION = '0.0.1';

/**
 * Accepts `1`, `1.0` and `1.0.2` (wskdeploy sends manifests' `version: 1.0` as is; OpenWhisk pads
 * the missing parts with zeros) and returns the full MAJOR.MINOR.PATCH form.
 */
export function validateVersion(v: unknown): string {
  const parts = typeof v === 'string' || typeof v === 'number' ? String(v).split('.') : [];
  if (parts.length < 1 || parts.length > 3 || !parts.every((p) => /^\d+$/.test(p))) {
    throw badRequest(`Invalid version '${String(v)}': expected MAJOR.MINOR.PATCH.`, 'BAD_VERSION');
  }
  while (parts.length < 3) parts.push('0');
  return parts.map(Number).join('.');
}

/** Bumps the patch number: every update does this unless the caller supplies a version. */
export function bumpPatch(v: string): string {
  const m = SEMVER.exec(v);
  if (!m) return INITIAL_VERSION;
  return `${m[1]}.${m[2]}.${Number(m[3]) + 1}`;
}
