import { describe, expect, it } from 'vitest';
import { fireArgs, type FireJob } from '../../src/triggers/fire-job.js';
import { fireJob as job } from '../support/fire-job.js';

describe('a fire job\'s rule arguments', () => {
  it('lays the payload over the trigger parameters and headers, storing the payload once', () => {
    const j = job({ baseArgs: { a: 1, b: 'trigger', __ow_headers: { h: 'x' } }, payload: { b: 'payload', c: 'only-in-the-payload' } });
    expect(fireArgs(j)).toEqual({ a: 1, b: 'payload', c: 'only-in-the-payload', __ow_headers: { h: 'x' } });
    expect(JSON.stringify(j).split('only-in-the-payload').length - 1).toBe(1);
  });

  it('reads the merged arguments of a job stored before baseArgs existed', () => {
    const legacy = { ...job({ payload: { b: 1 } }), baseArgs: undefined, args: { a: 1, b: 1 } } as unknown as FireJob;
    expect(fireArgs(legacy)).toEqual({ a: 1, b: 1 });
  });
});
