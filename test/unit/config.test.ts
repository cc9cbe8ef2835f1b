import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { SETTINGS } from '../../src/config/settings.js';

describe('configuration', () => {
  it('has development defaults in standalone and OpenWhisk defaults in the cluster', () => {
    const s = loadConfig({}, 'standalone');
    expect(s.port).toBe(3233);
    expect(s.host).toBe('127.0.0.1');
    expect(s.store).toBe('embedded');
    expect(s.throttles.invocationsPerMinute).toBeGreaterThanOrEqual(6000);
    expect(s.throttles.firesPerMinute).toBeGreaterThanOrEqual(6000);
    const c = loadConfig({}, 'cluster');
    expect(c.store).toBe('couchdb');
    expect(c.throttles).toEqual({ invocationsPerMinute: 60, concurrentInvocations: 30, firesPerMinute: 60 });
  });

  it('reads overrides and refuses bad values with the variable named', () => {
    expect(loadConfig({ WHISKHUB_PORT: '4000', WHISKHUB_LIMIT_FIRES_PER_MINUTE: '5' }, 'standalone').throttles.firesPerMinute).toBe(5);
    expect(() => loadConfig({ WHISKHUB_PORT: 'abc' }, 'standalone')).toThrow(ConfigError);
    expect(() => loadConfig({ WHISKHUB_PORT: 'abc' }, 'standalone')).toThrow(/WHISKHUB_PORT/);
    expect(() => loadConfig({ WHISKHUB_STORE: 'mongo' }, 'standalone')).toThrow(/WHISKHUB_STORE must be one of embedded, couchdb/);
    expect(() => loadConfig({ WHISKHUB_GUEST_AUTH: 'short:key' }, 'standalone')).toThrow(/WHISKHUB_GUEST_AUTH/);
    expect(() => loadConfig({ WHISKHUB_COUCHDB_URL: 'not a url', WHISKHUB_STORE: 'couchdb' }, 'standalone')).toThrow(/URL/);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}, 'standalone'))).toBe(true);
  });

  it('is documented: the README names every setting', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = SETTINGS.map((s) => s.env).filter((env) => !readme.includes(`\`${env}\``));
    expect(missing).toEqual([]);
  });
});
