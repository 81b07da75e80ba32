// Two electors on one real Lease: exactly one leads; when it stops it releases the Lease and the other
// takes over at once (well before the lease would expire).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { Lease } from "../../src/api/k8s.ts";
import { KubeLeaseStore, LeaderElector } from "../../src/runtime/leader-election.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";

const LEASE_MS = 6_000;

describe("leader election (apiserver)", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await useCluster("apiserver");
  });

  test("exactly one of two electors leads; the other takes over promptly after a release", async (t) => {
    const ns = await testNamespace(t, cluster);
    const timeline: { who: string; what: "start" | "stop"; at: number }[] = [];
    const leading = new Set<string>();
    let overlap = false;
    const make = (who: string) =>
      new LeaderElector({
        store: new KubeLeaseStore(cluster.client, ns, "6d4f6a47.jobset.x-k8s.io"),
        identity: who,
        leaseDurationMs: LEASE_MS,
        renewDeadlineMs: 4_000,
        retryPeriodMs: 500,
        onStartedLeading: () => {
          if (leading.size > 0) overlap = true;
          leading.add(who);
          timeline.push({ who, what: "start", at: Date.now() });
        },
        onStoppedLeading: () => {
          leading.delete(who);
          timeline.push({ who, what: "stop", at: Date.now() });
        },
      });
    const a = make("replica-a");
    const b = make("replica-b");
    const aCtl = new AbortController();
    const bCtl = new AbortController();
    const aRun = a.run(aCtl.signal);
    const bRun = b.run(bCtl.signal);
    t.after(async () => {
      aCtl.abort();
      bCtl.abort();
      await Promise.all([aRun, bRun]);
    });

    const first = await waitFor(() => [...leading][0], { message: "a leader" });
    const [leader, follower, leaderCtl, leaderRun] = first === "replica-a" ? [a, b, aCtl, aRun] : [b, a, bCtl, bRun];
    // the follower sees the leader through the Lease
    await waitFor(() => follower.getLeader() === first, { message: "the follower to observe the leader" });
    assert.equal(follower.isLeader(), false);
    const lease = await cluster.client.get<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/6d4f6a47.jobset.x-k8s.io`,
    );
    assert.equal(lease.spec?.holderIdentity, first);
    assert.equal(lease.spec?.leaseDurationSeconds, LEASE_MS / 1000);
    assert.match(lease.spec?.renewTime ?? "", /\.\d{6}Z$/);
    // renewals keep going
    const renew0 = lease.spec?.renewTime;
    await waitFor(
      async () =>
        (
          await cluster.client.get<Lease>(
            `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/6d4f6a47.jobset.x-k8s.io`,
          )
        ).spec?.renewTime !== renew0,
      { message: "a renewal", timeoutMs: 5_000 },
    );

    // stop the leader: it releases the Lease, the follower takes over without waiting for expiry
    leaderCtl.abort();
    assert.equal(await leaderRun, true);
    const released = Date.now();
    assert.equal(leader.isLeader(), false);
    await waitFor(() => follower.isLeader(), { message: "the follower to take over", timeoutMs: LEASE_MS - 1_000 });
    const tookMs = Date.now() - released;
    assert.ok(tookMs < LEASE_MS - 1_000, `took over in ${tookMs} ms`);
    assert.equal(overlap, false, "never two leaders at once (as seen by this process)");
    assert.deepEqual(
      timeline.map((e) => `${e.who} ${e.what}`),
      [`${first} start`, `${first} stop`, `${follower.identity} start`],
    );
    const after = await cluster.client.get<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/6d4f6a47.jobset.x-k8s.io`,
    );
    assert.equal(after.spec?.holderIdentity, follower.identity);
    assert.equal(after.spec?.leaseTransitions, 1);
  });
});
