import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store.js';
import { InProcessControllerClient, type ControllerClient } from '../../feeds/kit/controller-client.js';
import { mergeArguments } from '../../src/controller/invoke/merge-parameters.js';
import type { ActionDoc } from '../../src/entities/documents.js';
import { appendField, jsonTextOf, mergeObjectTexts, stringifyDoc, withFieldTexts, withJsonText } from '../../src/entities/json-text.js';

describe('JSON text noted on a value', () => {
  it('is invisible to JSON.stringify and to copies', () => {
    const payload = withJsonText({ a: 1 }, '{"a":1}');
    expect(jsonTextOf(payload)).toBe('{"a":1}');
    expect(JSON.stringify(payload)).toBe('{"a":1}');
    expect(Object.keys(payload)).toEqual(['a']);
    expect(jsonTextOf({ ...payload })).toBeUndefined();
    expect(jsonTextOf(null)).toBeUndefined();
    expect(jsonTextOf('text')).toBeUndefined();
  });

  it('stringifyDoc writes a top-level field of a marked document as its noted text, everything else as JSON.stringify does', () => {
    const text = ' {"b": [1, 2],\n "é": "\\u00e9"} ';
    const payload = withJsonText(JSON.parse(text), text);
    const doc = { id: 'x', gone: undefined, fn: () => 1, payload, nested: { payload }, n: 2 };
    // Unmarked, it is JSON.stringify (looking through every document's fields would cost every write).
    expect(stringifyDoc(doc)).toBe(JSON.stringify(doc));
    const out = stringifyDoc(withFieldTexts(doc, 'payload'));
    // The text as it came (spaces and escapes), not made again; the nested copy stringified.
    expect(out).toBe(`{"id":"x","payload":${text},"nested":{"payload":{"b":[1,2],"é":"é"}},"n":2}`);
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(doc)));
    // Without noted text anywhere: exactly JSON.stringify.
    expect(stringifyDoc({ a: [1, { b: null }], c: 'd' })).toBe(JSON.stringify({ a: [1, { b: null }], c: 'd' }));
    // The whole document's own text wins.
    expect(stringifyDoc(withJsonText({ a: 1 }, '{"a": 1}'))).toBe('{"a": 1}');
  });

  it('appendField adds a field at the end, overriding one of the same name as a spread does', () => {
    const cases: [string, unknown][] = [
      ['{}', {}],
      [' { } \n', {}],
      ['{"a":1}', { a: 1 }],
      ['{"github":"theirs","b":{"c":[]}}  ', { github: 'theirs', b: { c: [] } }],
    ];
    for (const [text, value] of cases) {
      const out = appendField(text, 'github', '{"event":"push"}');
      expect(JSON.parse(out)).toEqual({ ...(value as object), github: { event: 'push' } });
    }
  });

  it('is what the embedded store writes, and reads back after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whiskhub-json-text-'));
    const store = await createEmbeddedStore(dir);
    const text = '{"messages":[{"offset":1,"value":{"x":"y"}}],  "k": 1}';
    await store.putDoc('jobs', 'j1', withFieldTexts({ id: 'j1', payload: withJsonText(JSON.parse(text), text), outcomes: {} }, 'payload'));
    await store.close();
    const again = await createEmbeddedStore(dir);
    expect((await again.getDoc('jobs', 'j1'))?.doc).toEqual({ id: 'j1', payload: JSON.parse(text), outcomes: {} });
    await again.close();
  });

  it('mergeObjectTexts is the text of a spread of the two', () => {
    const pairs: [object, string][] = [
      [{}, '{}'],
      [{ a: 1 }, ' { } '],
      [{}, '{"a":1}'],
      [{ a: 1, b: 2 }, '\n{"b": 3, "c": {"d": [4]}}\n'],
    ];
    for (const [first, secondText] of pairs) {
      const merged = JSON.parse(mergeObjectTexts(JSON.stringify(first), secondText));
      const spread = { ...first, ...JSON.parse(secondText) };
      expect(merged).toEqual(spread);
      expect(Object.keys(merged)).toEqual(Object.keys(spread));
    }
  });

  it('an action\'s /run content carries the text of a noted payload merged over its parameters, unless an init parameter takes part of it', () => {
    const action = (parameters: { key: string; value: unknown; init?: boolean }[]) => ({ parameters, annotations: [] }) as unknown as ActionDoc;
    const payloadText = '{"b": "payload", "c": 3}';
    const payload = () => withJsonText(JSON.parse(payloadText), payloadText);
    const plain = mergeArguments(action([]), undefined, undefined, payload());
    expect(jsonTextOf(plain.content)).toBe(payloadText);
    const withDefaults = mergeArguments(action([{ key: 'a', value: 1 }, { key: 'b', value: 'default' }]), undefined, undefined, payload());
    expect(withDefaults.content).toEqual({ a: 1, b: 'payload', c: 3 });
    expect(JSON.parse(jsonTextOf(withDefaults.content)!)).toEqual(withDefaults.content);
    // `c` goes to /init as environment, not to /run: the payload's text no longer matches.
    const withInit = mergeArguments(action([{ key: 'c', value: 0, init: true }]), undefined, undefined, payload());
    expect(withInit.content).toEqual({ b: 'payload' });
    expect(jsonTextOf(withInit.content)).toBeUndefined();
    expect(stringifyDoc(withFieldTexts({ value: withInit.content }, 'value'))).toBe('{"value":{"b":"payload"}}');
  });

  it('an in-process fire hands the controller a large payload with the text its provider made', async () => {
    const got: Record<string, unknown>[] = [];
    const client = new InProcessControllerClient({} as ControllerClient, () => async (_ns, _name, _key, payload) => (got.push(payload), { status: 202 }));
    const big = { messages: [{ value: 'v'.repeat(2000) }] };
    await client.fire('guest', 't', 'k', big, 'kafka:1', JSON.stringify(big));
    const small = { messages: [{ value: 'v' }] };
    await client.fire('guest', 't', 'k', small, 'kafka:2', JSON.stringify(small));
    expect(got).toEqual([big, small]);
    expect(jsonTextOf(got[0])).toBe(JSON.stringify(big));
    // Under the threshold the text is not worth keeping.
    expect(jsonTextOf(got[1])).toBeUndefined();
  });
});
