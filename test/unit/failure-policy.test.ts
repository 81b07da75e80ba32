import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/api/k8s.ts";
import type { FailurePolicy, FailurePolicyRule, JobSet, JobSetStatus } from "../../src/api/types.ts";
import { type JobSetEvent, newStatusUpdate } from "../../src/controller/conditions.ts";
import {
  executeFailurePolicy,
  findMatchingRule,
  firstFailedJob,
  restartJobGateError,
} from "../../src/controller/failure-policy.ts";
import { job, jobSet, rjob } from "../builders.ts";

const NOW = new Date("2024-01-01T01:00:00Z");
const NOW_S = "2024-01-01T01:00:00Z";
const t = (s: number) => `2024-01-01T00:00:${String(s).padStart(2, "0")}Z`;

/** A failed current-attempt Job of rjob `rj`, index `i`, failing at second `at`. */
const failedJob = (rj: string, i: number, at: number, reason = "BackoffLimitExceeded", message = "backoff") =>
  job(`js-${rj}-${i}`).replicatedJobName(rj).jobIndex(i).restartAttempt(0).failed(reason, message, t(at)).obj();

const rule = (r: Partial<FailurePolicyRule> & Pick<FailurePolicyRule, "action">): FailurePolicyRule => ({
  name: "r",
  ...r,
});

