// Success-policy scenarios against the real API server (§6.1): operator All and Any, with and without
// targetReplicatedJobs, the side effects of completing (§5.10: terminal state, RestartingJobSet,
// remaining Jobs deleted) and the failure policy taking precedence in the same reconcile.
import { jobSet, rjob } from "../builders.ts";
import { deletingInForeground, jobsWhere, runScenarios, type Scenario, whileBlocked } from "./scenario.ts";

const completed = {
  status: { terminalState: "Completed" },
  conditions: [
    {
      type: "Completed" as const,
      status: "True" as const,
      reason: "AllJobsCompleted",
      message: "jobset completed successfully",
    },
  ],
  events: [{ reason: "AllJobsCompleted", type: "Normal" as const, message: "jobset completed successfully" }],
};

const scenarios: Scenario[] = [
  {
    name: "6.1 All (no targets): every Job must succeed",
    jobSet: jobSet("all").replicatedJob(rjob("a").replicas(1)).replicatedJob(rjob("b").replicas(2)),
    steps: [
      { expect: { jobs: 3 } },
      {
        do: async (ctx) => {
          await ctx.completeJob("all-a-0");
          await ctx.completeJob("all-b-0");
        },
        settle: true,
        expect: {
          absentConditions: ["Completed", "Failed"],
          status: { terminalState: null, replicatedJobsStatus: [{ name: "b", succeeded: 1 }] },
        },
      },
      {
        do: (ctx) => ctx.completeJob("all-b-1"),
        expect: { ...completed, absentConditions: ["RestartingJobSet", "Suspended", "Failed"] },
      },
    ],
  },
  {
    name: "6.1 Any (no targets): the first succeeded Job completes the JobSet",
    jobSet: jobSet("any").replicatedJob(rjob("w").replicas(3)).successPolicy({ operator: "Any" }),
    steps: [
      { expect: { jobs: 3 } },
      {
        do: (ctx) => ctx.completeJob("any-w-1"),
        expect: {
          ...completed,
          jobs: jobsWhere((jobs) =>
            ["any-w-0", "any-w-2"].every((n) => deletingInForeground(jobs.find((j) => j.metadata?.name === n))),
          ),
        },
      },
    ],
  },
  {
    name: "6.1 Any with targets: only a targeted Job counts",
    jobSet: jobSet("anyt")
      .replicatedJob(rjob("leader").replicas(1))
      .replicatedJob(rjob("workers").replicas(2))
      .successPolicy({ operator: "Any", targetReplicatedJobs: ["workers"] }),
    steps: [
      { expect: { jobs: 3 } },
      { do: (ctx) => ctx.completeJob("anyt-leader-0"), settle: true, expect: { absentConditions: ["Completed"] } },
      { do: (ctx) => ctx.completeJob("anyt-workers-1"), expect: completed },
    ],
  },
  {
    name: "6.1 All with targets: every targeted Job, the others are deleted",
    jobSet: jobSet("allt")
      .replicatedJob(rjob("leader").replicas(1))
      .replicatedJob(rjob("workers").replicas(2))
      .successPolicy({ operator: "All", targetReplicatedJobs: ["workers"] }),
    steps: [
      { expect: { jobs: 3 } },
      { do: (ctx) => ctx.completeJob("allt-workers-0"), settle: true, expect: { absentConditions: ["Completed"] } },
      {
        do: (ctx) => ctx.completeJob("allt-workers-1"),
        expect: {
          ...completed,
          jobs: jobsWhere((jobs) => deletingInForeground(jobs.find((j) => j.metadata?.name === "allt-leader-0"))),
        },
      },
    ],
  },
  {
    name: "6.1 a failure seen with a success is handled by the failure policy first",
    jobSet: jobSet("fsf").replicatedJob(rjob("w").replicas(2)).successPolicy({ operator: "Any" }),
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) =>
          whileBlocked(ctx, async () => {
            await ctx.completeJob("fsf-w-0");
            await ctx.failJob("fsf-w-1");
          }),
        expect: {
          status: { terminalState: "Failed", replicatedJobsStatus: [{ name: "w", succeeded: 1, failed: 1 }] },
          conditions: [{ type: "Failed", status: "True", reason: "FailedJobs" }],
          absentConditions: ["Completed"],
        },
      },
    ],
  },
];

runScenarios("success policy (§6.1)", scenarios);
