/** A parsed `Authorization: Basic base64(uuid:key)` header, or undefined when there is none. */
export interface Credentials {
  uuid: string;
  key: string;
}

export function parseBasicAuth(header: string | undefined): Credentials | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return 'invalid';
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return 'invalid';
  return { uuid: decoded.slice(0, i), key: decoded.slice(i + 1) };
}
