import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet, SuccessPolicy } from "../../src/api/types.ts";
import { newStatusUpdate } from "../../src/controller/conditions.ts";
import { executeSuccessPolicy, successCounts } from "../../src/controller/success-policy.ts";
import { job, jobSet, rjob } from "../builders.ts";

const js = (policy: SuccessPolicy | undefined): JobSet => {
  const b = jobSet("js").replicatedJob(rjob("leader").replicas(1)).replicatedJob(rjob("workers").replicas(3));
  if (policy) b.successPolicy(policy);
  return b.obj();
};
const done = (rj: string, n: number): Job[] =>
  Array.from({ length: n }, (_, i) => job(`js-${rj}-${i}`).replicatedJobName(rj).completed().obj());

describe("success policy (§6.1)", () => {
  const cases: { name: string; policy?: SuccessPolicy; succeeded: Job[]; expected: number; completes: boolean }[] = [
    {
      name: "All: every Job succeeded",
      policy: { operator: "All" },
      succeeded: [...done("leader", 1), ...done("workers", 3)],
      expected: 4,
      completes: true,
    },
    {
      name: "All: one missing",
      policy: { operator: "All" },
      succeeded: [...done("leader", 1), ...done("workers", 2)],
      expected: 4,
      completes: false,
    },
    {
      name: "All over a target",
      policy: { operator: "All", targetReplicatedJobs: ["workers"] },
      succeeded: done("workers", 3),
      expected: 3,
      completes: true,
    },
    {
      name: "All over a target ignores other rjobs",
      policy: { operator: "All", targetReplicatedJobs: ["workers"] },
      succeeded: [...done("leader", 1), ...done("workers", 2)],
      expected: 3,
      completes: false,
    },
    { name: "Any: one Job", policy: { operator: "Any" }, succeeded: done("workers", 1), expected: 1, completes: true },
    {
      name: "Any over a target: non-targeted success does not count",
      policy: { operator: "Any", targetReplicatedJobs: ["leader"] },
      succeeded: done("workers", 3),
      expected: 1,
      completes: false,
    },
    {
      name: "Any over a target: targeted success",
      policy: { operator: "Any", targetReplicatedJobs: ["leader"] },
      succeeded: done("leader", 1),
      expected: 1,
      completes: true,
    },
    {
      name: "nil policy is All",
      succeeded: [...done("leader", 1), ...done("workers", 3)],
      expected: 4,
      completes: true,
    },
    {
      name: "targets an rjob with no Jobs: expected 0 completes on any success",
      policy: { operator: "All", targetReplicatedJobs: ["none"] },
      succeeded: done("workers", 1),
      expected: 0,
      completes: true,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const s = js(c.policy);
      assert.equal(successCounts(s, c.succeeded).expected, c.expected);
      const u = newStatusUpdate({ restarts: 0 }, new Date("2024-01-01T00:00:10Z"));
      assert.equal(executeSuccessPolicy(s, c.succeeded, u), c.completes);
      if (c.completes) {
        assert.equal(u.status.terminalState, "Completed");
        assert.equal(u.metrics.completed, true);
        assert.deepEqual(
          u.status.conditions?.map((x) => [x.type, x.status, x.reason, x.message]),
          [["Completed", "True", "AllJobsCompleted", "jobset completed successfully"]],
        );
        assert.deepEqual(u.events, [
          { type: "Normal", reason: "AllJobsCompleted", message: "jobset completed successfully" },
        ]);
      } else {
        assert.equal(u.shouldUpdate, false);
        assert.equal(u.status.terminalState, undefined);
      }
    });
  }
});
