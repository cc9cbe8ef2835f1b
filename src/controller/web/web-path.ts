import { notFound } from '../../entities/errors.js';
import { isValidName, MAX_NAME_LENGTH, type EntityRef } from '../../entities/names.js';

/** How the result becomes the HTTP answer; `.http` when the name carries no known extension. */
export type WebExtension = 'http' | 'json' | 'html' | 'svg' | 'text';
const EXTENSIONS: WebExtension[] = ['http', 'json', 'html', 'svg', 'text'];

export interface WebTarget {
  ref: EntityRef;
  extension: WebExtension;
  /** What follows the action in the path (`/a/b`, or ''), as written: the action's `__ow_path`. */
  path: string;
}

function name(segment: string | undefined): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment ?? '');
  } catch {
    throw notFound();
  }
  // A name that cannot exist is simply not there: web paths answer 404, never 400.
  if (decoded.length > MAX_NAME_LENGTH || !isValidName(decoded)) throw notFound();
  return decoded;
}

/**
 * Reads `{namespace}/{package|default}/{action}[.ext][/extra/path]` (the part after /web/, query
 * string excluded). Unknown suffixes stay part of the action name, as in OpenWhisk.
 */
export function parseWebPath(tail: string): WebTarget {
  const segments = tail.split('/');
  if (segments.length < 3) throw notFound();
  const [nsSeg, pkgSeg, actionSeg, ...rest] = segments;
  const namespace = name(nsSeg);
  const pkg = pkgSeg === 'default' ? undefined : name(pkgSeg);
  let actionName = actionSeg;
  let extension: WebExtension = 'http';
  for (const ext of EXTENSIONS) {
    if (actionName.endsWith(`.${ext}`)) {
      extension = ext;
      actionName = actionName.slice(0, -(ext.length + 1));
      break;
    }
  }
  const ref: EntityRef = pkg ? { namespace, pkg, name: name(actionName) } : { namespace, name: name(actionName) };
  return { ref, extension, path: rest.length ? `/${rest.join('/')}` : '' };
}
