import { describe, expect, it } from 'vitest';
import { FilterError, matches, validateFilter } from '../../src/triggers/rule-filter.js';

const m = (pattern: unknown, event: unknown) => matches(validateFilter(pattern), event);

describe('rule filters (EventBridge-style patterns)', () => {
  it('matches exact values, any of several, and nested fields', () => {
    expect(m({ kind: ['order'] }, { kind: 'order' })).toBe(true);
    expect(m({ kind: ['order'] }, { kind: 'refund' })).toBe(false);
    expect(m({ kind: ['order', 'refund'] }, { kind: 'refund' })).toBe(true);
    expect(m({ detail: { state: ['open'] } }, { detail: { state: 'open' } })).toBe(true);
    expect(m({ detail: { state: ['open'] } }, { detail: { state: 'closed' } })).toBe(false);
    expect(m({ n: [5], ok: [true], none: [null] }, { n: 5, ok: true, none: null })).toBe(true);
  });

  it('needs every key to match (AND) and a field to exist unless asked otherwise', () => {
    expect(m({ a: ['x'], b: ['y'] }, { a: 'x', b: 'y' })).toBe(true);
    expect(m({ a: ['x'], b: ['y'] }, { a: 'x' })).toBe(false);
    expect(m({ a: ['x'] }, 'not an object')).toBe(false);
  });

  it('matches array fields when any element matches', () => {
    expect(m({ tags: ['urgent'] }, { tags: ['low', 'urgent'] })).toBe(true);
    expect(m({ tags: [{ prefix: 'ur' }] }, { tags: ['low'] })).toBe(false);
  });

  it('supports prefix, suffix, numeric ranges, exists and anything-but', () => {
    expect(m({ ref: [{ prefix: 'refs/heads/' }] }, { ref: 'refs/heads/main' })).toBe(true);
    expect(m({ ref: [{ prefix: 'refs/heads/' }] }, { ref: 'refs/tags/v1' })).toBe(false);
    expect(m({ file: [{ suffix: '.png' }] }, { file: 'a.png' })).toBe(true);
    expect(m({ total: [{ numeric: ['>=', 100, '<', 200] }] }, { total: 150 })).toBe(true);
    expect(m({ total: [{ numeric: ['>=', 100, '<', 200] }] }, { total: 200 })).toBe(false);
    expect(m({ total: [{ numeric: ['=', 3] }] }, { total: '3' })).toBe(false);
    expect(m({ user: [{ exists: true }] }, { user: 'x' })).toBe(true);
    expect(m({ user: [{ exists: false }] }, { user: 'x' })).toBe(false);
    expect(m({ user: [{ exists: false }] }, {})).toBe(true);
    expect(m({ env: [{ 'anything-but': 'test' }] }, { env: 'prod' })).toBe(true);
    expect(m({ env: [{ 'anything-but': ['test', 'dev'] }] }, { env: 'dev' })).toBe(false);
    expect(m({ env: [{ 'anything-but': { prefix: 'tmp-' } }] }, { env: 'tmp-1' })).toBe(false);
    expect(m({ env: [{ 'anything-but': 'test' }] }, {})).toBe(false);
  });

  it('refuses malformed patterns with a message naming the place', () => {
    const err = (p: unknown) => {
      try {
        validateFilter(p);
      } catch (e) {
        expect(e).toBeInstanceOf(FilterError);
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(err(['x'])).toBe('filter must be an object');
    expect(err({ a: 'x' })).toBe('filter.a must be an array of matchers or a nested pattern');
    expect(err({ a: [] })).toBe('filter.a must list at least one matcher');
    expect(err({ a: [{ between: [1, 2] }] })).toBe("filter.a[0]: unknown operator 'between'");
    expect(err({ a: [{ numeric: ['>', 'x'] }] })).toMatch(/numeric must pair operators/);
    expect(err({ a: [{ prefix: 1 }] })).toBe('filter.a[0].prefix must be a string');
    expect(err({ a: [{ prefix: 'a', suffix: 'b' }] })).toBe('filter.a[0] must have exactly one operator');
  });
});
