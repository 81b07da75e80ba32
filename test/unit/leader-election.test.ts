import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Lease } from "../../src/api/k8s.ts";
import { ApiError } from "../../src/runtime/client.ts";
import { FakeClock, flush } from "../../src/runtime/clock.ts";
import { LeaderElector, type LeaseStore } from "../../src/runtime/leader-election.ts";

/** An in-memory Lease with resourceVersion checks, and switches to make the API fail. */
class MemoryLeaseStore implements LeaseStore {
  readonly description = "ns/lease";
  lease: Lease | undefined;
  rv = 0;
  down = false;
  writes: Lease[] = [];
  async get(): Promise<Lease | undefined> {
    if (this.down) throw new ApiError(0, "ConnectionError", "down");
    return this.lease && structuredClone(this.lease);
  }
  async create(l: Lease): Promise<Lease> {
    if (this.down) throw new ApiError(0, "ConnectionError", "down");
    if (this.lease) throw new ApiError(409, "AlreadyExists", "exists");
    this.lease = { ...structuredClone(l), metadata: { name: "lease", resourceVersion: String(++this.rv) } };
    this.writes.push(structuredClone(this.lease));
    return structuredClone(this.lease);
  }
  async update(l: Lease): Promise<Lease> {
    if (this.down) throw new ApiError(0, "ConnectionError", "down");
    if (!this.lease) throw new ApiError(404, "NotFound", "not found");
    if (l.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion)
      throw new ApiError(409, "Conflict", "the object has been modified");
    this.lease = { ...structuredClone(l), metadata: { name: "lease", resourceVersion: String(++this.rv) } };
    this.writes.push(structuredClone(this.lease));
    return structuredClone(this.lease);
  }
}

function elector(store: LeaseStore, clock: FakeClock, identity: string, log: string[]) {
  return new LeaderElector({
    store,
    clock,
    identity,
    random: () => 0,
    onStartedLeading: () => {
      log.push(`${identity} started`);
    },
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
}

const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe("LeaderElector", () => {
  test("creates the Lease and leads; renews every retry period with MicroTime stamps", async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const log: string[] = [];
    const a = elector(store, clock, "a", log);
    const ac = new AbortController();
    const run = a.run(ac.signal);
    await clock.advanceAsync(0);
    assert.deepEqual(log, ["a started"]);
    assert.equal(a.isLeader(), true);
    const spec = store.lease?.spec;
    assert.equal(spec?.holderIdentity, "a");
    assert.equal(spec?.leaseDurationSeconds, 15);
    assert.equal(spec?.leaseTransitions, 0);
    assert.match(spec?.renewTime ?? "", MICRO);
    assert.match(spec?.acquireTime ?? "", MICRO);
    const acquired = spec?.acquireTime;
    await clock.advanceAsync(2000);
    assert.equal(store.writes.length, 2, "one renew after the retry period");
    assert.equal(store.lease?.spec?.acquireTime, acquired, "renewals keep acquireTime");
    assert.notEqual(store.lease?.spec?.renewTime, acquired);
    ac.abort();
    assert.equal(await run, true);
    assert.equal(store.lease?.spec?.holderIdentity, "", "released on cancel");
    assert.equal(store.lease?.spec?.leaseDurationSeconds, 1);
    assert.deepEqual(log, ["a started", "a stopped"]);
  });

  test("exactly one of two electors leads; the other takes over at once after a release", async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const log: string[] = [];
    const a = elector(store, clock, "a", log);
    const b = elector(store, clock, "b", log);
    const aCtl = new AbortController();
    const bCtl = new AbortController();
    const aRun = a.run(aCtl.signal);
    await clock.advanceAsync(0);
    const bRun = b.run(bCtl.signal);
    await clock.advanceAsync(30_000); // well past a lease duration: a keeps renewing
    assert.equal(a.isLeader(), true);
    assert.equal(b.isLeader(), false);
    assert.equal(b.getLeader(), "a");
    aCtl.abort();
    await aRun;
    const releasedAt = clock.now();
    // b retries every 2 s (jitter 0): it acquires on its next attempt, not after 15 s
    for (let i = 0; i < 100 && !b.isLeader(); i++) await clock.advanceAsync(100);
    assert.equal(b.isLeader(), true);
    assert.ok(clock.now() - releasedAt <= 2000, `took ${clock.now() - releasedAt} ms`);
    assert.equal(store.lease?.spec?.holderIdentity, "b");
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    assert.deepEqual(log, ["a started", "a stopped", "b started"]);
    bCtl.abort();
    await bRun;
  });

  test("a crashed holder's lease is taken after leaseDuration of no change, measured locally", async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    // a holder that renewed "recently" by its own (skewed) clock, then died
    store.lease = {
      metadata: { name: "lease", resourceVersion: "1" },
      spec: {
        holderIdentity: "dead",
        leaseDurationSeconds: 15,
        acquireTime: "2099-01-01T00:00:00.000000Z",
        renewTime: "2099-01-01T00:00:00.000000Z",
        leaseTransitions: 3,
      },
    };
    store.rv = 1;
    const log: string[] = [];
    const b = elector(store, clock, "b", log);
    const ctl = new AbortController();
    const run = b.run(ctl.signal);
    await clock.advanceAsync(14_000);
    assert.equal(b.isLeader(), false, "not before leaseDuration");
    await clock.advanceAsync(2_000);
    assert.equal(b.isLeader(), true);
    assert.equal(store.lease?.spec?.leaseTransitions, 4);
    ctl.abort();
    await run;
  });

  test("leadership is lost when renewals fail for the renew deadline", async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const log: string[] = [];
    let leaderSignal: AbortSignal | undefined;
    const a = new LeaderElector({
      store,
      clock,
      identity: "a",
      random: () => 0,
      onStartedLeading: (s) => {
        leaderSignal = s;
      },
      onStoppedLeading: () => log.push("stopped"),
    });
    const run = a.run(new AbortController().signal);
    await clock.advanceAsync(0);
    assert.equal(a.isLeader(), true);
    store.down = true;
    await clock.advanceAsync(2_000 + 9_000);
    assert.equal(a.isLeader(), true, "still within the renew deadline");
    await clock.advanceAsync(1_100);
    assert.equal(await run, false);
    assert.equal(a.isLeader(), false);
    assert.equal(leaderSignal?.aborted, true);
    assert.deepEqual(log, ["stopped"]);
  });

  test("a renewal that succeeds within the deadline keeps leadership", async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = elector(store, clock, "a", []);
    const ctl = new AbortController();
    const run = a.run(ctl.signal);
    await clock.advanceAsync(0);
    store.down = true;
    await clock.advanceAsync(8_000);
    store.down = false;
    await clock.advanceAsync(10_000);
    assert.equal(a.isLeader(), true);
    ctl.abort();
    assert.equal(await run, true);
  });

  test("cancelling before acquiring does not lead or write", async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    store.down = true;
    const log: string[] = [];
    const a = elector(store, clock, "a", log);
    const ctl = new AbortController();
    const run = a.run(ctl.signal);
    await clock.advanceAsync(5_000);
    ctl.abort();
    await flush();
    assert.equal(await run, false);
    assert.deepEqual(log, []);
    assert.equal(store.writes.length, 0);
  });

  test("rejects inconsistent durations", () => {
    const store = new MemoryLeaseStore();
    const base = { store, onStartedLeading: () => {} };
    assert.throws(
      () => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
      /leaseDuration/,
    );
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /renewDeadline/);
  });
});
