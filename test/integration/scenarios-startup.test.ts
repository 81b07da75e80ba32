// Startup ordering scenarios against the real API server: startup policy InOrder (§6.5, with its
// mutually exclusive conditions §5.5) and dependsOn Ready / Complete / several dependencies / a
// zero-replica dependency / after a global restart (§6.6).
import { Labels } from "../../src/api/constants.ts";
import { jobSet, rjob } from "../builders.ts";
import { jobsWhere, label, runScenarios, type Scenario, type ScenarioContext } from "./scenario.ts";

const condition = async (ctx: ScenarioContext, type: string) =>
  (await ctx.jobSet()).status?.conditions?.find((c) => c.type === type);

function inOrderScenario(): Scenario {
  let inProgressSince = "";
  return {
    name: "6.5 InOrder creates each replicated job once the previous one started",
    jobSet: jobSet("io")
      .replicatedJob(rjob("a").replicas(2))
      .replicatedJob(rjob("b").replicas(1))
      .replicatedJob(rjob("c").replicas(1))
      .startupPolicy("InOrder"),
    steps: [
      {
        expect: {
          jobNames: ["io-a-0", "io-a-1"],
          conditions: [
            {
              type: "StartupPolicyInProgress",
              status: "True",
              reason: "InOrderStartupPolicyInProgress",
              message: "in order startup policy is in progress",
            },
          ],
          absentConditions: ["StartupPolicyCompleted"],
          events: [
            {
              reason: "InOrderStartupPolicyInProgress",
              type: "Normal",
              message: "in order startup policy is in progress",
            },
          ],
        },
      },
      {
        name: "one of two Jobs ready: b waits",
        do: async (ctx) => {
          inProgressSince = (await condition(ctx, "StartupPolicyInProgress"))?.lastTransitionTime ?? "";
          await ctx.readyJob("io-a-0");
        },
        settle: true,
        expect: { jobNames: ["io-a-0", "io-a-1"], status: { replicatedJobsStatus: [{ name: "a", ready: 1 }] } },
      },
      {
        name: "a started → b created",
        do: (ctx) => ctx.readyJob("io-a-1"),
        expect: {
          jobNames: ["io-a-0", "io-a-1", "io-b-0"],
          conditions: [{ type: "StartupPolicyInProgress", status: "True" }],
          absentConditions: ["StartupPolicyCompleted"],
        },
      },
      {
        name: "a succeeded Job counts as started → c created",
        do: (ctx) => ctx.completeJob("io-b-0"),
        expect: { jobNames: ["io-a-0", "io-a-1", "io-b-0", "io-c-0"], absentConditions: ["Completed"] },
      },
      {
        name: "every rjob started → Completed=True flips InProgress to False only",
        do: (ctx) => ctx.readyJob("io-c-0"),
        expect: {
          conditions: [
            {
              type: "StartupPolicyCompleted",
              status: "True",
              reason: "InOrderStartupPolicyCompleted",
              message: "in order startup policy has completed",
            },
            {
              type: "StartupPolicyInProgress",
              status: "False",
              reason: "InOrderStartupPolicyInProgress",
              message: "in order startup policy is in progress",
            },
          ],
          events: [
            {
              reason: "InOrderStartupPolicyCompleted",
              type: "Normal",
              message: "in order startup policy has completed",
            },
          ],
          check: async (ctx) => {
            const t = (await condition(ctx, "StartupPolicyInProgress"))?.lastTransitionTime;
            return t === inProgressSince ? undefined : `InProgress lastTransitionTime ${t}, want ${inProgressSince}`;
          },
        },
      },
    ],
  };
}

const inOrderScenarios: Scenario[] = [
  inOrderScenario(),
  inOrderRestartScenario(),
  {
    name: "6.5 AnyOrder creates every Job at once without startup conditions",
    jobSet: jobSet("ao")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(2))
      .startupPolicy("AnyOrder"),
    steps: [
      { expect: { jobNames: ["ao-a-0", "ao-b-0", "ao-b-1"] } },
      { settle: true, expect: { absentConditions: ["StartupPolicyInProgress", "StartupPolicyCompleted"] } },
    ],
  },
];