function js(policy: FailurePolicy | undefined, status: Partial<JobSetStatus> = {}): JobSet {
  const b = jobSet("js").replicatedJob(rjob("leader").replicas(1)).replicatedJob(rjob("w").replicas(2));
  if (policy) b.failurePolicy(policy);
  const s = b.obj();
  s.status = {
    restarts: 0,
    replicatedJobsStatus: [
      { name: "w", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
      { name: "leader", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
    ],
    ...status,
  };
  return s;
}

const warn = (reason: string, message: string): JobSetEvent => ({ type: "Warning", reason, message });
const normal = (reason: string, message: string): JobSetEvent => ({ type: "Normal", reason, message });

interface Case {
  name: string;
  js: JobSet;
  failed: Job[];
  gate?: boolean;
  /** Expected outcome. */
  error?: string;
  failedReason?: string;
  failedMessage?: string;
  restarts?: number;
  restartsCountTowardsMax?: number | undefined;
  restarting?: [string, string, string]; // status, reason, message
  jobRestarts?: number[] | undefined;
  counted?: number[] | undefined;
  events?: JobSetEvent[];
}

const restartingTrue = {
  type: "RestartingJobSet",
  status: "True" as const,
  reason: "FailurePolicy_r",
  message: "applying RestartJobSet failure policy action (first failed job: js-w-1)",
  lastTransitionTime: t(0),
};

const cases: Case[] = [
  {
    name: "no failurePolicy: Failed/FailedJobs with the earliest failed Job",
    js: js(undefined),
    failed: [failedJob("w", 0, 5), failedJob("w", 1, 3), failedJob("leader", 0, 4)],
    failedReason: "FailedJobs",
    failedMessage: "jobset failed due to one or more job failures (first failed job: js-w-1)",
    restarts: 0,
    events: [warn("FailedJobs", "jobset failed due to one or more job failures (first failed job: js-w-1)")],
  },
  {
    name: "no failurePolicy: a tie keeps list order",
    js: js(undefined),
    failed: [failedJob("w", 1, 3), failedJob("w", 0, 3)],
    failedReason: "FailedJobs",
    failedMessage: "jobset failed due to one or more job failures (first failed job: js-w-1)",
  },
  {
    name: "no failurePolicy: RestartingJobSet flips to JobSetFailed",
    js: js(undefined, { conditions: [{ ...restartingTrue }] }),
    failed: [failedJob("w", 0, 1)],
    failedReason: "FailedJobs",
    restarting: ["False", "JobSetFailed", "jobset failed"],
    events: [
      warn("FailedJobs", "jobset failed due to one or more job failures (first failed job: js-w-0)"),
      normal("JobSetFailed", "jobset failed"),
    ],
  },
  {
    name: "FailJobSet rule",
    js: js({ maxRestarts: 5, rules: [rule({ action: "FailJobSet" })] }),
    failed: [failedJob("w", 0, 1)],
    failedReason: "FailJobSetFailurePolicyAction",
    failedMessage: "applying FailJobSet failure policy action (first failed job: js-w-0)",
    events: [
      warn("FailJobSetFailurePolicyAction", "applying FailJobSet failure policy action (first failed job: js-w-0)"),
    ],
  },
  {
    name: "RestartJobSet within budget",
    js: js({ maxRestarts: 2, rules: [rule({ action: "RestartJobSet" })] }, { restarts: 1, restartsCountTowardsMax: 1 }),
    failed: [failedJob("w", 1, 1)],
    restarts: 2,
    restartsCountTowardsMax: 2,
    restarting: ["True", "FailurePolicy_r", "applying RestartJobSet failure policy action (first failed job: js-w-1)"],
    events: [
      warn("FailurePolicy_r", "applying RestartJobSet failure policy action (first failed job: js-w-1)"),
      warn(
        "RestartJobSetFailurePolicyAction",
        "applying RestartJobSet failure policy action (first failed job: js-w-1)",
      ),
    ],
  },
  {
    name: "RestartJobSet with the budget used up",
    js: js({ maxRestarts: 2, rules: [rule({ action: "RestartJobSet" })] }, { restarts: 3, restartsCountTowardsMax: 2 }),
    failed: [failedJob("w", 1, 1)],
    failedReason: "ReachedMaxRestarts",
    failedMessage: "jobset failed due to reaching max number of restarts (first failed job: js-w-1)",
    restarts: 3,
    restartsCountTowardsMax: 2,
  },
  {
    name: "maxRestarts 0 with a policy: first restart fails with ReachedMaxRestarts",
    js: js({}),
    failed: [failedJob("w", 0, 1)],
    failedReason: "ReachedMaxRestarts",
    failedMessage: "jobset failed due to reaching max number of restarts (first failed job: js-w-0)",
  },
  {
    name: "negative maxRestarts fails on any counted restart",
    js: js({ maxRestarts: -1 }),
    failed: [failedJob("w", 0, 1)],
    failedReason: "ReachedMaxRestarts",
  },
  {
    name: "no rule matches: default RestartJobSet with DefaultFailurePolicy and the first failed Job",
    js: js({ maxRestarts: 1, rules: [rule({ action: "FailJobSet", onJobFailureReasons: ["DeadlineExceeded"] })] }),
    failed: [failedJob("w", 0, 4), failedJob("leader", 0, 2)],
    restarts: 1,
    restartsCountTowardsMax: 1,
    restarting: [
      "True",
      "DefaultFailurePolicy",
      "applying RestartJobSet failure policy action (first failed job: js-leader-0)",
    ],
    events: [
      warn("DefaultFailurePolicy", "applying RestartJobSet failure policy action (first failed job: js-leader-0)"),
      warn(
        "RestartJobSetFailurePolicyAction",
        "applying RestartJobSet failure policy action (first failed job: js-leader-0)",
      ),
    ],
  },
  {
    name: "empty rule list: default action",
    js: js({ maxRestarts: 1, rules: [] }),
    failed: [failedJob("w", 0, 4)],
    restarts: 1,
    restarting: [
      "True",
      "DefaultFailurePolicy",
      "applying RestartJobSet failure policy action (first failed job: js-w-0)",
    ],
  },
  {
    name: "RestartJobSetAndIgnoreMaxRestarts ignores the budget and does not count",
    js: js(
      { maxRestarts: 0, rules: [rule({ name: "ign", action: "RestartJobSetAndIgnoreMaxRestarts" })] },
      { restarts: 4, restartsCountTowardsMax: 0 },
    ),
    failed: [failedJob("w", 0, 1)],
    restarts: 5,
    restartsCountTowardsMax: 0,
    restarting: [
      "True",
      "FailurePolicy_ign",
      "applying RestartJobSetAndIgnoreMaxRestarts failure policy action (first failed job: js-w-0)",
    ],
    events: [
      warn(
        "FailurePolicy_ign",
        "applying RestartJobSetAndIgnoreMaxRestarts failure policy action (first failed job: js-w-0)",
      ),
      warn(
        "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction",
        "applying RestartJobSetAndIgnoreMaxRestarts failure policy action (first failed job: js-w-0)",
      ),
    ],
  },
  {
    name: "RestartingJobSet already True with the same text: only the action event",
    js: js({ maxRestarts: 5, rules: [rule({ action: "RestartJobSet" })] }, { conditions: [{ ...restartingTrue }] }),
    failed: [failedJob("w", 1, 1)],
    restarts: 1,
    restarting: ["True", "FailurePolicy_r", "applying RestartJobSet failure policy action (first failed job: js-w-1)"],
    events: [
      warn(
        "RestartJobSetFailurePolicyAction",
        "applying RestartJobSet failure policy action (first failed job: js-w-1)",
      ),
    ],
  },
  {
    name: "RestartJob with the gate off is a reconcile error",
    js: js({ maxRestarts: 5, rules: [rule({ action: "RestartJob" })] }),
    failed: [failedJob("w", 1, 1)],
    error: "RestartJob failure policy action cannot be used when the feature gate RestartJob is disabled",
  },
  {
    name: "RestartJobAndIgnoreMaxRestarts with the gate off is a reconcile error",
    js: js({ maxRestarts: 5, rules: [rule({ action: "RestartJobAndIgnoreMaxRestarts" })] }),
    failed: [failedJob("w", 1, 1)],
    error:
      "RestartJobAndIgnoreMaxRestarts failure policy action cannot be used when the feature gate RestartJob is disabled",
  },
  {
    name: "RestartJob within budget: per-Job counters, no RestartingJobSet",
    js: js({ maxRestarts: 2, rules: [rule({ action: "RestartJob" })] }),
    failed: [failedJob("w", 1, 1)],
    gate: true,
    restarts: 0,
    restartsCountTowardsMax: undefined,
    jobRestarts: [0, 1],
    counted: [0, 1],
    events: [
      warn("RestartJobFailurePolicyAction", "applying RestartJob failure policy action (first failed job: js-w-1)"),
    ],
  },
  {
    name: "RestartJob budget includes per-Job counted restarts",
    js: js(
      { maxRestarts: 2, rules: [rule({ action: "RestartJob" })] },
      {
        restartsCountTowardsMax: 1,
        replicatedJobsStatus: [
          {
            name: "w",
            ready: 0,
            succeeded: 0,
            failed: 1,
            active: 0,
            suspended: 0,
            jobRestarts: [0, 1],
            jobRestartsCountTowardsMax: [0, 1],
          },
        ],
      },
    ),
    failed: [failedJob("w", 1, 1)],
    gate: true,
    failedReason: "ReachedMaxRestarts",
    failedMessage: "jobset failed due to reaching max number of restarts (first failed job: js-w-1)",
    jobRestarts: [0, 1],
    counted: [0, 1],
  },
  {
    name: "RestartJobSet budget includes per-Job counted restarts with the gate",
    js: js(
      { maxRestarts: 1, rules: [rule({ action: "RestartJobSet" })] },
      {
        replicatedJobsStatus: [
          { name: "w", ready: 0, succeeded: 0, failed: 1, active: 0, suspended: 0, jobRestartsCountTowardsMax: [1, 0] },
        ],
      },
    ),
    failed: [failedJob("w", 1, 1)],
    gate: true,
    failedReason: "ReachedMaxRestarts",
  },
  {
    name: "RestartJobSet budget ignores per-Job counts without the gate",
    js: js(
      { maxRestarts: 1, rules: [rule({ action: "RestartJobSet" })] },
      {
        replicatedJobsStatus: [
          { name: "w", ready: 0, succeeded: 0, failed: 1, active: 0, suspended: 0, jobRestartsCountTowardsMax: [1, 0] },
        ],
      },
    ),
    failed: [failedJob("w", 1, 1)],
    restarts: 1,
    restartsCountTowardsMax: 1,
    restarting: ["True", "FailurePolicy_r", "applying RestartJobSet failure policy action (first failed job: js-w-1)"],
  },
  {
    name: "RestartJobAndIgnoreMaxRestarts: only jobRestarts, no budget check",
    js: js(
      { maxRestarts: 0, rules: [rule({ action: "RestartJobAndIgnoreMaxRestarts" })] },
      {
        replicatedJobsStatus: [
          {
            name: "w",
            ready: 0,
            succeeded: 0,
            failed: 1,
            active: 0,
            suspended: 0,
            jobRestarts: [2, 0],
            jobRestartsCountTowardsMax: [0, 0],
          },
        ],
      },
    ),
    failed: [failedJob("w", 0, 1)],
    gate: true,
    jobRestarts: [3, 0],
    counted: [0, 0],
    events: [
      warn(
        "RestartJobAndIgnoreMaxRestartsFailurePolicyAction",
        "applying RestartJobAndIgnoreMaxRestarts failure policy action (first failed job: js-w-0)",
      ),
    ],
  },
  {
    name: "RestartJob on a Job without job-index label is an error",
    js: js({ maxRestarts: 5, rules: [rule({ action: "RestartJob" })] }),
    failed: [job("x").replicatedJobName("w").restartAttempt(0).failed().obj()],
    gate: true,
    error: "missing label jobset.sigs.k8s.io/job-index",
  },
  {
    name: "RestartJob with an out-of-range index is an error",
    js: js({ maxRestarts: 5, rules: [rule({ action: "RestartJob" })] }),
    failed: [failedJob("w", 7, 1)],
    gate: true,
    error: "job index 7 is out of bounds for replicated job w",
  },
];

describe("executeFailurePolicy (§6.2)", () => {
  for (const c of cases) {
    test(c.name, () => {
      const u = newStatusUpdate(c.js.status, NOW);
      const r = executeFailurePolicy(c.js, c.failed, u, { restartJobGate: c.gate ?? false });
      if (c.error !== undefined) {
        assert.deepEqual(r, { ok: false, error: c.error });
        return;
      }
      assert.deepEqual(r, { ok: true });
      assert.equal(u.shouldUpdate, true);
      const failedCond = u.status.conditions?.find((x) => x.type === "Failed");
      if (c.failedReason !== undefined) {
        assert.equal(failedCond?.reason, c.failedReason);
        assert.equal(failedCond?.status, "True");
        assert.equal(failedCond?.lastTransitionTime, NOW_S);
        if (c.failedMessage !== undefined) assert.equal(failedCond?.message, c.failedMessage);
        assert.equal(u.status.terminalState, "Failed");
        assert.equal(u.metrics.failed, true);
      } else {
        assert.equal(failedCond, undefined);
        assert.equal(u.status.terminalState, undefined);
        assert.equal(u.metrics.failed, false);
      }
      if (c.restarts !== undefined) assert.equal(u.status.restarts, c.restarts);
      if ("restartsCountTowardsMax" in c) assert.equal(u.status.restartsCountTowardsMax, c.restartsCountTowardsMax);
      const restarting = u.status.conditions?.find((x) => x.type === "RestartingJobSet");
      if (c.restarting) {
        assert.deepEqual([restarting?.status, restarting?.reason, restarting?.message], c.restarting);
      } else if (c.failedReason === undefined) {
        assert.equal(restarting, undefined);
      }
      const w = u.status.replicatedJobsStatus?.find((s) => s.name === "w");
      if ("jobRestarts" in c) assert.deepEqual(w?.jobRestarts, c.jobRestarts);
      if ("counted" in c) assert.deepEqual(w?.jobRestartsCountTowardsMax, c.counted);
      if (c.events) assert.deepEqual(u.events, c.events);
    });
  }
});

describe("rule matching", () => {
  const failures = [
    failedJob("w", 0, 5, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
    failedJob("w", 1, 2, "PodFailurePolicy", "Container main for pod default/js-w-1-0-x failed with exit code 42"),
    failedJob("leader", 0, 3, "DeadlineExceeded", "Job was active longer than specified deadline"),
  ];
  const cases: { name: string; rules: FailurePolicyRule[]; want: [string, string] | undefined }[] = [
    {
      name: "empty rule matches the earliest failure",
      rules: [rule({ name: "a", action: "FailJobSet" })],
      want: ["a", "js-w-1"],
    },
    {
      name: "reasons filter",
      rules: [rule({ name: "a", action: "FailJobSet", onJobFailureReasons: ["DeadlineExceeded", "FailedIndexes"] })],
      want: ["a", "js-leader-0"],
    },
    {
      name: "reason not present",
      rules: [rule({ name: "a", action: "FailJobSet", onJobFailureReasons: ["MaxFailedIndexesExceeded"] })],
      want: undefined,
    },
    {
      name: "message pattern is an unanchored search",
      rules: [rule({ name: "a", action: "FailJobSet", onJobFailureMessagePatterns: ["exit code 4[0-9]"] })],
      want: ["a", "js-w-1"],
    },
    {
      name: "any of several patterns",
      rules: [rule({ name: "a", action: "FailJobSet", onJobFailureMessagePatterns: ["^nomatch$", "backoff limit$"] })],
      want: ["a", "js-w-0"],
    },
    {
      name: "invalid pattern never matches",
      rules: [rule({ name: "a", action: "FailJobSet", onJobFailureMessagePatterns: ["(unclosed"] })],
      want: undefined,
    },
    {
      name: "reasons AND patterns",
      rules: [
        rule({
          name: "a",
          action: "FailJobSet",
          onJobFailureReasons: ["BackoffLimitExceeded"],
          onJobFailureMessagePatterns: ["exit code"],
        }),
      ],
      want: undefined,
    },
    {
      name: "target replicated jobs",
      rules: [rule({ name: "a", action: "FailJobSet", targetReplicatedJobs: ["leader"] })],
      want: ["a", "js-leader-0"],
    },
    {
      name: "first matching rule wins even with a later failure",
      rules: [
        rule({ name: "first", action: "RestartJobSet", targetReplicatedJobs: ["leader"] }),
        rule({ name: "second", action: "FailJobSet" }),
      ],
      want: ["first", "js-leader-0"],
    },
    {
      name: "non-matching rules are skipped",
      rules: [
        rule({ name: "first", action: "RestartJobSet", targetReplicatedJobs: ["other"] }),
        rule({ name: "second", action: "FailJobSet", onJobFailureReasons: ["BackoffLimitExceeded"] }),
      ],
      want: ["second", "js-w-0"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const m = findMatchingRule(c.rules, failures);
      assert.deepEqual(m ? [m.rule.name, m.job.metadata?.name] : undefined, c.want);
    });
  }

  test("a Job without replicatedjob-name never matches a rule", () => {
    const anon = job("anon").restartAttempt(0).failed().obj();
    assert.equal(findMatchingRule([rule({ action: "FailJobSet" })], [anon]), undefined);
    assert.equal(firstFailedJob([anon])?.metadata?.name, "anon");
  });

  test("restartJobGateError", () => {
    assert.equal(
      restartJobGateError("RestartJob"),
      "RestartJob failure policy action cannot be used when the feature gate RestartJob is disabled",
    );
  });
});
