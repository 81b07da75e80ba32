// A work queue with client-go's semantics (k8s.io/client-go/util/workqueue):
// - a dirty set de-duplicates keys waiting to be processed;
// - a processing set guarantees no key is handed to two workers at once; a key added while it is being
//   processed is queued again when `done(key)` is called;
// - `addAfter` delays a key (the earliest of several delays wins);
// - `addRateLimited` delays a key by max(per-key exponential backoff 5 ms → 1000 s, an overall token
//   bucket of 10 qps / burst 100), client-go's DefaultControllerRateLimiter;
// - `runWorkers` is controller-runtime's worker loop: error → rate-limited requeue, success → forget,
//   requeueAfter → addAfter.
import { type Clock, realClock } from "./clock.ts";

/** Receives the queue's measurements (metrics.ts provides a Prometheus implementation). */
export interface QueueMetricsSink {
  /** A key was added (it was not already waiting). */
  add(): void;
  depth(n: number): void;
  /** A key was handed to a worker after waiting `seconds`. */
  queueLatency(seconds: number): void;
  /** A worker finished a key after `seconds`. */
  workDuration(seconds: number): void;
  /** A key was re-added through the rate limiter. */
  retry(): void;
}

export interface RateLimiter {
  /** How long to wait before `key` may be processed again; counts a failure of `key`. */
  when(key: string): number;
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** Per-key exponential backoff: base × 2^failures, capped at max (client-go ItemExponentialFailureRateLimiter). */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }
  forget(key: string): void {
    this.failures.delete(key);
  }
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket (client-go BucketRateLimiter over golang.org/x/time/rate): each call reserves
 * the next token, possibly in the future, and returns how long until it is available.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;
  constructor(qps = 10, burst = 100, clock: Clock = realClock) {
    this.qps = qps;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.last = clock.now();
  }
  when(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
  forget(): void {}
  numRequeues(): number {
    return 0;
  }
}

/** The longest delay of several limiters (client-go MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];
  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }
  when(key: string): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(key));
    return max;
  }
  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }
  numRequeues(key: string): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(key));
    return max;
  }
}

/** client-go's DefaultControllerRateLimiter: max(per-key 5 ms → 1000 s, bucket 10 qps / burst 100). */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 100, clock));
}

export interface WorkQueueOptions {
  name?: string;
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: QueueMetricsSink;
}

interface Waiting {
  key: string;
  at: number;
}

/** A min-heap of delayed keys ordered by ready time. */
class WaitingHeap {
  private readonly h: Waiting[] = [];
  get size(): number {
    return this.h.length;
  }
  peek(): Waiting | undefined {
    return this.h[0];
  }
  push(w: Waiting): void {
    const h = this.h;
    h.push(w);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const hp = h[p] as Waiting;
      if (hp.at <= w.at) break;
      h[i] = hp;
      i = p;
    }
    h[i] = w;
  }
  pop(): Waiting | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mAt = last.at;
      const hl = h[l];
      const hr = h[r];
      if (hl && hl.at < mAt) {
        m = l;
        mAt = hl.at;
      }
      if (hr && hr.at < mAt) m = r;
      if (m === i) break;
      h[i] = h[m] as Waiting;
      i = m;
    }
    h[i] = last;
    return top;
  }
  clear(): void {
    this.h.length = 0;
  }
}

