import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/api/k8s.ts";
import type { ReplicatedJobStatus } from "../../src/api/types.ts";
import type { ChildJobs } from "../../src/controller/observe.ts";
import {
  computeReplicatedJobsStatus,
  jobReady,
  podsCount,
  replicatedJobsStatusEqual,
} from "../../src/controller/status.ts";
import { job, jobSet, rjob, rjobStatus } from "../builders.ts";

const buckets = (b: Partial<ChildJobs>): ChildJobs => ({ active: [], succeeded: [], failed: [], previous: [], ...b });
const entry = rjobStatus;

describe("podsCount / jobReady", () => {
  const cases: [string, Job, number, boolean][] = [
    ["parallelism only", job("a").parallelism(3).ready(3).obj(), 3, true],
    ["completions lower than parallelism", job("a").parallelism(4).completions(2).ready(2).obj(), 2, true],
    ["completions higher than parallelism", job("a").parallelism(2).completions(5).ready(1).obj(), 2, false],
    ["succeeded + ready", job("a").parallelism(3).ready(1).succeededPods(2).obj(), 3, true],
    ["ready nil counts 0", job("a").parallelism(1).obj(), 1, false],
    ["parallelism 0 is always ready", job("a").parallelism(0).obj(), 0, true],
  ];
  for (const [name, j, count, ready] of cases) {
    test(name, () => {
      assert.equal(podsCount(j), count);
      assert.equal(jobReady(j), ready);
    });
  }
});

describe("computeReplicatedJobsStatus", () => {
  const js = jobSet("js")
    .replicatedJob(rjob("a").replicas(3))
    .replicatedJob(rjob("c").replicas(1))
    .replicatedJob(rjob("b").replicas(2))
    .obj();
  const w = (rj: string) => job(`x-${rj}`).replicatedJobName(rj).parallelism(1);

  test("counts per bucket, zero entries for every rjob, descending by name", () => {
    const got = computeReplicatedJobsStatus(
      js,
      buckets({
        active: [
          w("a").ready(1).active(1).obj(),
          w("a").active(1).suspend(true).obj(),
          w("a").deletionTimestamp().active(1).obj(), // deletion timestamp not checked
        ],
        succeeded: [w("b").obj(), w("b").obj()],
        failed: [w("a").obj()],
        previous: [w("c").ready(1).active(1).obj()],
      }),
      { restartJobGate: false },
    );
    assert.deepEqual(got, [
      entry("c"),
      entry("b", { succeeded: 2 }),
      entry("a", { ready: 1, active: 3, suspended: 1, failed: 1 }),
    ]);
  });

  test("Jobs without or with an unknown rjob label are skipped and logged", () => {
    const log: string[] = [];
    const got = computeReplicatedJobsStatus(
      js,
      buckets({ active: [job("n").ready(1).obj()], succeeded: [w("zzz").obj()], failed: [w("").obj()] }),
      { restartJobGate: false },
      log,
    );
    assert.deepEqual(got, [entry("c"), entry("b"), entry("a")]);
    assert.equal(log.length, 3);
  });

  test("per-Job counters are kept with the gate and dropped without", () => {
    const withCounters = jobSet("js")
      .replicatedJob(rjob("a").replicas(2))
      .replicatedJobStatus({ name: "a", jobRestarts: [1, 0], jobRestartsCountTowardsMax: [1, 0] })
      .obj();
    assert.deepEqual(computeReplicatedJobsStatus(withCounters, buckets({}), { restartJobGate: true }), [
      entry("a", { jobRestarts: [1, 0], jobRestartsCountTowardsMax: [1, 0] }),
    ]);
    assert.deepEqual(computeReplicatedJobsStatus(withCounters, buckets({}), { restartJobGate: false }), [entry("a")]);
  });

  test("no rjobs: empty list", () => {
    assert.deepEqual(computeReplicatedJobsStatus(jobSet("js").obj(), buckets({}), { restartJobGate: false }), []);
  });
});

describe("replicatedJobsStatusEqual", () => {
  const cases: [string, ReplicatedJobStatus[] | undefined, ReplicatedJobStatus[] | undefined, boolean][] = [
    ["both absent", undefined, undefined, true],
    ["absent equals empty", undefined, [], true],
    ["order-insensitive", [entry("a"), entry("b")], [entry("b"), entry("a")], true],
    ["count differs", [entry("a", { ready: 1 })], [entry("a")], false],
    ["length differs", [entry("a")], [entry("a"), entry("b")], false],
    ["name differs", [entry("a")], [entry("b")], false],
    ["absent counters equal empty counters", [entry("a")], [entry("a", { jobRestarts: [] })], true],
    ["counters differ", [entry("a", { jobRestarts: [1] })], [entry("a", { jobRestarts: [2] })], false],
    ["counted differ", [entry("a", { jobRestartsCountTowardsMax: [1] })], [entry("a")], false],
  ];
  for (const [name, a, b, want] of cases) test(name, () => assert.equal(replicatedJobsStatusEqual(a, b), want));

  test("does not reorder its inputs", () => {
    const a = [entry("a"), entry("b")];
    replicatedJobsStatusEqual(a, []);
    assert.deepEqual(
      a.map((e) => e.name),
      ["a", "b"],
    );
  });
});
