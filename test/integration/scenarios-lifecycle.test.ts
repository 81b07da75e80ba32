// Reconcile-loop scenarios (spec §5.2–§5.10) against the real API server: the order of the steps
// (deleting JobSet, finished JobSet, previous attempt before new Jobs), classification of child Jobs
// (§5.3, with and without the RestartJob gate), replicatedJobsStatus counts (§5.4), the status write
// and its events (§5.6, checked on every scenario by the trace invariants), deletion semantics (§5.7),
// Job creation (§5.8) and terminal state (§5.10).
import { Labels } from "../../src/api/constants.ts";
import type { Job } from "../../src/api/k8s.ts";
import { rfc3339 } from "../../src/api/time.ts";
import { controllerRef } from "../../src/controller/owner.ts";
import { job, jobSet, rjob } from "../builders.ts";
import {
  deletingInForeground,
  jobsWhere,
  label,
  runScenarios,
  type Scenario,
  type ScenarioContext,
} from "./scenario.ts";

/** A Job controlled by the scenario's JobSet, with exactly `labels` (e.g. missing managed labels). */
async function ownedJob(ctx: ScenarioContext, name: string, labels: Record<string, string>): Promise<Job> {
  const js = await ctx.jobSet();
  const j = job(name).labels(labels).obj();
  j.metadata = { ...j.metadata, ownerReferences: [controllerRef(js)] };
  if (j.spec?.template.spec) j.spec.template.spec.restartPolicy = "Never";
  return ctx.createJob(j);
}

const byName = (jobs: Job[], name: string) => jobs.find((j) => j.metadata?.name === name);

// ---------------------------------------------------------------------------------------------- §5.2

function deletingJobSetScenario(): Scenario {
  let writesBefore = -1;
  return {
    name: "5.2 a JobSet being deleted gets no status writes",
    jobSet: (() => {
      const b = jobSet("del").replicatedJob(rjob("w").replicas(1)).obj();
      b.metadata = { ...b.metadata, finalizers: ["jobset-ts.test/hold"] };
      return b;
    })(),
    steps: [
      { expect: { jobs: 1, status: { replicatedJobsStatus: [{ name: "w", ready: 0 }] } } },
      {
        name: "delete (held by a finalizer), then a Job becomes ready",
        do: async (ctx) => {
          await ctx.settled();
          writesBefore = ctx.trace.statusWrites();
          await ctx.client.delete(`/apis/jobset.x-k8s.io/v1alpha2/namespaces/${ctx.namespace}/jobsets/del`);
          await ctx.readyJob("del-w-0");
        },
        settle: true,
        expect: {
          deleted: true,
          status: { replicatedJobsStatus: [{ name: "w", ready: 0, active: 0 }] },
          check: async (ctx) =>
            ctx.trace.statusWrites() === writesBefore
              ? undefined
              : `status writes after deletion: ${ctx.trace.statusWrites() - writesBefore}`,
        },
      },
      {
        name: "release the finalizer",
        do: (ctx) =>
          ctx.updateJobSet((js) => {
            js.metadata = { ...js.metadata, finalizers: [] };
          }),
        expect: {
          check: async (ctx) => ((await ctx.jobSetIfExists()) ? "JobSet still there" : undefined),
        },
      },
    ],
  };
}

