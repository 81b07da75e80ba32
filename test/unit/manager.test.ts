import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Lease } from "../../src/api/k8s.ts";
import { ApiError } from "../../src/runtime/client.ts";
import { flush } from "../../src/runtime/clock.ts";
import type { LeaseStore } from "../../src/runtime/leader-election.ts";
import { type ManagedInformer, Manager } from "../../src/runtime/manager.ts";
import { Metrics } from "../../src/runtime/metrics.ts";

class FakeInformer implements ManagedInformer {
  readonly name = "fake";
  started = false;
  stopped = false;
  private synced = false;
  private waiters: ((ok: boolean) => void)[] = [];
  start() {
    this.started = true;
  }
  async stop() {
    this.stopped = true;
    for (const w of this.waiters.splice(0)) w(false);
  }
  hasSynced() {
    return this.synced;
  }
  sync() {
    this.synced = true;
    for (const w of this.waiters.splice(0)) w(true);
  }
  waitForSync(signal?: AbortSignal) {
    if (this.synced) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      this.waiters.push(resolve);
      signal?.addEventListener("abort", () => resolve(false), { once: true });
    });
  }
}

class MemoryLeaseStore implements LeaseStore {
  readonly description = "ns/lease";
  lease: Lease | undefined;
  rv = 0;
  async get() {
    return this.lease && structuredClone(this.lease);
  }
  async create(l: Lease) {
    if (this.lease) throw new ApiError(409, "AlreadyExists", "exists");
    this.lease = { ...l, metadata: { resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
  async update(l: Lease) {
    if (l.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw new ApiError(409, "Conflict", "c");
    this.lease = { ...l, metadata: { resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("Manager", () => {
  test("starts informers, waits for sync, then runs controllers; reconcile metrics are recorded", async () => {
    const metrics = new Metrics();
    const m = new Manager({ metrics, health: { bindAddress: "0" } });
    const inf = m.addInformer(new FakeInformer());
    const seen: string[] = [];
    const c = m.addController({
      name: "jobset",
      reconcile: async (key) => {
        seen.push(key);
        if (key === "ns/bad") throw new Error("boom");
      },
    });
    c.enqueue("ns/a");
    const run = m.start();
    await until(() => inf.started);
    await flush();
    assert.deepEqual(seen, [], "no reconcile before the caches sync");
    assert.equal((await m.health?.evaluate("ready"))?.status, 500);
    inf.sync();
    await until(() => seen.length === 1);
    assert.equal((await m.health?.evaluate("ready"))?.status, 200);
    c.enqueue("ns/bad");
    await until(() => seen.length >= 2);
    m.stop();
    await run;
    assert.equal(inf.stopped, true);
    const text = await metrics.text();
    assert.match(text, /controller_runtime_reconcile_total\{controller="jobset",result="success"\} 1/);
    assert.match(text, /controller_runtime_reconcile_errors_total\{controller="jobset"\} [1-9]/);
    assert.match(text, /controller_runtime_max_concurrent_reconciles\{controller="jobset"\} 1/);
    assert.match(text, /workqueue_adds_total\{name="jobset",controller="jobset"\} [1-9]/);
  });

  test("graceful shutdown lets an in-flight reconcile finish and takes no new work", async () => {
    const m = new Manager({ gracefulShutdownMs: 5000 });
    let release: (() => void) | undefined;
    const done: string[] = [];
    const c = m.addController({
      name: "c",
      reconcile: async (key, ctx) => {
        await new Promise<void>((r) => {
          release = r;
        });
        assert.equal(ctx.signal.aborted, false);
        done.push(key);
      },
    });
    const run = m.start();
    c.enqueue("ns/a");
    await until(() => release !== undefined);
    c.enqueue("ns/b");
    m.stop();
    await flush();
    release?.();
    await run;
    assert.deepEqual(done, ["ns/a"]);
  });

  test("the shutdown deadline aborts the reconcile's signal", async () => {
    const m = new Manager({ gracefulShutdownMs: 50 });
    let aborted = false;
    let started = false;
    const c = m.addController({
      name: "c",
      reconcile: (_key, ctx) =>
        new Promise<void>((resolve) => {
          started = true;
          ctx.signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          });
        }),
    });
    const run = m.start();
    c.enqueue("ns/a");
    await until(() => started);
    m.stop();
    await run;
    assert.equal(aborted, true);
  });

  test("with leader election, controllers run only while leading; the lease is released on stop", async () => {
    const store = new MemoryLeaseStore();
    const m = new Manager({
      leaderElection: { store, identity: "me", retryPeriodMs: 50, renewDeadlineMs: 200, leaseDurationMs: 300 },
    });
    const seen: string[] = [];
    const c = m.addController({ name: "c", reconcile: async (k) => void seen.push(k) });
    let unleadedRan = false;
    m.addRunnable({
      name: "always",
      needLeaderElection: false,
      run: async () => {
        unleadedRan = true;
      },
    });
    c.enqueue("ns/a");
    const run = m.start();
    await m.elected();
    await until(() => seen.length === 1);
    assert.equal(unleadedRan, true);
    assert.equal(store.lease?.spec?.holderIdentity, "me");
    m.stop();
    await run;
    assert.equal(store.lease?.spec?.holderIdentity, "");
    assert.equal(m.isLeader(), false);
  });

  test("start() rejects when caches do not sync in time", async () => {
    const m = new Manager({ cacheSyncTimeoutMs: 20 });
    m.addInformer(new FakeInformer());
    await assert.rejects(m.start(), /timed out waiting for caches to sync: fake/);
  });
});
