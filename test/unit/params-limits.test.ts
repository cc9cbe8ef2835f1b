import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS, DEFAULT_LIMITS, parseLimits } from '../../src/entities/limits.js';
import { mergeKeyValues, parseKeyValues } from '../../src/entities/params.js';
import { parseListQuery } from '../../src/controller/list-query.js';

describe('key/value arrays', () => {
  it('keeps the last duplicate and refuses objects', () => {
    expect(parseKeyValues([{ key: 'a', value: 1 }, { key: 'a', value: 2 }], 'parameters')).toEqual([{ key: 'a', value: 2 }]);
    expect(() => parseKeyValues({ a: 1 }, 'parameters')).toThrow('parameters malformed!');
    expect(() => parseKeyValues([{ value: 1 }], 'parameters')).toThrow('parameters malformed!');
  });

  it('refuses more than 1 MB with 413', () => {
    const big = [{ key: 'x', value: 'y'.repeat(1024 * 1024) }];
    expect(() => parseKeyValues(big, 'parameters')).toThrow(/parameters larger than allowed: \d+ > 1048576 bytes\./);
  });

  it('overlays keys', () => {
    const merged = mergeKeyValues([{ key: 'a', value: 1 }, { key: 'b', value: 1 }], [{ key: 'b', value: 2 }]);
    expect(merged).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
  });
});

describe('action limits', () => {
  it('fills defaults and merges per field', () => {
    expect(parseLimits(undefined, DEFAULT_LIMITS, DEFAULT_BOUNDS)).toEqual({ timeout: 60000, memory: 256, logs: 10, concurrency: 1 });
    expect(parseLimits({ memory: 128 }, { ...DEFAULT_LIMITS, timeout: 1000 }, DEFAULT_BOUNDS)).toEqual({
      timeout: 1000,
      memory: 128,
      logs: 10,
      concurrency: 1,
    });
  });

  it('words out-of-range errors as OpenWhisk does', () => {
    expect(() => parseLimits({ timeout: 50 }, DEFAULT_LIMITS, DEFAULT_BOUNDS)).toThrow(
      'duration 50 milliseconds below allowed threshold of 100 milliseconds',
    );
    expect(() => parseLimits({ memory: 1024 }, DEFAULT_LIMITS, DEFAULT_BOUNDS)).toThrow('memory size 1024 MB exceeds allowed threshold of 512 MB');
    expect(() => parseLimits({ logs: 11 }, DEFAULT_LIMITS, DEFAULT_BOUNDS)).toThrow('log size 11 MB exceeds allowed threshold of 10 MB');
    expect(() => parseLimits({ concurrency: 2 }, DEFAULT_LIMITS, DEFAULT_BOUNDS)).toThrow('concurrency 2 exceeds allowed threshold of 1');
    expect(() => parseLimits({ memory: 1.5 }, DEFAULT_LIMITS, DEFAULT_BOUNDS)).toThrow(/whole number/);
  });
});

describe('list queries', () => {
  it('reads limit, skip and count with OpenWhisk bounds', () => {
    expect(parseListQuery({}, 'actions')).toEqual({ limit: 30, skip: 0, count: false });
    expect(parseListQuery({ limit: '0', skip: '5', count: 'true' }, 'actions')).toEqual({ limit: 200, skip: 5, count: true });
    expect(() => parseListQuery({ limit: '201' }, 'actions')).toThrow("The value '201' is not in the range of 0 to 200 for actions.");
    expect(() => parseListQuery({ limit: 'x' }, 'rules')).toThrow("The value 'x' is not an integer for rules.");
    expect(() => parseListQuery({ skip: '-1' }, 'actions')).toThrow("The value '-1' is not greater than or equal to 0 for actions.");
  });
});
