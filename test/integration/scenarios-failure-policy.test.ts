// Failure-policy scenarios against the real API server: no policy, every action (§6.2), rule matching
// by reasons / message patterns / target replicated jobs with first-match-wins and the earliest failed
// Job, the restart counters and budget (§5.9), the RestartingJobSet lifecycle (§5.11) and its
// lastTransitionTime (§5.5), restart strategies Recreate and BlockingRecreate (§6.3) and per-Job
// restarts behind the RestartJob gate (§6.4).
import { Labels } from "../../src/api/constants.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { FailurePolicy } from "../../src/api/types.ts";
import { jobSet, rjob } from "../builders.ts";
import {
  clockPast,
  deletingInForeground,
  jobsWhere,
  label,
  runScenarios,
  type Scenario,
  type ScenarioContext,
  whileBlocked,
} from "./scenario.ts";

const byName = (jobs: Job[], name: string) => jobs.find((j) => j.metadata?.name === name);
const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);
const attempts = (jobs: Job[]) => jobs.map((j) => label(j, Labels.RestartAttempt));
/** Every owned Job is live (not deleting) and carries restart-attempt `n`; `count` of them. */
const allAtAttempt = (n: number, count: number) =>
  jobsWhere(
    (jobs) =>
      jobs.length === count &&
      jobs.every((j) => !j.metadata?.deletionTimestamp && label(j, Labels.RestartAttempt) === String(n)),
  );

const restartMessage = (action: string, jobName: string) =>
  `applying ${action} failure policy action (first failed job: ${jobName})`;

// ---------------------------------------------------------------------------------------------- actions

