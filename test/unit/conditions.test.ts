import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rfc3339 } from "../../src/api/time.ts";
import type { JobSetCondition, JobSetStatus } from "../../src/api/types.ts";
import {
  type ConditionSpec,
  eventTypeFor,
  jobSetFinished,
  markCompleted,
  markFailed,
  markJobsReady,
  markResumed,
  markStartupCompleted,
  markStartupInProgress,
  markSuspended,
  newStatusUpdate,
  setCondition,
} from "../../src/controller/conditions.ts";

const NOW = new Date("2024-05-06T07:08:09.456Z");
const NOW_S = "2024-05-06T07:08:09Z";
const OLD = "2024-01-01T00:00:00Z";
const cond = (c: Partial<JobSetCondition> & Pick<JobSetCondition, "type" | "status">): JobSetCondition => ({
  reason: "R",
  message: "m",
  lastTransitionTime: OLD,
  ...c,
});

describe("rfc3339", () => {
  test("seconds, UTC, Z", () => assert.equal(rfc3339(NOW), NOW_S));
});

describe("setCondition (§5.5)", () => {
  const cases: {
    name: string;
    before: JobSetCondition[] | undefined;
    set: ConditionSpec;
    after: JobSetCondition[] | undefined;
    changed: boolean;
  }[] = [
    {
      name: "appends a new True condition with now",
      before: undefined,
      set: { type: "Suspended", status: "True", reason: "SuspendedJobs", message: "jobset is suspended" },
      after: [
        {
          type: "Suspended",
          status: "True",
          reason: "SuspendedJobs",
          message: "jobset is suspended",
          lastTransitionTime: NOW_S,
        },
      ],
      changed: true,
    },
    {
      name: "never appends a False condition",
      before: [],
      set: { type: "Suspended", status: "False", reason: "ResumeJobs", message: "jobset is resumed" },
      after: [],
      changed: false,
    },
    {
      name: "status change replaces it with now",
      before: [cond({ type: "Suspended", status: "True" })],
      set: { type: "Suspended", status: "False", reason: "ResumeJobs", message: "jobset is resumed" },
      after: [
        {
          type: "Suspended",
          status: "False",
          reason: "ResumeJobs",
          message: "jobset is resumed",
          lastTransitionTime: NOW_S,
        },
      ],
      changed: true,
    },
    {
      name: "reason change keeps lastTransitionTime",
      before: [cond({ type: "RestartingJobSet", status: "True", reason: "A", message: "x" })],
      set: { type: "RestartingJobSet", status: "True", reason: "B", message: "x" },
      after: [cond({ type: "RestartingJobSet", status: "True", reason: "B", message: "x" })],
      changed: true,
    },
    {
      name: "message change keeps lastTransitionTime",
      before: [cond({ type: "RestartingJobSet", status: "True", reason: "A", message: "x" })],
      set: { type: "RestartingJobSet", status: "True", reason: "A", message: "y" },
      after: [cond({ type: "RestartingJobSet", status: "True", reason: "A", message: "y" })],
      changed: true,
    },
    {
      name: "identical condition: no change",
      before: [cond({ type: "Completed", status: "True" })],
      set: { type: "Completed", status: "True", reason: "R", message: "m" },
      after: [cond({ type: "Completed", status: "True" })],
      changed: false,
    },
    {
      name: "StartupPolicyCompleted flips only the status of InProgress",
      before: [cond({ type: "StartupPolicyInProgress", status: "True", reason: "I", message: "i" })],
      set: { type: "StartupPolicyCompleted", status: "True", reason: "C", message: "c" },
      after: [
        cond({ type: "StartupPolicyInProgress", status: "False", reason: "I", message: "i" }),
        { type: "StartupPolicyCompleted", status: "True", reason: "C", message: "c", lastTransitionTime: NOW_S },
      ],
      changed: true,
    },
    {
      name: "InProgress flips an existing Completed to False and a False InProgress to True",
      before: [
        cond({ type: "StartupPolicyInProgress", status: "False", reason: "I", message: "i" }),
        cond({ type: "StartupPolicyCompleted", status: "True", reason: "C", message: "c" }),
      ],
      set: { type: "StartupPolicyInProgress", status: "True", reason: "I", message: "i" },
      after: [
        { type: "StartupPolicyInProgress", status: "True", reason: "I", message: "i", lastTransitionTime: NOW_S },
        cond({ type: "StartupPolicyCompleted", status: "False", reason: "C", message: "c" }),
      ],
      changed: true,
    },
    {
      name: "unrelated conditions untouched",
      before: [cond({ type: "Suspended", status: "True" })],
      set: { type: "Completed", status: "True", reason: "AllJobsCompleted", message: "jobset completed successfully" },
      after: [
        cond({ type: "Suspended", status: "True" }),
        {
          type: "Completed",
          status: "True",
          reason: "AllJobsCompleted",
          message: "jobset completed successfully",
          lastTransitionTime: NOW_S,
        },
      ],
      changed: true,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const status: JobSetStatus = { restarts: 0 };
      if (c.before) status.conditions = c.before;
      const u = newStatusUpdate(status, NOW);
      assert.equal(setCondition(u, c.set), c.changed);
      assert.equal(u.shouldUpdate, c.changed);
      assert.deepEqual(u.status.conditions ?? undefined, c.after);
      assert.deepEqual(
        u.events,
        c.changed ? [{ type: eventTypeFor(c.set.reason), reason: c.set.reason, message: c.set.message }] : [],
      );
      assert.deepEqual(status.conditions, c.before, "input status is not mutated");
    });
  }
});

