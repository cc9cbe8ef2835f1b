import cronParser from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { nextUtcTick, parseUtcCron } from '../../feeds/alarms/utc-cron.js';

/** The reference: cron-parser, as BullMQ reads patterns in the cluster. */
function reference(pattern: string, after: number, count: number): number[] {
  const it = cronParser.parseExpression(pattern, { currentDate: new Date(after), tz: 'UTC' });
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    try {
      out.push(it.next().getTime());
    } catch {
      break;
    }
  }
  return out;
}

function fast(pattern: string, after: number, count: number): number[] {
  const c = parseUtcCron(pattern)!;
  const out: number[] = [];
  for (let t = nextUtcTick(c, after); t !== undefined && out.length < count; t = nextUtcTick(c, t)) out.push(t);
  return out;
}

const PATTERNS = [
  '* * * * * *',
  '*/5 * * * * *',
  '7 * * * * *',
  '0 */15 * * * *',
  '* * * * *',
  '*/5 * * * *',
  '0 9 * * 1-5',
  '30 18 * * sun',
  '0 0 1 * *',
  '0 12 15 jan,jul *',
  '15 10 * * MON,wed,Fri',
  '0 0 13 * 5',
  '0 0 29 2 *',
  '5-20/5 3 * * *',
  '10/20 * * * * *',
  '0 0 31 * *',
  '0 22 * * 7',
  '1,2,3 4-6 7 8 9 0',
  '0 0 */2 * *',
  '0 0 * * */2',
];

describe('the UTC cron fast path', () => {
  it('gives exactly the ticks cron-parser gives', () => {
    const starts = [Date.UTC(2026, 0, 1), Date.UTC(2026, 1, 27, 23, 59, 58, 500), Date.UTC(2028, 1, 28, 12), Date.UTC(2026, 11, 31, 23, 59, 59, 999)];
    for (let i = 0; i < 8; i++) starts.push(Date.UTC(2026, 0, 1) + Math.floor(((i * 7919) % 1000) / 1000 * 400 * 86_400_000) + i * 1234);
    for (const pattern of PATTERNS) {
      for (const after of starts) expect(fast(pattern, after, 6), `${pattern} after ${new Date(after).toISOString()}`).toEqual(reference(pattern, after, 6));
    }
  }, 60_000);

  it('leaves to cron-parser what it does not read: time-zone-free extensions and bad fields', () => {
    for (const p of ['0 0 L * *', '0 0 * * 5#3', '0 0 ? * *', '0 0 1W * *', '61 * * * * *', '* * * *', 'x * * * *']) expect(parseUtcCron(p), p).toBeUndefined();
  });

  it('answers none for a date that never comes, as cron-parser does', () => {
    expect(nextUtcTick(parseUtcCron('0 0 30 2 *')!, Date.UTC(2026, 0, 1))).toBeUndefined();
  });
});