export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly metrics: QueueMetricsSink | undefined;
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>(); // key → start time
  private readonly addedAt = new Map<string, number>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private shuttingDown = false;
  // delaying queue
  private readonly waitingHeap = new WaitingHeap();
  private readonly waitingAt = new Map<string, number>();
  private timer: { at: number; cancel: () => void } | undefined;

  constructor(o: WorkQueueOptions = {}) {
    this.name = o.name ?? "";
    this.clock = o.clock ?? realClock;
    this.limiter = o.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = o.metrics;
  }

  /** Keys waiting to be handed to a worker (not counting delayed keys or keys being processed). */
  get len(): number {
    return this.queue.length - this.head;
  }
  /** Keys waiting for an `addAfter` / `addRateLimited` delay to pass. */
  get delayed(): number {
    return this.waitingAt.size;
  }
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
  /** Number of keys currently handed to workers. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Marks `key` as needing processing. Ignored after shutDown. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics?.add();
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  private push(key: string): void {
    const g = this.getters.shift();
    if (g) {
      this.startProcessing(key);
      g(key);
      return;
    }
    this.queue.push(key);
    this.metrics?.depth(this.len);
  }

  private startProcessing(key: string): void {
    const now = this.clock.now();
    this.dirty.delete(key);
    this.processing.set(key, now);
    const at = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (at !== undefined) this.metrics?.queueLatency((now - at) / 1000);
  }

  /**
   * Waits for the next key and marks it as being processed; the caller must call `done(key)`.
   * Resolves `undefined` once the queue is shut down (keys still waiting are dropped: the controller
   * is level-triggered, and a restarted one lists everything again).
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.len > 0) {
      const key = this.queue[this.head] as string;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.metrics?.depth(this.len);
      this.startProcessing(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Ends the processing of `key`; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    const start = this.processing.get(key);
    if (start === undefined) return;
    this.processing.delete(key);
    this.metrics?.workDuration((this.clock.now() - start) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
    if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Adds `key` after `ms` milliseconds; if it is already waiting, the earlier time wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const cur = this.waitingAt.get(key);
    if (cur !== undefined && cur <= at) return;
    this.waitingAt.set(key, at);
    this.waitingHeap.push({ key, at });
    this.arm();
  }

  private arm(): void {
    // drop stale heap entries (superseded by an earlier time for the same key)
    for (let top = this.waitingHeap.peek(); top; top = this.waitingHeap.peek()) {
      if (this.waitingAt.get(top.key) === top.at) break;
      this.waitingHeap.pop();
    }
    const top = this.waitingHeap.peek();
    if (!top) {
      this.timer?.cancel();
      this.timer = undefined;
      return;
    }
    if (this.timer && this.timer.at <= top.at) return;
    this.timer?.cancel();
    const at = top.at;
    const cancel = this.clock.setTimer(() => {
      this.timer = undefined;
      this.fireDue();
    }, at - this.clock.now());
    this.timer = { at, cancel };
  }

  private fireDue(): void {
    const now = this.clock.now();
    for (let top = this.waitingHeap.peek(); top && top.at <= now; top = this.waitingHeap.peek()) {
      this.waitingHeap.pop();
      if (this.waitingAt.get(top.key) !== top.at) continue;
      this.waitingAt.delete(top.key);
      this.add(top.key);
    }
    this.arm();
  }

  /** Adds `key` after the rate limiter's delay (counts a retry of `key`). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics?.retry();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Clears the failure history of `key` (call after a successful processing). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /** Seconds of work done by in-flight processors that has not been observed yet (client-go unfinished work). */
  unfinishedWorkSeconds(): number {
    const now = this.clock.now();
    let total = 0;
    for (const start of this.processing.values()) total += (now - start) / 1000;
    return total;
  }

  /** Seconds the longest in-flight processor has been running. */
  longestRunningProcessorSeconds(): number {
    const now = this.clock.now();
    let oldest = now;
    for (const start of this.processing.values()) oldest = Math.min(oldest, start);
    return (now - oldest) / 1000;
  }

  /**
   * Stops the queue: further adds are ignored, waiting `get()` calls resolve `undefined`, delayed
   * keys are dropped. Keys being processed may still call `done`.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.waitingHeap.clear();
    this.waitingAt.clear();
    this.queue.length = 0;
    this.head = 0;
    this.dirty.clear();
    this.addedAt.clear();
    this.metrics?.depth(0);
    for (const g of this.getters.splice(0)) g(undefined);
  }

  /** Resolves once no key is being processed. */
  drained(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Shuts the queue down and waits until in-flight keys are done, at most `timeoutMs` (real time
   * unless the queue has an injected clock). Resolves `true` if it drained in time.
   */
  async shutDownWithDrain(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    this.shutDown();
    if (this.processing.size === 0) return true;
    if (!Number.isFinite(timeoutMs)) {
      await this.drained();
      return true;
    }
    let cancel: (() => void) | undefined;
    const timeout = new Promise<false>((resolve) => {
      cancel = this.clock.setTimer(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([this.drained().then(() => true as const), timeout]);
    cancel?.();
    return ok;
  }
}

/** What a reconcile asks for: nothing (done), a rate-limited retry, or a retry after a delay. */
export interface ReconcileResult {
  requeue?: boolean;
  requeueAfterMs?: number;
}

export type ReconcileOutcome = "success" | "error" | "requeue" | "requeue_after";

export interface WorkerHooks {
  /** Called after each key with controller-runtime's result label. */
  onResult?(key: string, outcome: ReconcileOutcome, seconds: number, error?: unknown): void;
  /** Called when a worker starts/stops handling a key (active workers gauge). */
  onActive?(delta: 1 | -1): void;
}

/** What a reconcile handler may return (`void` lets plain `async (key) => {}` handlers through). */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers that return nothing are allowed
export type HandlerReturn = ReconcileResult | undefined | void;

/**
 * Runs `concurrency` workers that take keys from `queue` and hand them to `handler` until the queue
 * is shut down. A thrown error requeues the key with backoff; `{requeueAfterMs}` requeues it after the
 * delay (and forgets its failures); `{requeue: true}` requeues with backoff; otherwise the key's
 * failures are forgotten. Resolves when every worker has exited.
 */
export async function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  handler: (key: string) => Promise<HandlerReturn>,
  hooks: WorkerHooks = {},
  clock: Clock = realClock,
): Promise<void> {
  const worker = async (): Promise<void> => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      const start = clock.now();
      hooks.onActive?.(1);
      let outcome: ReconcileOutcome;
      let error: unknown;
      try {
        const r = (await handler(key)) ?? undefined;
        if (r?.requeueAfterMs !== undefined && r.requeueAfterMs > 0) {
          queue.forget(key);
          queue.addAfter(key, r.requeueAfterMs);
          outcome = "requeue_after";
        } else if (r?.requeue) {
          queue.addRateLimited(key);
          outcome = "requeue";
        } else {
          queue.forget(key);
          outcome = "success";
        }
      } catch (e) {
        error = e;
        queue.addRateLimited(key);
        outcome = "error";
      } finally {
        queue.done(key);
        hooks.onActive?.(-1);
      }
      try {
        hooks.onResult?.(key, outcome, (clock.now() - start) / 1000, error);
      } catch {
        // hooks never break the loop
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
}