function inOrderRestartScenario(): Scenario {
  return {
    name: "6.5 InOrder after a global restart: the order starts again, Completed flips to False",
    jobSet: jobSet("ior")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1))
      .startupPolicy("InOrder")
      .failurePolicy({ maxRestarts: 1 }),
    finalizeDeleted: true,
    steps: [
      { expect: { jobNames: ["ior-a-0"] } },
      { do: (ctx) => ctx.readyJob("ior-a-0"), expect: { jobNames: ["ior-a-0", "ior-b-0"] } },
      {
        do: (ctx) => ctx.readyJob("ior-b-0"),
        expect: {
          conditions: [
            { type: "StartupPolicyCompleted", status: "True" },
            { type: "StartupPolicyInProgress", status: "False" },
          ],
        },
      },
      {
        do: (ctx) => ctx.failJob("ior-b-0"),
        expect: {
          status: { restarts: 1 },
          jobNames: ["ior-a-0"],
          jobs: jobsWhere((jobs) => jobs.length === 1 && label(jobs[0] ?? {}, Labels.RestartAttempt) === "1"),
          conditions: [
            { type: "StartupPolicyInProgress", status: "True", reason: "InOrderStartupPolicyInProgress" },
            { type: "StartupPolicyCompleted", status: "False", reason: "InOrderStartupPolicyCompleted" },
          ],
        },
      },
      {
        do: (ctx) => ctx.readyJob("ior-a-0"),
        expect: {
          jobNames: ["ior-a-0", "ior-b-0"],
          jobs: jobsWhere((jobs) => jobs.every((j) => label(j, Labels.RestartAttempt) === "1")),
        },
      },
    ],
  };
}

const dependsOnScenarios: Scenario[] = [
  {
    name: "6.6 dependsOn Ready: created once every Job of the dependency is ready",
    jobSet: jobSet("dr")
      .replicatedJob(rjob("a").replicas(2))
      .replicatedJob(rjob("b").replicas(1).dependsOn("a", "Ready")),
    steps: [
      { expect: { jobNames: ["dr-a-0", "dr-a-1"] } },
      { do: (ctx) => ctx.readyJob("dr-a-0"), settle: true, expect: { jobNames: ["dr-a-0", "dr-a-1"] } },
      {
        do: (ctx) => ctx.readyJob("dr-a-1"),
        expect: {
          jobNames: ["dr-a-0", "dr-a-1", "dr-b-0"],
          absentConditions: ["StartupPolicyInProgress", "StartupPolicyCompleted"],
        },
      },
    ],
  },
  {
    name: "6.6 dependsOn Complete: ready is not enough",
    jobSet: jobSet("dc")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1).dependsOn("a", "Complete")),
    steps: [
      { expect: { jobNames: ["dc-a-0"] } },
      { do: (ctx) => ctx.readyJob("dc-a-0"), settle: true, expect: { jobNames: ["dc-a-0"] } },
      {
        do: (ctx) => ctx.completeJob("dc-a-0"),
        expect: { jobNames: ["dc-a-0", "dc-b-0"], absentConditions: ["Completed"] },
      },
      {
        do: (ctx) => ctx.completeJob("dc-b-0"),
        expect: { status: { terminalState: "Completed" }, conditions: [{ type: "Completed", status: "True" }] },
      },
    ],
  },
  {
    name: "6.6 several dependencies must all hold",
    jobSet: jobSet("dm")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1))
      .replicatedJob(rjob("c").replicas(1).dependsOn("a", "Ready").dependsOn("b", "Complete")),
    steps: [
      { expect: { jobNames: ["dm-a-0", "dm-b-0"] } },
      {
        name: "b complete, a not ready",
        do: (ctx) => ctx.completeJob("dm-b-0"),
        settle: true,
        expect: { jobNames: ["dm-a-0", "dm-b-0"] },
      },
      {
        name: "a ready too",
        do: (ctx) => ctx.readyJob("dm-a-0"),
        expect: { jobNames: ["dm-a-0", "dm-b-0", "dm-c-0"] },
      },
    ],
  },
  {
    name: "6.6 a dependency with zero replicas is satisfied at once",
    jobSet: jobSet("dz")
      .replicatedJob(rjob("a").replicas(0))
      .replicatedJob(rjob("b").replicas(1).dependsOn("a", "Complete")),
    steps: [{ expect: { jobNames: ["dz-b-0"], status: { replicatedJobsStatus: [{ name: "a", succeeded: 0 }] } } }],
  },
  {
    name: "6.6 after a global restart the chain starts again",
    jobSet: jobSet("dg")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1).dependsOn("a", "Ready"))
      .failurePolicy({ maxRestarts: 1 }),
    finalizeDeleted: true,
    steps: [
      { expect: { jobNames: ["dg-a-0"] } },
      { do: (ctx) => ctx.readyJob("dg-a-0"), expect: { jobNames: ["dg-a-0", "dg-b-0"] } },
      {
        do: (ctx) => ctx.failJob("dg-b-0"),
        expect: {
          status: { restarts: 1 },
          jobNames: ["dg-a-0"],
          jobs: jobsWhere((jobs) => jobs.length === 1 && label(jobs[0] ?? {}, Labels.RestartAttempt) === "1"),
        },
      },
      { settle: true, expect: { jobNames: ["dg-a-0"] } },
      {
        do: (ctx) => ctx.readyJob("dg-a-0"),
        expect: {
          jobNames: ["dg-a-0", "dg-b-0"],
          jobs: jobsWhere((jobs) => jobs.every((j) => label(j, Labels.RestartAttempt) === "1")),
        },
      },
    ],
  },
];

runScenarios("startup policy InOrder (§6.5)", inOrderScenarios);
runScenarios("dependsOn (§6.6)", dependsOnScenarios);