const orderScenarios: Scenario[] = [
  {
    name: "5.2 a finished JobSet deletes its active Jobs in the foreground",
    jobSet: jobSet("fin")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(2))
      .successPolicy({ operator: "All", targetReplicatedJobs: ["a"] }),
    steps: [
      { expect: { jobs: 3 } },
      {
        do: (ctx) => ctx.completeJob("fin-a-0"),
        expect: {
          status: { terminalState: "Completed" },
          conditions: [
            { type: "Completed", status: "True", reason: "AllJobsCompleted", message: "jobset completed successfully" },
          ],
          absentConditions: ["RestartingJobSet", "Failed"],
          events: [{ reason: "AllJobsCompleted", type: "Normal", message: "jobset completed successfully" }],
          jobs: jobsWhere(
            (jobs) =>
              jobs.length === 3 &&
              deletingInForeground(byName(jobs, "fin-b-0")) &&
              deletingInForeground(byName(jobs, "fin-b-1")) &&
              byName(jobs, "fin-a-0")?.metadata?.deletionTimestamp === undefined,
          ),
        },
      },
      {
        name: "counts stay fresh after finishing; the succeeded Job is kept",
        do: (ctx) => ctx.finalizeDeleted(),
        expect: {
          jobNames: ["fin-a-0"],
          status: {
            terminalState: "Completed",
            replicatedJobsStatus: [
              { name: "a", succeeded: 1, active: 0 },
              { name: "b", succeeded: 0, active: 0, ready: 0 },
            ],
          },
        },
      },
    ],
  },
  {
    name: "5.2 previous-attempt Jobs are deleted (Foreground) before new ones are created",
    jobSet: jobSet("prev").replicatedJob(rjob("w").replicas(2)).failurePolicy({ maxRestarts: 1 }),
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.failJob("prev-w-0"),
        expect: {
          status: { restarts: 1, restartsCountTowardsMax: 1 },
          jobs: jobsWhere(
            (jobs) =>
              jobs.length === 2 &&
              jobs.every((j) => label(j, Labels.RestartAttempt) === "0" && deletingInForeground(j)),
          ),
        },
      },
      {
        name: "no new attempt while the old Jobs still exist; deleting Jobs are not deleted again",
        settle: true,
        expect: {
          jobs: jobsWhere((jobs) => jobs.length === 2 && jobs.every((j) => label(j, Labels.RestartAttempt) === "0")),
          check: async (ctx) => {
            const deletes = ctx.trace.reconciles
              .flatMap((r) => r.requests)
              .filter((q) => q.method === "DELETE" && /\/jobs\/prev-w-[01]$/.test(q.path));
            return deletes.length === 2 ? undefined : `${deletes.length} Job DELETEs, want 2`;
          },
        },
      },
      {
        name: "the garbage collector finishes the deletions → new attempt",
        do: (ctx) => ctx.finalizeDeleted(),
        expect: {
          jobNames: ["prev-w-0", "prev-w-1"],
          jobs: jobsWhere((jobs) => jobs.length === 2 && jobs.every((j) => label(j, Labels.RestartAttempt) === "1")),
          status: { replicatedJobsStatus: [{ name: "w", failed: 0, active: 0 }] },
        },
      },
    ],
  },
  deletingJobSetScenario(),
];

// ---------------------------------------------------------------------------------------------- §5.3

