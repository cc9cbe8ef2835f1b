import { describe, expect, it } from 'vitest';
import { jsonTextOf, withJsonText } from '../../src/entities/json-text.js';
import { fireArgs, type FireJob } from '../../src/triggers/fire-job.js';
import { fireJob as job } from '../support/fire-job.js';

describe('a fire job\'s rule arguments', () => {
  it('lays the payload over the trigger parameters and headers, storing the payload once', () => {
    const j = job({ baseArgs: { a: 1, b: 'trigger', __ow_headers: { h: 'x' } }, payload: { b: 'payload', c: 'only-in-the-payload' } });
    expect(fireArgs(j)).toEqual({ a: 1, b: 'payload', c: 'only-in-the-payload', __ow_headers: { h: 'x' } });
    expect(JSON.stringify(j).split('only-in-the-payload').length - 1).toBe(1);
  });

  it('makes the arguments\' JSON text from the payload\'s when that is noted, equal to the arguments', () => {
    const text = ' {"b": "payload", "c": [1, {"d": null}]} ';
    const j = job({ baseArgs: { a: 1, b: 'trigger', __ow_headers: { h: 'x' } }, payload: withJsonText(JSON.parse(text), text) });
    const args = fireArgs(j);
    expect(args).toEqual({ a: 1, b: 'payload', __ow_headers: { h: 'x' }, c: [1, { d: null }] });
    const argsText = jsonTextOf(args)!;
    expect(argsText).toContain('"c": [1, {"d": null}]');
    expect(JSON.parse(argsText)).toEqual(args);
    // Key order as the spread makes it, too (the proxy hands the action this object).
    expect(Object.keys(JSON.parse(argsText))).toEqual(Object.keys(args));
    // Empty on either side.
    expect(JSON.parse(jsonTextOf(fireArgs(job({ baseArgs: {}, payload: withJsonText({ x: 1 }, '{"x":1}') })))!)).toEqual({ x: 1 });
    expect(JSON.parse(jsonTextOf(fireArgs(job({ baseArgs: { y: 2 }, payload: withJsonText({}, ' { } ') })))!)).toEqual({ y: 2 });
  });

  it('reads the merged arguments of a job stored before baseArgs existed', () => {
    const legacy = { ...job({ payload: { b: 1 } }), baseArgs: undefined, args: { a: 1, b: 1 } } as unknown as FireJob;
    expect(fireArgs(legacy)).toEqual({ a: 1, b: 1 });
  });
});
