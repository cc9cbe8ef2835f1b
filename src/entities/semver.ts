import { badRequest } from './errors.js';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

export const INITIAL_VERSION = '0.0.1';

export function validateVersion(v: unknown): string {
  if (typeof v !== 'string' || !SEMVER.test(v)) throw badRequest(`Invalid version '${String(v)}': expected MAJOR.MINOR.PATCH.`);
  return v;
}

/** Bumps the patch number: every update does this unless the caller supplies a version. */
export function bumpPatch(v: string): string {
  const m = SEMVER.exec(v);
  if (!m) return INITIAL_VERSION;
  return `${m[1]}.${m[2]}.${Number(m[3]) + 1}`;
}