const classificationScenarios: Scenario[] = [
  {
    name: "5.3 an owned Job without a restart-attempt label blocks the reconcile",
    jobSet: jobSet("blk").replicatedJob(rjob("w").replicas(1)),
    steps: [
      { expect: { jobs: 1, status: { replicatedJobsStatus: [{ name: "w", ready: 0 }] } } },
      {
        do: async (ctx) => {
          await ownedJob(ctx, "blk-extra", { [Labels.ReplicatedJobName]: "w" });
          await ctx.readyJob("blk-w-0");
        },
        expect: { reconcileError: 'strconv.Atoi: parsing "": invalid syntax' },
      },
      {
        name: "nothing is written and the Job is not deleted",
        settle: true,
        expect: {
          status: { replicatedJobsStatus: [{ name: "w", ready: 0 }] },
          jobNames: ["blk-extra", "blk-w-0"],
        },
      },
      {
        name: "an invalid value blocks too",
        do: (ctx) => ctx.relabelJob("blk-extra", { [Labels.RestartAttempt]: "one" }),
        expect: { reconcileError: 'strconv.Atoi: parsing "one": invalid syntax' },
      },
      {
        name: "a greater restart-attempt counts as the current attempt",
        do: async (ctx) => {
          await ctx.relabelJob("blk-extra", { [Labels.RestartAttempt]: "3" });
          await ctx.readyJob("blk-extra");
        },
        expect: { status: { restarts: 0, replicatedJobsStatus: [{ name: "w", ready: 2, active: 2 }] } },
      },
    ],
  },
  {
    name: "5.3 Jobs are found by owner UID: a re-created JobSet never adopts the old one's Jobs",
    jobSet: jobSet("reuse").replicatedJob(rjob("w").replicas(1)),
    steps: [
      { expect: { jobs: 1 } },
      {
        name: "delete the JobSet (no garbage collector: its Job stays) and create it again",
        do: async (ctx) => {
          await ctx.readyJob("reuse-w-0");
          await ctx.client.delete(`/apis/jobset.x-k8s.io/v1alpha2/namespaces/${ctx.namespace}/jobsets/reuse`, {
            propagationPolicy: "Background",
          });
          await ctx.create();
        },
        expect: {
          jobNames: [],
          events: [{ reason: "JobCreationFailed", type: "Warning" }],
          reconcileError: 'job "reuse-w-0" creation failed with error: jobs.batch "reuse-w-0" already exists',
        },
      },
      { settle: true, expect: { status: { replicatedJobsStatus: null } } },
      {
        name: "once the old Job is gone the new JobSet creates its own",
        do: (ctx) => ctx.deleteJob("reuse-w-0"),
        expect: { jobs: 1, status: { replicatedJobsStatus: [{ name: "w", ready: 0, active: 0 }] } },
      },
    ],
  },
  {
    name: "5.3 FailureTarget alone leaves a Job active",
    jobSet: jobSet("ft").replicatedJob(rjob("w").replicas(1)),
    steps: [
      { expect: { jobs: 1 } },
      {
        do: (ctx) =>
          updateJobStatus(ctx, "ft-w-0", (j) => {
            const t = rfc3339(Date.now());
            j.status = {
              ...j.status,
              startTime: t,
              active: 1,
              conditions: [
                {
                  type: "FailureTarget",
                  status: "True",
                  reason: "BackoffLimitExceeded",
                  message: "Job has reached the specified backoff limit",
                  lastTransitionTime: t,
                  lastProbeTime: t,
                },
              ],
            };
          }),
        settle: true,
        expect: {
          status: { replicatedJobsStatus: [{ name: "w", active: 1, failed: 0 }] },
          absentConditions: ["Failed"],
        },
      },
      {
        do: (ctx) => ctx.failJob("ft-w-0"),
        expect: {
          conditions: [{ type: "Failed", status: "True", reason: "FailedJobs" }],
          status: { terminalState: "Failed", replicatedJobsStatus: [{ name: "w", failed: 1, active: 0 }] },
        },
      },
    ],
  },
  {
    name: "5.3 RestartJob gate: label checks of current-attempt Jobs",
    jobSet: jobSet("gl").replicatedJob(rjob("w").replicas(1)),
    gates: { RestartJob: true },
    steps: [
      {
        expect: {
          jobs: jobsWhere((jobs) => jobs.length === 1 && label(jobs[0] as Job, Labels.JobRestartAttempt) === "0"),
        },
      },
      {
        name: "missing replicatedjob-name",
        do: (ctx) => ownedJob(ctx, "gl-extra", { [Labels.RestartAttempt]: "0" }),
        expect: { reconcileError: "missing label jobset.sigs.k8s.io/replicatedjob-name" },
      },
      {
        name: "missing job-index",
        do: (ctx) => ctx.relabelJob("gl-extra", { [Labels.ReplicatedJobName]: "w" }),
        expect: { reconcileError: "missing label jobset.sigs.k8s.io/job-index" },
      },
      {
        name: "job-index not an integer",
        do: (ctx) => ctx.relabelJob("gl-extra", { [Labels.JobIndex]: "x" }),
        expect: { reconcileError: 'strconv.Atoi: parsing "x": invalid syntax' },
      },
      {
        name: "job-index out of bounds",
        do: (ctx) => ctx.relabelJob("gl-extra", { [Labels.JobIndex]: "7" }),
        expect: { reconcileError: "job index 7 is out of bounds for replicated job w" },
      },
      {
        name: "job-restart-attempt not an integer",
        do: (ctx) => ctx.relabelJob("gl-extra", { [Labels.JobIndex]: "0", [Labels.JobRestartAttempt]: "z" }),
        expect: { reconcileError: 'strconv.Atoi: parsing "z": invalid syntax' },
      },
      {
        name: "missing job-restart-attempt: only logged, the Job is current",
        do: async (ctx) => {
          await ctx.relabelJob("gl-extra", { [Labels.JobRestartAttempt]: null });
          await ctx.readyJob("gl-extra");
        },
        expect: { status: { replicatedJobsStatus: [{ name: "w", ready: 1, active: 1 }] } },
      },
    ],
  },
];

async function updateJobStatus(ctx: ScenarioContext, name: string, mutate: (j: Job) => void): Promise<void> {
  const p = `/apis/batch/v1/namespaces/${ctx.namespace}/jobs/${name}`;
  const j = await ctx.client.get<Job>(p);
  mutate(j);
  await ctx.client.update(`${p}/status`, j);
}

// ---------------------------------------------------------------------------------------------- §5.4