describe("eventTypeFor (§5.12)", () => {
  const warning = [
    "FailedJobs",
    "FailJobSetFailurePolicyAction",
    "ReachedMaxRestarts",
    "FailurePolicy_rule0",
    "DefaultFailurePolicy",
    "RestartJobSetFailurePolicyAction",
    "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction",
    "RestartJobFailurePolicyAction",
    "RestartJobAndIgnoreMaxRestartsFailurePolicyAction",
    "JobCreationFailed",
    "HeadlessServiceCreationFailed",
    "PVCCreationFailed",
  ];
  const normal = [
    "AllJobsCompleted",
    "JobsReady",
    "JobSetCompleted",
    "JobSetFailed",
    "JobSetSuspended",
    "SuspendedJobs",
    "ResumeJobs",
    "InOrderStartupPolicyInProgress",
    "InOrderStartupPolicyCompleted",
  ];
  for (const r of warning) test(`${r} is Warning`, () => assert.equal(eventTypeFor(r), "Warning"));
  for (const r of normal) test(`${r} is Normal`, () => assert.equal(eventTypeFor(r), "Normal"));
});

describe("condition catalogue", () => {
  test("markCompleted", () => {
    const u = newStatusUpdate(
      { restarts: 1, conditions: [cond({ type: "RestartingJobSet", status: "True", reason: "DefaultFailurePolicy" })] },
      NOW,
    );
    markCompleted(u);
    assert.equal(u.status.terminalState, "Completed");
    assert.deepEqual(u.metrics, { completed: true, failed: false });
    assert.deepEqual(u.events, [
      { type: "Normal", reason: "AllJobsCompleted", message: "jobset completed successfully" },
      { type: "Normal", reason: "JobSetCompleted", message: "jobset completed successfully" },
    ]);
    assert.deepEqual(
      u.status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ["RestartingJobSet", "False", "JobSetCompleted"],
        ["Completed", "True", "AllJobsCompleted"],
      ],
    );
  });
  test("markFailed without a RestartingJobSet condition adds only Failed", () => {
    const u = newStatusUpdate({ restarts: 0 }, NOW);
    markFailed(u, "FailedJobs", "msg");
    assert.equal(u.status.terminalState, "Failed");
    assert.deepEqual(u.metrics, { completed: false, failed: true });
    assert.deepEqual(
      u.status.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [["Failed", "True", "FailedJobs", "msg"]],
    );
    assert.deepEqual(u.events, [{ type: "Warning", reason: "FailedJobs", message: "msg" }]);
  });
  test("markSuspended / markResumed / markJobsReady", () => {
    const u = newStatusUpdate({ restarts: 0 }, NOW);
    markResumed(u);
    markJobsReady(u);
    assert.equal(u.shouldUpdate, false);
    markSuspended(u);
    assert.deepEqual(
      u.status.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [["Suspended", "True", "SuspendedJobs", "jobset is suspended"]],
    );
    markResumed(u);
    assert.deepEqual(
      u.status.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [["Suspended", "False", "ResumeJobs", "jobset is resumed"]],
    );
  });
  test("startup conditions", () => {
    const u = newStatusUpdate({ restarts: 0 }, NOW);
    markStartupInProgress(u);
    markStartupInProgress(u);
    markStartupCompleted(u);
    assert.deepEqual(
      u.status.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [
        [
          "StartupPolicyInProgress",
          "False",
          "InOrderStartupPolicyInProgress",
          "in order startup policy is in progress",
        ],
        ["StartupPolicyCompleted", "True", "InOrderStartupPolicyCompleted", "in order startup policy has completed"],
      ],
    );
    assert.equal(u.events.length, 2);
  });
  test("jobSetFinished", () => {
    assert.equal(jobSetFinished(undefined), false);
    assert.equal(jobSetFinished({ conditions: [cond({ type: "Completed", status: "False" })] }), false);
    assert.equal(jobSetFinished({ conditions: [cond({ type: "Completed", status: "True" })] }), true);
    assert.equal(jobSetFinished({ conditions: [cond({ type: "Failed", status: "True" })] }), true);
  });
});
