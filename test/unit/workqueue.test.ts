import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock, flush } from "../../src/runtime/clock.ts";
import {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  type QueueMetricsSink,
  runWorkers,
  WorkQueue,
} from "../../src/runtime/workqueue.ts";

const unlimited = () => new ItemExponentialRateLimiter(5, 1_000_000);

class CountingSink implements QueueMetricsSink {
  adds = 0;
  retries = 0;
  lastDepth = 0;
  latencies: number[] = [];
  durations: number[] = [];
  add() {
    this.adds++;
  }
  depth(n: number) {
    this.lastDepth = n;
  }
  queueLatency(s: number) {
    this.latencies.push(s);
  }
  workDuration(s: number) {
    this.durations.push(s);
  }
  retry() {
    this.retries++;
  }
}

describe("WorkQueue", () => {
  test("de-duplicates keys waiting to be processed and keeps FIFO order", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    for (const k of ["a", "b", "a", "c", "b"]) q.add(k);
    assert.equal(q.len, 3);
    assert.deepEqual([await q.get(), await q.get(), await q.get()], ["a", "b", "c"]);
    assert.equal(q.len, 0);
  });

  test("a key re-added while processing is not handed out again until done, then once", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add("a");
    const k = await q.get();
    assert.equal(k, "a");
    q.add("a");
    q.add("a");
    assert.equal(q.len, 0, "not queued while processing");
    let got: string | undefined;
    void q.get().then((x) => {
      got = x;
    });
    await flush();
    assert.equal(got, undefined);
    q.done("a");
    await flush();
    assert.equal(got, "a");
    q.done("a");
    assert.equal(q.len, 0);
  });

  test("a waiting get() receives a key added later", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const p = q.get();
    q.add("x");
    assert.equal(await p, "x");
    assert.equal(q.inFlight, 1);
  });

  test("addAfter delays a key; the earliest of two delays wins; duplicates collapse", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter("a", 1000);
    q.addAfter("a", 300);
    q.addAfter("a", 2000);
    q.addAfter("b", 500);
    assert.equal(q.delayed, 2);
    clock.advance(299);
    assert.equal(q.len, 0);
    clock.advance(1);
    assert.equal(q.len, 1);
    assert.equal(await q.get(), "a");
    clock.advance(200);
    assert.equal(await q.get(), "b");
    clock.advance(5000);
    assert.equal(q.len, 0, "superseded delays do not add the key again");
    assert.equal(q.delayed, 0);
  });

  test("addAfter with a non-positive delay adds at once", () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.addAfter("a", 0);
    assert.equal(q.len, 1);
  });

  test("addRateLimited backs off per key exponentially; forget resets", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, rateLimiter: unlimited() });
    const readyAfter = async (key: string): Promise<number> => {
      q.addRateLimited(key);
      const start = clock.now();
      for (let i = 0; q.len === 0 && i < 10_000; i++) clock.advance(1);
      const waited = clock.now() - start;
      q.done((await q.get()) as string);
      return waited;
    };
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) waits.push(await readyAfter("a"));
    assert.deepEqual(waits, [5, 10, 20, 40]);
    assert.equal(q.numRequeues("a"), 4);
    assert.equal(q.numRequeues("b"), 0);
    q.forget("a");
    assert.equal(q.numRequeues("a"), 0);
    assert.equal(await readyAfter("a"), 5);
  });

  test("shutDown makes get() resolve undefined and ignores further adds", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const p = q.get();
    q.add("a"); // handed to the waiting getter
    assert.equal(await p, "a");
    const waiting = q.get();
    q.addAfter("b", 10);
    q.shutDown();
    assert.equal(await waiting, undefined);
    q.add("c");
    assert.equal(await q.get(), undefined);
    assert.equal(q.delayed, 0);
    q.done("a");
  });

  test("shutDownWithDrain waits for in-flight keys, or gives up at the deadline", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add("a");
    await q.get();
    let drained: boolean | undefined;
    void q.shutDownWithDrain(1000).then((x) => {
      drained = x;
    });
    await flush();
    assert.equal(drained, undefined);
    q.done("a");
    await flush();
    assert.equal(drained, true);

    const q2 = new WorkQueue({ clock });
    q2.add("a");
    await q2.get();
    const p = q2.shutDownWithDrain(1000);
    clock.advance(1000);
    assert.equal(await p, false);
  });

  test("metrics: adds, depth, latency, work duration, retries, unfinished work", async () => {
    const clock = new FakeClock();
    const m = new CountingSink();
    const q = new WorkQueue({ clock, metrics: m, rateLimiter: unlimited() });
    q.add("a");
    q.add("a");
    q.add("b");
    assert.equal(m.adds, 2);
    assert.equal(m.lastDepth, 2);
    clock.advance(250);
    await q.get();
    assert.deepEqual(m.latencies, [0.25]);
    assert.equal(m.lastDepth, 1);
    clock.advance(1500);
    assert.equal(q.unfinishedWorkSeconds(), 1.5);
    assert.equal(q.longestRunningProcessorSeconds(), 1.5);
    q.done("a");
    assert.deepEqual(m.durations, [1.5]);
    assert.equal(q.longestRunningProcessorSeconds(), 0);
    q.addRateLimited("c");
    assert.equal(m.retries, 1);
  });
});