const countScenarios: Scenario[] = [
  {
    name: "5.4 replicatedJobsStatus follows Job status (ready, active, succeeded, failed)",
    jobSet: jobSet("cnt")
      .replicatedJob(rjob("w").replicas(2).parallelism(2).completions(2))
      .replicatedJob(rjob("x").replicas(1).parallelism(3).completions(2)),
    steps: [
      {
        expect: {
          jobs: 3,
          status: {
            restarts: 0,
            replicatedJobsStatus: [
              { name: "w", ready: 0, active: 0, succeeded: 0, failed: 0, suspended: 0 },
              { name: "x", ready: 0, active: 0, succeeded: 0, failed: 0, suspended: 0 },
            ],
          },
          // stored in reverse-lexicographic name order (§5.4 ordering quirk)
          check: async (ctx) => {
            const names = (await ctx.jobSet()).status?.replicatedJobsStatus?.map((s) => s.name).join(",");
            return names === "x,w" ? undefined : `replicatedJobsStatus order ${names}`;
          },
        },
      },
      {
        name: "running but not all pods ready: active only",
        do: (ctx) => ctx.setJobActive("cnt-w-0", 2, 1),
        expect: { status: { replicatedJobsStatus: [{ name: "w", active: 1, ready: 0 }] } },
      },
      {
        name: "all pods ready: ready",
        do: (ctx) => ctx.setJobActive("cnt-w-0", 2, 2),
        expect: { status: { replicatedJobsStatus: [{ name: "w", active: 1, ready: 1 }] } },
      },
      {
        name: "pods count is parallelism lowered to completions (3 → 2)",
        do: (ctx) => ctx.setJobActive("cnt-x-0", 3, 2),
        expect: { status: { replicatedJobsStatus: [{ name: "x", active: 1, ready: 1 }] } },
      },
      {
        name: "succeeded",
        do: (ctx) => ctx.completeJob("cnt-w-1"),
        expect: { status: { replicatedJobsStatus: [{ name: "w", active: 1, ready: 1, succeeded: 1 }] } },
      },
      {
        name: "failed (no failure policy → Failed; counts stay fresh)",
        do: (ctx) => ctx.failJob("cnt-x-0"),
        expect: {
          status: {
            terminalState: "Failed",
            replicatedJobsStatus: [
              { name: "x", active: 0, ready: 0, failed: 1 },
              { name: "w", active: 1, ready: 1, succeeded: 1, failed: 0 },
            ],
          },
          conditions: [
            {
              type: "Failed",
              status: "True",
              reason: "FailedJobs",
              message: "jobset failed due to one or more job failures (first failed job: cnt-x-0)",
            },
          ],
          events: [
            {
              reason: "FailedJobs",
              type: "Warning",
              message: "jobset failed due to one or more job failures (first failed job: cnt-x-0)",
            },
          ],
          absentConditions: ["RestartingJobSet", "Completed"],
        },
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------------- §5.8

function recreateScenario(): Scenario {
  let oldUid = "";
  return {
    name: "5.8 a deleted current Job is re-created",
    jobSet: jobSet("rec").replicatedJob(rjob("w").replicas(2)),
    steps: [
      { expect: { jobs: 2 } },
      {
        do: async (ctx) => {
          oldUid = (await ctx.job("rec-w-0")).metadata?.uid ?? "";
          await ctx.deleteJob("rec-w-0", "Background");
        },
        expect: {
          jobs: jobsWhere((jobs) => {
            const j = byName(jobs, "rec-w-0");
            return (
              jobs.length === 2 &&
              j !== undefined &&
              j.metadata?.uid !== oldUid &&
              label(j, Labels.RestartAttempt) === "0" &&
              label(j, Labels.JobIndex) === "0"
            );
          }),
          status: { restarts: 0 },
        },
      },
    ],
  };
}

const creationScenarios: Scenario[] = [
  recreateScenario(),
  {
    name: "5.8 a foreign Job with a Job's name fails creation (JobCreationFailed)",
    jobSet: jobSet("fj").replicatedJob(rjob("w").replicas(2)),
    create: false,
    steps: [
      {
        do: async (ctx) => {
          const foreign = job("fj-w-0").obj();
          if (foreign.spec?.template.spec) foreign.spec.template.spec.restartPolicy = "Never";
          await ctx.createJob(foreign);
          await ctx.create();
        },
        expect: {
          events: [
            {
              reason: "JobCreationFailed",
              type: "Warning",
              message: 'job "fj-w-0" creation failed with error: jobs.batch "fj-w-0" already exists',
            },
          ],
          reconcileError: 'job "fj-w-0" creation failed with error: jobs.batch "fj-w-0" already exists',
          jobNames: ["fj-w-1"],
        },
      },
      {
        name: "the failed reconcile wrote no status; its retries aggregate into one event series",
        settle: true,
        expect: {
          status: { replicatedJobsStatus: null },
          check: async (ctx) => {
            const evs = (await ctx.events()).filter((e) => e.reason === "JobCreationFailed");
            return evs.length === 1 && (evs[0]?.series?.count ?? 0) >= 2
              ? undefined
              : `JobCreationFailed events: ${JSON.stringify(evs.map((e) => e.series))}`;
          },
        },
      },
      {
        name: "once the name is free the Job is created",
        do: (ctx) => ctx.deleteJob("fj-w-0"),
        expect: { jobNames: ["fj-w-0", "fj-w-1"], status: { replicatedJobsStatus: [{ name: "w", active: 0 }] } },
      },
    ],
  },
];

runScenarios("reconcile order (§5.2)", orderScenarios);
runScenarios("classification (§5.3)", classificationScenarios);
runScenarios("replicatedJobsStatus (§5.4)", countScenarios);
runScenarios("Job creation (§5.8)", creationScenarios);
