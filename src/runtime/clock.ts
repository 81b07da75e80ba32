// Time for the runtime: an injectable clock (wall time + timers), a fake one for tests, jittered
// exponential backoff, and Kubernetes MicroTime formatting.

/** Cancels a timer set with `Clock.setTimer`. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds since the Unix epoch (may be fractional). */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns a function that cancels the timer. */
  setTimer(fn: () => void, ms: number): CancelTimer;
}

export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on `clock`, or early (without rejecting) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const cancel = clock.setTimer(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A manual clock: timers fire only when the test advances time. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: FakeTimer[] = [];
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): CancelTimer {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  /** Number of pending timers. */
  get pending(): number {
    return this.timers.length;
  }
  /** Time of the next pending timer, if any. */
  nextTimerAt(): number | undefined {
    let min: number | undefined;
    for (const x of this.timers) if (min === undefined || x.at < min) min = x.at;
    return min;
  }
  private popDue(until: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const x of this.timers) {
      if (x.at > until) continue;
      if (!best || x.at < best.at || (x.at === best.at && x.seq < best.seq)) best = x;
    }
    if (best) this.timers = this.timers.filter((x) => x !== best);
    return best;
  }
  /** Moves time forward synchronously, firing due timers in order (no await between them). */
  advance(ms: number): void {
    const until = this.t + ms;
    for (let x = this.popDue(until); x; x = this.popDue(until)) {
      this.t = Math.max(this.t, x.at);
      x.fn();
    }
    this.t = until;
  }
  /**
   * Moves time forward, firing due timers in order and letting promise chains run (a macrotask
   * turn) after each one, so async loops driven by the clock make progress as they would in real time.
   */
  async advanceAsync(ms: number): Promise<void> {
    const until = this.t + ms;
    await flush();
    for (let x = this.popDue(until); x; x = this.popDue(until)) {
      this.t = Math.max(this.t, x.at);
      x.fn();
      await flush();
    }
    this.t = until;
    await flush();
  }
}

/** Lets pending promise callbacks and I/O-free async continuations run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  /** Adds up to `jitter` × the delay at random (client-go's wait.Jitter); default 1. */
  jitter?: number;
  random?: () => number;
}

/** Jittered exponential backoff: initial, ×factor each step, capped at max; `reset()` starts over. */
export class Backoff {
  private step = 0;
  private readonly o: Required<BackoffOptions>;
  constructor(o: BackoffOptions) {
    this.o = { factor: 2, jitter: 1, random: Math.random, ...o };
  }
  /** The next delay in milliseconds. */
  next(): number {
    const base = Math.min(this.o.maxMs, this.o.initialMs * this.o.factor ** this.step);
    if (base < this.o.maxMs) this.step++;
    return Math.min(this.o.maxMs, base + base * this.o.jitter * this.o.random());
  }
  reset(): void {
    this.step = 0;
  }
  get attempts(): number {
    return this.step;
  }
}

/** Kubernetes MicroTime formatting lives with the other time formats (api/time.ts). */
export { microTime } from "../api/time.ts";

/** Parses an RFC 3339 time (any number of fractional digits) into epoch milliseconds; NaN if invalid. */
export function parseTime(s: string | undefined): number {
  if (!s) return Number.NaN;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return Number.NaN;
  const base = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return base + frac;
}
