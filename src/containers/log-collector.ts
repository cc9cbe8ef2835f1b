import { StringDecoder } from 'node:string_decoder';
import { LOG_SENTINEL, type CollectedLogs, type LogLine } from './container-factory.js';

/**
 * Turns a container's stdout and stderr into per-activation log lines, for every factory.
 *
 * Bytes are cut into lines as they arrive and each line is stamped with its arrival time
 * (OpenWhisk's format, nanoseconds). The proxy ends each activation with the sentinel on both
 * streams; collect() hands out what came before the sentinels, drops them, and keeps anything
 * after for the next activation. A stream without a sentinel by the deadline (or one that ended:
 * the container died) gives up what it has, and the result is marked incomplete.
 *
 * Memory is bounded: past `maxBufferedBytes` per stream, lines are dropped (but still scanned
 * for the sentinel) and the activation's logs are marked truncated.
 */
type Stream = LogLine['stream'];

type Item = { kind: 'line'; line: LogLine; at: bigint; seq: number; bytes: number } | { kind: 'sentinel' } | { kind: 'dropped' };

interface StreamState {
  decoder: StringDecoder;
  partial: string;
  items: Item[];
  bufferedBytes: number;
}

export interface LogCollectorOptions {
  /** Per stream, what may wait for collection (default 16 MiB, above the 10 MB log limit). */
  maxBufferedBytes?: number;
}

const DEFAULT_WAIT_MS = 2000;

export class LogCollector {
  private readonly streams: Record<Stream, StreamState> = { stdout: newState(), stderr: newState() };
  private readonly maxBufferedBytes: number;
  private ended = false;
  private seq = 0;
  private waiters: (() => void)[] = [];

  constructor(options: LogCollectorOptions = {}) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  }

  /** Feeds raw bytes of one stream. */
  push(stream: Stream, chunk: Buffer | string): void {
    const state = this.streams[stream];
    const text = state.partial + (typeof chunk === 'string' ? chunk : state.decoder.write(chunk));
    const parts = text.split('\n');
    state.partial = parts.pop() ?? '';
    // A line longer than any log limit is cut rather than held without end.
    if (state.partial.length > this.maxBufferedBytes) {
      parts.push(state.partial);
      state.partial = '';
    }
    let sawSentinel = false;
    for (const part of parts) sawSentinel = this.addLine(stream, part) || sawSentinel;
    if (sawSentinel) this.wake();
  }

  /** The streams are over (the container is gone): flush partial lines and wake waiters. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const stream of ['stdout', 'stderr'] as const) {
      const state = this.streams[stream];
      const rest = state.partial + state.decoder.end();
      state.partial = '';
      if (rest) this.addLine(stream, rest);
    }
    this.wake();
  }

  /** See Container.collectLogs. */
  async collect(limitBytes: number, waitMs = DEFAULT_WAIT_MS): Promise<CollectedLogs> {
    const deadline = Date.now() + waitMs;
    while (!this.ended && !(this.hasSentinel('stdout') && this.hasSentinel('stderr'))) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const woken = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== woken);
          resolve();
        }, left);
        this.waiters.push(woken);
      });
    }
    const out = this.take('stdout');
    const err = this.take('stderr');
    const lines = [...out.lines, ...err.lines].sort((a, b) => (a.at === b.at ? a.seq - b.seq : a.at < b.at ? -1 : 1));
    let truncated = out.dropped || err.dropped;
    let used = 0;
    const kept: LogLine[] = [];
    for (const item of lines) {
      if (used + item.bytes > limitBytes) {
        truncated = true;
        break;
      }
      used += item.bytes;
      kept.push(item.line);
    }
    return { lines: kept, truncated, complete: out.complete && err.complete };
  }

  private addLine(stream: Stream, text: string): boolean {
    const state = this.streams[stream];
    const at = text.indexOf(LOG_SENTINEL);
    // "foo" written without a newline ends up in front of the sentinel: keep it as a line.
    const message = at >= 0 ? text.slice(0, at) : text;
    if (at < 0 || message) {
      const bytes = Buffer.byteLength(message);
      if (state.bufferedBytes + bytes > this.maxBufferedBytes) {
        if (state.items.at(-1)?.kind !== 'dropped') state.items.push({ kind: 'dropped' });
      } else {
        const now = nowNanos();
        state.bufferedBytes += bytes;
        state.items.push({ kind: 'line', line: { time: formatLogTime(now), stream, message }, at: now, seq: this.seq++, bytes });
      }
    }
    if (at >= 0) state.items.push({ kind: 'sentinel' });
    return at >= 0;
  }

  private hasSentinel(stream: Stream): boolean {
    return this.streams[stream].items.some((i) => i.kind === 'sentinel');
  }

  /** Removes one activation's items of a stream: up to its sentinel, or all when none came. */
  private take(stream: Stream) {
    const state = this.streams[stream];
    const end = state.items.findIndex((i) => i.kind === 'sentinel');
    const taken = end >= 0 ? state.items.splice(0, end + 1) : state.items.splice(0);
    const lines: Extract<Item, { kind: 'line' }>[] = [];
    let dropped = false;
    for (const item of taken) {
      if (item.kind === 'line') {
        lines.push(item);
        state.bufferedBytes -= item.bytes;
      } else if (item.kind === 'dropped') dropped = true;
    }
    return { lines, dropped, complete: end >= 0 };
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function newState(): StreamState {
  return { decoder: new StringDecoder('utf8'), partial: '', items: [], bufferedBytes: 0 };
}

// Wall-clock nanoseconds: the epoch in ms once, then the monotonic clock for the finer digits.
const clockBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function nowNanos(): bigint {
  return clockBase + process.hrtime.bigint();
}

/** `2024-05-29T12:00:01.012345678Z`: RFC 3339 with nine fractional digits, as OpenWhisk writes. */
export function formatLogTime(epochNanos: bigint): string {
  const ms = Number(epochNanos / 1_000_000n);
  const fraction = (epochNanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}