const actionScenarios: Scenario[] = [
  {
    name: "6.2 no failure policy: the earliest failure names the failed JobSet",
    jobSet: jobSet("nofp").replicatedJob(rjob("w").replicas(3)),
    steps: [
      { expect: { jobs: 3 } },
      {
        do: (ctx) =>
          whileBlocked(ctx, async () => {
            await ctx.failJob("nofp-w-0", undefined, undefined, secondsAgo(10));
            await ctx.failJob("nofp-w-2", undefined, undefined, secondsAgo(60));
            await ctx.failJob("nofp-w-1", undefined, undefined, secondsAgo(30));
          }),
        expect: {
          status: { terminalState: "Failed", restarts: 0, replicatedJobsStatus: [{ name: "w", failed: 3 }] },
          conditions: [
            {
              type: "Failed",
              status: "True",
              reason: "FailedJobs",
              message: "jobset failed due to one or more job failures (first failed job: nofp-w-2)",
            },
          ],
          absentConditions: ["RestartingJobSet"],
          events: [
            {
              reason: "FailedJobs",
              type: "Warning",
              message: "jobset failed due to one or more job failures (first failed job: nofp-w-2)",
            },
          ],
        },
      },
    ],
  },
  {
    name: "6.2 FailJobSet action",
    jobSet: jobSet("fjs")
      .replicatedJob(rjob("w").replicas(2))
      .failurePolicy({ maxRestarts: 3, rules: [{ name: "stop", action: "FailJobSet" }] }),
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.failJob("fjs-w-1"),
        expect: {
          status: { terminalState: "Failed", restarts: 0 },
          conditions: [
            {
              type: "Failed",
              status: "True",
              reason: "FailJobSetFailurePolicyAction",
              message: "applying FailJobSet failure policy action (first failed job: fjs-w-1)",
            },
          ],
          absentConditions: ["RestartingJobSet", "Completed"],
          events: [
            {
              reason: "FailJobSetFailurePolicyAction",
              type: "Warning",
              message: "applying FailJobSet failure policy action (first failed job: fjs-w-1)",
            },
          ],
          jobs: jobsWhere((jobs) => deletingInForeground(byName(jobs, "fjs-w-0"))),
        },
      },
    ],
  },
  {
    name: "6.2 RestartJobSet within the budget, then ReachedMaxRestarts",
    jobSet: jobSet("rs").replicatedJob(rjob("w").replicas(2)).failurePolicy({ maxRestarts: 2 }),
    finalizeDeleted: true,
    steps: [
      { expect: { jobs: 2 }, name: "no restart yet: no RestartingJobSet", settle: true },
      { expect: { absentConditions: ["RestartingJobSet"] } },
      {
        name: "first failure → restart 1 (DefaultFailurePolicy)",
        do: (ctx) => ctx.failJob("rs-w-0"),
        expect: {
          status: { restarts: 1, restartsCountTowardsMax: 1 },
          conditions: [
            {
              type: "RestartingJobSet",
              status: "True",
              reason: "DefaultFailurePolicy",
              message: restartMessage("RestartJobSet", "rs-w-0"),
            },
          ],
          events: [
            { reason: "DefaultFailurePolicy", type: "Warning", message: restartMessage("RestartJobSet", "rs-w-0") },
            {
              reason: "RestartJobSetFailurePolicyAction",
              type: "Warning",
              message: restartMessage("RestartJobSet", "rs-w-0"),
            },
          ],
          jobs: allAtAttempt(1, 2),
        },
      },
      {
        name: "all Jobs ready → RestartingJobSet False/JobsReady",
        do: (ctx) => ctx.readyJobs(),
        expect: {
          conditions: [
            { type: "RestartingJobSet", status: "False", reason: "JobsReady", message: "all jobs are ready" },
          ],
          events: [{ reason: "JobsReady", type: "Normal", message: "all jobs are ready" }],
        },
      },
      {
        name: "second failure → restart 2",
        do: (ctx) => ctx.failJob("rs-w-1"),
        expect: {
          status: { restarts: 2, restartsCountTowardsMax: 2 },
          conditions: [
            {
              type: "RestartingJobSet",
              status: "True",
              reason: "DefaultFailurePolicy",
              message: restartMessage("RestartJobSet", "rs-w-1"),
            },
          ],
          jobs: allAtAttempt(2, 2),
        },
      },
      {
        name: "third failure: budget exhausted → Failed/ReachedMaxRestarts",
        do: (ctx) => ctx.failJob("rs-w-0"),
        finalizeDeleted: false,
        expect: {
          status: { restarts: 2, restartsCountTowardsMax: 2, terminalState: "Failed" },
          conditions: [
            {
              type: "Failed",
              status: "True",
              reason: "ReachedMaxRestarts",
              message: "jobset failed due to reaching max number of restarts (first failed job: rs-w-0)",
            },
            { type: "RestartingJobSet", status: "False", reason: "JobSetFailed", message: "jobset failed" },
          ],
          events: [
            {
              reason: "ReachedMaxRestarts",
              type: "Warning",
              message: "jobset failed due to reaching max number of restarts (first failed job: rs-w-0)",
            },
            { reason: "JobSetFailed", type: "Normal", message: "jobset failed" },
          ],
          jobs: jobsWhere((jobs) => deletingInForeground(byName(jobs, "rs-w-1"))),
        },
      },
    ],
  },
  {
    name: "6.2 maxRestarts 0 with a failure policy fails at the first failure",
    jobSet: jobSet("mr0").replicatedJob(rjob("w").replicas(1)).failurePolicy({ rules: [] }),
    steps: [
      { expect: { jobs: 1 } },
      {
        do: (ctx) => ctx.failJob("mr0-w-0"),
        expect: {
          status: { restarts: 0, terminalState: "Failed" },
          conditions: [
            {
              type: "Failed",
              status: "True",
              reason: "ReachedMaxRestarts",
              message: "jobset failed due to reaching max number of restarts (first failed job: mr0-w-0)",
            },
          ],
          absentConditions: ["RestartingJobSet"],
        },
      },
    ],
  },
  {
    name: "6.2 RestartJobSetAndIgnoreMaxRestarts counts restarts but not towards the max",
    jobSet: jobSet("ign")
      .replicatedJob(rjob("w").replicas(1))
      .failurePolicy({ maxRestarts: 0, rules: [{ name: "always", action: "RestartJobSetAndIgnoreMaxRestarts" }] }),
    finalizeDeleted: true,
    steps: [
      { expect: { jobs: 1 } },
      {
        do: (ctx) => ctx.failJob("ign-w-0"),
        expect: {
          status: { restarts: 1, restartsCountTowardsMax: null },
          conditions: [
            {
              type: "RestartingJobSet",
              status: "True",
              reason: "FailurePolicy_always",
              message: restartMessage("RestartJobSetAndIgnoreMaxRestarts", "ign-w-0"),
            },
          ],
          events: [
            {
              reason: "FailurePolicy_always",
              type: "Warning",
              message: restartMessage("RestartJobSetAndIgnoreMaxRestarts", "ign-w-0"),
            },
            {
              reason: "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction",
              type: "Warning",
              message: restartMessage("RestartJobSetAndIgnoreMaxRestarts", "ign-w-0"),
            },
          ],
          jobs: allAtAttempt(1, 1),
        },
      },
      {
        do: (ctx) => ctx.failJob("ign-w-0"),
        expect: { status: { restarts: 2, restartsCountTowardsMax: null }, jobs: allAtAttempt(2, 1) },
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------------- matching

function matchScenario(
  name: string,
  short: string,
  policy: FailurePolicy,
  first: { job: string; reason?: string; message?: string },
  second: { job: string; reason?: string; message?: string; failedWith: string },
  rjobs: [string, number][] = [["w", 1]],
): Scenario {
  let b = jobSet(short);
  for (const [r, n] of rjobs) b = b.replicatedJob(rjob(r).replicas(n));
  return {
    name,
    jobSet: b.failurePolicy(policy),
    finalizeDeleted: true,
    steps: [
      { expect: { jobs: rjobs.reduce((s, [, n]) => s + n, 0) } },
      {
        name: "not matching → default RestartJobSet",
        do: (ctx) => ctx.failJob(`${short}-${first.job}`, first.reason, first.message),
        expect: {
          status: { restarts: 1 },
          conditions: [
            {
              type: "RestartingJobSet",
              status: "True",
              reason: "DefaultFailurePolicy",
              message: restartMessage("RestartJobSet", `${short}-${first.job}`),
            },
          ],
          jobs: allAtAttempt(
            1,
            rjobs.reduce((s, [, n]) => s + n, 0),
          ),
        },
      },
      {
        name: "matching → the rule's action",
        do: (ctx) => ctx.failJob(`${short}-${second.job}`, second.reason, second.message),
        finalizeDeleted: false,
        expect: {
          status: { restarts: 1, terminalState: "Failed" },
          conditions: [{ type: "Failed", status: "True", reason: second.failedWith }],
        },
      },
    ],
  };
}

const matchingScenarios: Scenario[] = [
  matchScenario(
    "6.2 rule matching by onJobFailureReasons",
    "rsn",
    { maxRestarts: 1, rules: [{ name: "deadline", action: "FailJobSet", onJobFailureReasons: ["DeadlineExceeded"] }] },
    { job: "w-0", reason: "BackoffLimitExceeded" },
    {
      job: "w-0",
      reason: "DeadlineExceeded",
      message: "Job was active longer than specified deadline",
      failedWith: "FailJobSetFailurePolicyAction",
    },
  ),
  matchScenario(
    "6.2 rule matching by onJobFailureMessagePatterns (RE2 search)",
    "pat",
    {
      maxRestarts: 1,
      rules: [{ name: "oom", action: "FailJobSet", onJobFailureMessagePatterns: ["^never$", "OOM[A-Z][a-z]+"] }],
    },
    { job: "w-0", message: "pod crashed" },
    { job: "w-0", message: "container main was OOMKilled (exit 137)", failedWith: "FailJobSetFailurePolicyAction" },
  ),
  matchScenario(
    "6.2 rule matching by targetReplicatedJobs",
    "tgt",
    { maxRestarts: 1, rules: [{ name: "leader", action: "FailJobSet", targetReplicatedJobs: ["leader"] }] },
    { job: "workers-1" },
    { job: "leader-0", failedWith: "FailJobSetFailurePolicyAction" },
    [
      ["leader", 1],
      ["workers", 2],
    ],
  ),
  matchScenario(
    "6.2 all rule fields must match (reasons AND patterns AND targets)",
    "and",
    {
      maxRestarts: 1,
      rules: [
        {
          name: "all",
          action: "FailJobSet",
          onJobFailureReasons: ["PodFailurePolicy"],
          onJobFailureMessagePatterns: ["exit code 42"],
          targetReplicatedJobs: ["w"],
        },
      ],
    },
    { job: "w-0", reason: "PodFailurePolicy", message: "exit code 1" },
    {
      job: "w-0",
      reason: "PodFailurePolicy",
      message: "container failed with exit code 42",
      failedWith: "FailJobSetFailurePolicyAction",
    },
  ),
  {
    name: "6.2 the first matching rule wins, with the earliest Job it matches",
    jobSet: jobSet("fm")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(2))
      .failurePolicy({
        maxRestarts: 1,
        rules: [
          { name: "first", action: "RestartJobSet", targetReplicatedJobs: ["b"] },
          { name: "second", action: "FailJobSet" },
        ],
      }),
    steps: [
      { expect: { jobs: 3 } },
      {
        do: (ctx) =>
          whileBlocked(ctx, async () => {
            await ctx.failJob("fm-a-0", undefined, undefined, secondsAgo(90));
            await ctx.failJob("fm-b-1", undefined, undefined, secondsAgo(30));
            await ctx.failJob("fm-b-0", undefined, undefined, secondsAgo(10));
          }),
        expect: {
          status: { restarts: 1, restartsCountTowardsMax: 1 },
          absentConditions: ["Failed"],
          conditions: [
            {
              type: "RestartingJobSet",
              status: "True",
              reason: "FailurePolicy_first",
              message: restartMessage("RestartJobSet", "fm-b-1"),
            },
          ],
          events: [
            { reason: "FailurePolicy_first", type: "Warning", message: restartMessage("RestartJobSet", "fm-b-1") },
            {
              reason: "RestartJobSetFailurePolicyAction",
              type: "Warning",
              message: restartMessage("RestartJobSet", "fm-b-1"),
            },
          ],
        },
      },
    ],
  },
  {
    name: "6.2 no rule matches: RestartJobSet with the first failed Job",
    jobSet: jobSet("nm")
      .replicatedJob(rjob("w").replicas(2))
      .failurePolicy({ maxRestarts: 1, rules: [{ name: "never", action: "FailJobSet", targetReplicatedJobs: ["x"] }] }),
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) =>
          whileBlocked(ctx, async () => {
            await ctx.failJob("nm-w-0", undefined, undefined, secondsAgo(5));
            await ctx.failJob("nm-w-1", undefined, undefined, secondsAgo(50));
          }),
        expect: {
          status: { restarts: 1 },
          conditions: [
            {
              type: "RestartingJobSet",
              status: "True",
              reason: "DefaultFailurePolicy",
              message: restartMessage("RestartJobSet", "nm-w-1"),
            },
          ],
        },
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------------- §5.5/§5.11

function transitionTimeScenario(): Scenario {
  let firstTime = "";
  const restarting = async (ctx: ScenarioContext) =>
    (await ctx.jobSet()).status?.conditions?.find((c) => c.type === "RestartingJobSet");
  return {
    name: "5.5 RestartingJobSet keeps lastTransitionTime when only reason and message change",
    jobSet: jobSet("ltt")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1))
      .failurePolicy({ maxRestarts: 3, rules: [{ name: "r1", action: "RestartJobSet", targetReplicatedJobs: ["a"] }] }),
    finalizeDeleted: true,
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.failJob("ltt-a-0"),
        expect: {
          conditions: [
            {
              type: "RestartingJobSet",
              status: "True",
              reason: "FailurePolicy_r1",
              message: restartMessage("RestartJobSet", "ltt-a-0"),
            },
          ],
          jobs: allAtAttempt(1, 2),
        },
      },
      {
        name: "a later failure matched by no rule",
        do: async (ctx) => {
          firstTime = (await restarting(ctx))?.lastTransitionTime ?? "";
          await clockPast(firstTime, 1100);
          await ctx.failJob("ltt-b-0");
        },
        expect: {
          status: { restarts: 2 },
          conditions: [
            {
              type: "RestartingJobSet",
              status: "True",
              reason: "DefaultFailurePolicy",
              message: restartMessage("RestartJobSet", "ltt-b-0"),
            },
          ],
          events: [
            { reason: "FailurePolicy_r1", type: "Warning" },
            { reason: "DefaultFailurePolicy", type: "Warning" },
          ],
          check: async (ctx) => {
            const t = (await restarting(ctx))?.lastTransitionTime;
            return t === firstTime ? undefined : `lastTransitionTime ${t}, want ${firstTime} kept`;
          },
          jobs: allAtAttempt(2, 2),
        },
      },
      {
        name: "status change True → False moves lastTransitionTime",
        do: (ctx) => ctx.readyJobs(),
        expect: {
          conditions: [{ type: "RestartingJobSet", status: "False", reason: "JobsReady" }],
          check: async (ctx) => {
            const t = (await restarting(ctx))?.lastTransitionTime ?? "";
            return Date.parse(t) > Date.parse(firstTime) ? undefined : `lastTransitionTime ${t} not after ${firstTime}`;
          },
        },
      },
      {
        name: "completion: RestartingJobSet False/JobSetCompleted",
        do: (ctx) => ctx.completeJobs(),
        expect: {
          status: { terminalState: "Completed" },
          conditions: [
            { type: "Completed", status: "True", reason: "AllJobsCompleted" },
            {
              type: "RestartingJobSet",
              status: "False",
              reason: "JobSetCompleted",
              message: "jobset completed successfully",
            },
          ],
          events: [{ reason: "JobSetCompleted", type: "Normal", message: "jobset completed successfully" }],
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------- §6.3

function strategyScenario(strategy: "Recreate" | "BlockingRecreate"): Scenario {
  const n = strategy === "Recreate" ? "rcr" : "blk";
  const blocking = strategy === "BlockingRecreate";
  return {
    name: `6.3 ${strategy}: ${blocking ? "no Job is created while any old-attempt Job exists" : "each Job is re-created as soon as its name is free"}`,
    jobSet: jobSet(n)
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1))
      .failurePolicy({ maxRestarts: 1, restartStrategy: strategy }),
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.failJob(`${n}-a-0`),
        expect: {
          status: { restarts: 1 },
          jobs: jobsWhere((jobs) => jobs.length === 2 && jobs.every((j) => deletingInForeground(j))),
        },
      },
      {
        name: "only a-0's deletion finishes",
        do: (ctx) => ctx.finalizeJob(`${n}-a-0`),
        ...(blocking
          ? { settle: true, expect: { jobNames: [], jobs: jobsWhere((jobs) => jobs.length === 1) } }
          : {
              expect: {
                jobNames: [`${n}-a-0`],
                jobs: jobsWhere(
                  (jobs) =>
                    label(byName(jobs, `${n}-a-0`) as Job, Labels.RestartAttempt) === "1" &&
                    deletingInForeground(byName(jobs, `${n}-b-0`)),
                ),
              },
            }),
      },
      {
        name: "b-0's deletion finishes",
        do: (ctx) => ctx.finalizeJob(`${n}-b-0`),
        expect: { jobNames: [`${n}-a-0`, `${n}-b-0`], jobs: allAtAttempt(1, 2) },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------- §6.4

const perJobScenarios: Scenario[] = [
  {
    name: "6.4 RestartJob re-creates only the failed Job, then the per-Job budget fails the JobSet",
    jobSet: jobSet("rj")
      .replicatedJob(rjob("w").replicas(2))
      .failurePolicy({ maxRestarts: 2, rules: [{ name: "per-job", action: "RestartJob" }] }),
    gates: { RestartJob: true },
    steps: [
      {
        expect: {
          jobs: jobsWhere((jobs) => jobs.length === 2 && jobs.every((j) => label(j, Labels.JobRestartAttempt) === "0")),
        },
      },
      {
        name: "w-1 fails → jobRestarts[1]++, only w-1 deleted",
        do: (ctx) => ctx.failJob("rj-w-1"),
        expect: {
          status: {
            restarts: 0,
            replicatedJobsStatus: [{ name: "w", jobRestarts: [0, 1], jobRestartsCountTowardsMax: [0, 1] }],
          },
          absentConditions: ["RestartingJobSet", "Failed"],
          events: [
            {
              reason: "RestartJobFailurePolicyAction",
              type: "Warning",
              message: restartMessage("RestartJob", "rj-w-1"),
            },
          ],
          jobs: jobsWhere(
            (jobs) =>
              deletingInForeground(byName(jobs, "rj-w-1")) &&
              byName(jobs, "rj-w-0")?.metadata?.deletionTimestamp === undefined,
          ),
        },
      },
      {
        name: "w-1 re-created with job-restart-attempt 1",
        do: (ctx) => ctx.finalizeJob("rj-w-1"),
        expect: {
          jobNames: ["rj-w-0", "rj-w-1"],
          jobs: jobsWhere((jobs) => {
            const w0 = byName(jobs, "rj-w-0");
            const w1 = byName(jobs, "rj-w-1");
            return (
              w0 !== undefined &&
              w1 !== undefined &&
              !w1.metadata?.deletionTimestamp &&
              label(w1, Labels.JobRestartAttempt) === "1" &&
              label(w1, Labels.RestartAttempt) === "0" &&
              w1.metadata?.annotations?.[Labels.JobRestartAttempt] === "1" &&
              w1.spec?.template.metadata?.labels?.[Labels.JobRestartAttempt] === "1" &&
              label(w0, Labels.JobRestartAttempt) === "0"
            );
          }),
        },
      },
      {
        name: "w-0 fails → total counted restarts 2",
        do: (ctx) => ctx.failJob("rj-w-0"),
        finalizeDeleted: true,
        expect: {
          status: { replicatedJobsStatus: [{ name: "w", jobRestarts: [1, 1], jobRestartsCountTowardsMax: [1, 1] }] },
          jobs: jobsWhere(
            (jobs) =>
              jobs.length === 2 &&
              jobs.every((j) => !j.metadata?.deletionTimestamp && label(j, Labels.JobRestartAttempt) === "1"),
          ),
        },
      },
      {
        name: "budget exhausted → ReachedMaxRestarts",
        do: (ctx) => ctx.failJob("rj-w-1"),
        expect: {
          status: { terminalState: "Failed", replicatedJobsStatus: [{ name: "w", jobRestarts: [1, 1] }] },
          conditions: [
            {
              type: "Failed",
              status: "True",
              reason: "ReachedMaxRestarts",
              message: "jobset failed due to reaching max number of restarts (first failed job: rj-w-1)",
            },
          ],
        },
      },
    ],
  },
  {
    name: "6.4 RestartJobAndIgnoreMaxRestarts does not count towards the max",
    jobSet: jobSet("rji")
      .replicatedJob(rjob("w").replicas(2))
      .failurePolicy({ maxRestarts: 0, rules: [{ name: "per-job", action: "RestartJobAndIgnoreMaxRestarts" }] }),
    gates: { RestartJob: true },
    finalizeDeleted: true,
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.failJob("rji-w-0"),
        expect: {
          status: { restarts: 0, replicatedJobsStatus: [{ name: "w", jobRestarts: [1, 0] }] },
          absentConditions: ["RestartingJobSet", "Failed"],
          events: [
            {
              reason: "RestartJobAndIgnoreMaxRestartsFailurePolicyAction",
              type: "Warning",
              message: restartMessage("RestartJobAndIgnoreMaxRestarts", "rji-w-0"),
            },
          ],
          check: async (ctx) => {
            const e = (await ctx.jobSet()).status?.replicatedJobsStatus?.find((s) => s.name === "w");
            const counted = (e?.jobRestartsCountTowardsMax ?? []).reduce((a, b) => a + b, 0);
            return counted === 0
              ? undefined
              : `jobRestartsCountTowardsMax ${JSON.stringify(e?.jobRestartsCountTowardsMax)}`;
          },
          jobs: jobsWhere((jobs) => {
            const w0 = byName(jobs, "rji-w-0");
            return jobs.length === 2 && w0 !== undefined && label(w0, Labels.JobRestartAttempt) === "1";
          }),
        },
      },
      {
        do: (ctx) => ctx.failJob("rji-w-0"),
        expect: {
          status: { replicatedJobsStatus: [{ name: "w", jobRestarts: [2, 0] }] },
          absentConditions: ["Failed"],
          jobs: jobsWhere((jobs) => label(byName(jobs, "rji-w-0") as Job, Labels.JobRestartAttempt) === "2"),
        },
      },
    ],
  },
  {
    name: "6.4 per-Job and global restarts: counters are never reset",
    jobSet: jobSet("mix")
      .replicatedJob(rjob("w").replicas(2))
      .failurePolicy({
        maxRestarts: 5,
        rules: [{ name: "retry", action: "RestartJob", onJobFailureMessagePatterns: ["retryable"] }],
      }),
    gates: { RestartJob: true },
    finalizeDeleted: true,
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.failJob("mix-w-1", "BackoffLimitExceeded", "a retryable error"),
        expect: {
          status: { restarts: 0, replicatedJobsStatus: [{ name: "w", jobRestarts: [0, 1] }] },
          jobs: jobsWhere(
            (jobs) => jobs.length === 2 && label(byName(jobs, "mix-w-1") as Job, Labels.JobRestartAttempt) === "1",
          ),
        },
      },
      {
        name: "a fatal error → global restart; new Jobs keep their per-Job attempt",
        do: (ctx) => ctx.failJob("mix-w-0", "BackoffLimitExceeded", "fatal"),
        expect: {
          status: {
            restarts: 1,
            restartsCountTowardsMax: 1,
            replicatedJobsStatus: [{ name: "w", jobRestarts: [0, 1], jobRestartsCountTowardsMax: [0, 1] }],
          },
          conditions: [{ type: "RestartingJobSet", status: "True", reason: "DefaultFailurePolicy" }],
          jobs: jobsWhere((jobs) => {
            const w0 = byName(jobs, "mix-w-0");
            const w1 = byName(jobs, "mix-w-1");
            return (
              jobs.length === 2 &&
              attempts(jobs).every((a) => a === "1") &&
              jobs.every((j) => !j.metadata?.deletionTimestamp) &&
              w0 !== undefined &&
              w1 !== undefined &&
              label(w0, Labels.JobRestartAttempt) === "0" &&
              label(w1, Labels.JobRestartAttempt) === "1"
            );
          }),
        },
      },
    ],
  },
  {
    name: "6.4 RestartJob with the gate off is a reconcile error; jobRestarts are dropped",
    jobSet: jobSet("off")
      .replicatedJob(rjob("w").replicas(1))
      .failurePolicy({ maxRestarts: 3, rules: [{ name: "per-job", action: "RestartJob" }] }),
    steps: [
      {
        name: "a persisted jobRestarts disappears on the next status write",
        do: (ctx) =>
          ctx.updateJobSetStatus((js) => {
            js.status = {
              ...js.status,
              restarts: js.status?.restarts ?? 0,
              replicatedJobsStatus: [
                { name: "w", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0, jobRestarts: [2] },
              ],
            };
          }),
        expect: { jobs: 1 },
      },
      {
        do: (ctx) => ctx.readyJob("off-w-0"),
        expect: { status: { replicatedJobsStatus: [{ name: "w", ready: 1, jobRestarts: null }] } },
      },
      {
        do: (ctx) => ctx.failJob("off-w-0"),
        expect: {
          reconcileError:
            "RestartJob failure policy action cannot be used when the feature gate RestartJob is disabled",
        },
      },
      {
        settle: true,
        expect: {
          absentConditions: ["Failed", "RestartingJobSet"],
          jobs: jobsWhere((jobs) => jobs.length === 1 && !jobs[0]?.metadata?.deletionTimestamp),
          status: { restarts: 0, replicatedJobsStatus: [{ name: "w", ready: 1, failed: 0 }] },
        },
      },
    ],
  },
];

runScenarios("failure policy actions (§6.2, §5.9, §5.11)", actionScenarios);
runScenarios("failure policy rule matching (§6.2)", matchingScenarios);
runScenarios("conditions (§5.5, §5.11)", [transitionTimeScenario()]);
runScenarios("restart strategies (§6.3)", [strategyScenario("Recreate"), strategyScenario("BlockingRecreate")]);
runScenarios("per-Job restarts, gate RestartJob (§6.4)", perJobScenarios);