describe("rate limiters", () => {
  test("per-key exponential backoff caps at 1000 s", () => {
    const l = new ItemExponentialRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 30 }, () => l.when("k"));
    assert.equal(delays[0], 5);
    assert.equal(delays[1], 10);
    assert.equal(delays.at(-1), 1_000_000);
    assert.ok(delays.every((d) => d <= 1_000_000));
  });

  test("the bucket allows a burst of 100, then 10 per second", () => {
    const clock = new FakeClock();
    const b = new BucketRateLimiter(10, 100, clock);
    const first = Array.from({ length: 100 }, () => b.when());
    assert.ok(first.every((d) => d === 0));
    assert.equal(Math.round(b.when()), 100);
    assert.equal(Math.round(b.when()), 200);
    clock.advance(1000);
    // 10 tokens refilled, two of them already reserved by the calls above
    assert.equal(Math.round(b.when()), 0);
  });

  test("max-of takes the longest delay", () => {
    const clock = new FakeClock();
    const l = new MaxOfRateLimiter(new ItemExponentialRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 1, clock));
    assert.equal(l.when("a"), 5); // bucket has its one token
    assert.equal(Math.round(l.when("b")), 100); // bucket empty: 100 ms > 5 ms
    assert.equal(l.numRequeues("a"), 1);
    l.forget("a");
    assert.equal(l.numRequeues("a"), 0);
  });
});

describe("runWorkers", () => {
  test("never runs one key on two workers at once, and reprocesses keys re-added while running", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const running = new Set<string>();
    const counts = new Map<string, number>();
    let overlap = false;
    const gates: (() => void)[] = [];
    const done = runWorkers(q, 4, async (key) => {
      if (running.has(key)) overlap = true;
      running.add(key);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      await new Promise<void>((r) => gates.push(r));
      running.delete(key);
    });
    q.add("a");
    q.add("b");
    await flush();
    q.add("a"); // re-added while "a" runs
    await flush();
    assert.equal(running.size, 2);
    while (gates.length > 0) {
      for (const g of gates.splice(0)) g();
      await flush();
    }
    assert.equal(overlap, false);
    assert.deepEqual(Object.fromEntries(counts), { a: 2, b: 1 });
    q.shutDown();
    await done;
  });

  test("error → rate-limited retry, success → forget, requeueAfter → delayed add", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, rateLimiter: unlimited() });
    const outcomes: string[] = [];
    let failures = 2;
    const calls: number[] = [];
    const done = runWorkers(
      q,
      1,
      async (key) => {
        calls.push(clock.now());
        if (key === "err" && failures-- > 0) throw new Error("boom");
        if (key === "later") return { requeueAfterMs: 60_000 };
        return undefined;
      },
      { onResult: (_k, o) => outcomes.push(o) },
      clock,
    );
    q.add("err");
    await clock.advanceAsync(0);
    assert.deepEqual(outcomes, ["error"]);
    assert.equal(q.numRequeues("err"), 1);
    await clock.advanceAsync(5);
    assert.deepEqual(outcomes, ["error", "error"]);
    await clock.advanceAsync(10);
    assert.deepEqual(outcomes, ["error", "error", "success"]);
    assert.equal(q.numRequeues("err"), 0, "success forgets the failures");

    q.add("later");
    await clock.advanceAsync(0);
    assert.equal(outcomes.at(-1), "requeue_after");
    await clock.advanceAsync(59_999);
    assert.equal(outcomes.length, 4);
    await clock.advanceAsync(1);
    assert.equal(outcomes.length, 5);
    q.shutDown();
    await done;
  });

  test("reports active workers", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    let active = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const done = runWorkers(q, 3, () => new Promise<void>((r) => release.push(r)), {
      onActive: (d) => {
        active += d;
        peak = Math.max(peak, active);
      },
    });
    for (const k of ["a", "b", "c", "d"]) q.add(k);
    await flush();
    assert.equal(active, 3);
    while (release.length > 0) {
      for (const r of release.splice(0)) r();
      await flush();
    }
    assert.equal(active, 0);
    assert.equal(peak, 3);
    q.shutDown();
    await done;
  });
});
