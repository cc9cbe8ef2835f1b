import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/entities/errors.js';
import { isValidName, parseQualifiedName, validateName } from '../../src/entities/names.js';
import { bumpPatch } from '../../src/entities/semver.js';
import { isBinaryCode, resolveKind } from '../../src/entities/runtimes.js';
import { validateActivationId, newActivationId, newTransactionId } from '../../src/entities/ids.js';

const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as HubError).status;
  }
  return 0;
};

describe('entity names', () => {
  it('accepts OpenWhisk names and refuses the rest', () => {
    for (const ok of ['a', '_x', 'hello world', 'a@b.c', 'a&b-c', '9', 'x'.repeat(256)]) expect(isValidName(ok)).toBe(true);
    for (const bad of ['', ' a', 'a ', '-a', 'a$b', 'a/b', 'x'.repeat(257), 'é']) expect(isValidName(bad)).toBe(false);
  });

  it('words the length error as OpenWhisk does (sic)', () => {
    expect(() => validateName('x'.repeat(257))).toThrow('Name segement longer than allowed: 257 > 256.');
  });

  it('resolves fully qualified names with `_` and refuses bare ones', () => {
    expect(parseQualifiedName('/_/t', 'guest')).toEqual({ namespace: 'guest', name: 't' });
    expect(parseQualifiedName('/ns/pkg/a', 'guest')).toEqual({ namespace: 'ns', pkg: 'pkg', name: 'a' });
    expect(status(() => parseQualifiedName('t', 'guest'))).toBe(400);
    expect(status(() => parseQualifiedName('/a/b/c/d', 'guest'))).toBe(400);
    expect(status(() => parseQualifiedName('/ns/', 'guest'))).toBe(400);
  });
});

describe('versions, kinds and ids', () => {
  it('bumps the patch number', () => {
    expect(bumpPatch('0.0.1')).toBe('0.0.2');
    expect(bumpPatch('1.2.9')).toBe('1.2.10');
  });

  it('resolves default kinds and refuses unknown ones with the valid list', () => {
    expect(resolveKind('nodejs:default')).toBe('nodejs:20');
    expect(resolveKind('NODEJS:20')).toBe('nodejs:20');
    expect(resolveKind('sequence')).toBe('sequence');
    expect(() => resolveKind('cobol:1')).toThrow(/'cobol:1' is not supported by this platform\. Valid values are: .*nodejs:20/);
  });

  it('classifies code as binary exactly as OpenWhisk does', () => {
    expect(isBinaryCode('abcd')).toBe(true);
    expect(isBinaryCode('UEsDBAoAAAAAAA==')).toBe(true);
    expect(isBinaryCode('function main(){}')).toBe(false);
    expect(isBinaryCode('   ')).toBe(false);
  });

  it('mints and validates activation ids', () => {
    const id = newActivationId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(validateActivationId(id)).toBe(id);
    expect(() => validateActivationId('abc')).toThrow('Activation id length is 3 but must be 32.');
    expect(() => validateActivationId('Z'.repeat(32))).toThrow('The activation id is not valid.');
    expect(newTransactionId()).toMatch(/^[A-Za-z0-9]{32}$/);
  });
});

describe('version strings', () => {
  it('pads short versions as OpenWhisk does and refuses garbage', async () => {
    const { validateVersion } = await import('../../src/entities/semver.js');
    expect(validateVersion('1.0')).toBe('1.0.0');
    expect(validateVersion('2')).toBe('2.0.0');
    expect(validateVersion('0.0.7')).toBe('0.0.7');
    expect(() => validateVersion('1.x')).toThrow(/Invalid version/);
    expect(() => validateVersion('1.2.3.4')).toThrow(/Invalid version/);
  });
});
