// Suspend / resume scenarios against the real API server (§6.7): Jobs created suspended, running
// Jobs suspended, the Suspended and RestartingJobSet conditions, resume merging the pod template's
// labels, annotations, nodeSelector, tolerations and schedulingGates into the Jobs (never removing,
// nothing else propagated, startTime cleared first through the status subresource), the failure
// policy while suspended, and resume with InOrder (§6.5) and dependsOn (§6.6).
import { Labels } from "../../src/api/constants.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { jobSet, rjob } from "../builders.ts";
import { jobsWhere, runScenarios, type Scenario } from "./scenario.ts";

const suspendedJobs = (names: string[], suspended: boolean) =>
  jobsWhere((jobs) => {
    const live = jobs.filter((j) => !j.metadata?.deletionTimestamp);
    return (
      live.length === names.length &&
      names.every((n) => live.some((j) => j.metadata?.name === n && (j.spec?.suspend === true) === suspended))
    );
  });

const jobSuspended = (name: string, suspended: boolean) =>
  jobsWhere((jobs) => (jobs.find((j) => j.metadata?.name === name)?.spec?.suspend === true) === suspended);

const suspendedCondition = {
  type: "Suspended",
  status: "True" as const,
  reason: "SuspendedJobs",
  message: "jobset is suspended",
};
const resumedCondition = {
  type: "Suspended",
  status: "False" as const,
  reason: "ResumeJobs",
  message: "jobset is resumed",
};

const setSuspend = (s: boolean) => (js: JobSet) => {
  js.spec = { ...js.spec, suspend: s };
};

/** The resume merge of §6.7 as seen on one Job. */
function mergedTemplate(j: Job | undefined): string | undefined {
  if (!j) return "Job missing";
  const pod = j.spec?.template;
  const want: [string, unknown, unknown][] = [
    ["suspend", j.spec?.suspend, false],
    ["label keep (template wins)", pod?.metadata?.labels?.keep, "new"],
    ["label added", pod?.metadata?.labels?.added, "y"],
    ["label removed from the template stays", pod?.metadata?.labels?.old, "x"],
    ["managed label", pod?.metadata?.labels?.[Labels.JobSetName], "sr"],
    ["annotation added", pod?.metadata?.annotations?.ann, "v"],
    [
      "nodeSelector",
      JSON.stringify(Object.entries(pod?.spec?.nodeSelector ?? {}).sort()),
      '[["disk","ssd"],["zone","b"]]',
    ],
    ["tolerations", (pod?.spec?.tolerations ?? []).map((t) => t.key).join(","), "t1,t2"],
    ["schedulingGates", (pod?.spec?.schedulingGates ?? []).map((g) => g.name).join(","), "example.com/gate"],
    ["image not propagated", pod?.spec?.containers[0]?.image, "busybox"],
    ["Job-level label not propagated", j.metadata?.labels?.joblabel, undefined],
  ];
  const bad = want.filter(([, got, exp]) => got !== exp);
  return bad.length === 0
    ? undefined
    : `${j.metadata?.name}: ${bad.map(([what, got, exp]) => `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(exp)}`).join("; ")}`;
}

const scenarios: Scenario[] = [
  {
    name: "6.7 created suspended, then resumed with template changes merged into the Jobs",
    jobSet: jobSet("sr")
      .suspend(true)
      .replicatedJob(
        rjob("w")
          .replicas(2)
          .podLabels({ keep: "orig", old: "x" })
          .nodeSelector({ zone: "a" })
          .tolerations({ key: "t1", operator: "Exists" }),
      ),
    steps: [
      {
        expect: {
          jobs: suspendedJobs(["sr-w-0", "sr-w-1"], true),
          status: { replicatedJobsStatus: [{ name: "w", suspended: 2, active: 0, ready: 0 }] },
          conditions: [suspendedCondition],
          absentConditions: ["RestartingJobSet"],
          events: [{ reason: "SuspendedJobs", type: "Normal", message: "jobset is suspended" }],
        },
      },
      {
        name: "resume with a changed pod template",
        do: (ctx) =>
          ctx.updateJobSet((js) => {
            js.spec = { ...js.spec, suspend: false };
            const r = js.spec.replicatedJobs?.[0];
            const pod = r?.template.spec?.template;
            if (!r || !pod?.spec) throw new Error("no pod template");
            r.template.metadata = { ...r.template.metadata, labels: { joblabel: "z" } };
            pod.metadata = { labels: { keep: "new", added: "y" }, annotations: { ann: "v" } };
            pod.spec.nodeSelector = { zone: "b", disk: "ssd" };
            pod.spec.tolerations = [{ key: "t2", operator: "Exists", effect: "NoSchedule" }];
            pod.spec.schedulingGates = [{ name: "example.com/gate" }];
            const c = pod.spec.containers[0];
            if (c) c.image = "busybox:2";
          }),
        expect: {
          jobs: suspendedJobs(["sr-w-0", "sr-w-1"], false),
          conditions: [resumedCondition],
          events: [{ reason: "ResumeJobs", type: "Normal", message: "jobset is resumed" }],
          status: { replicatedJobsStatus: [{ name: "w", suspended: 0 }] },
          check: async (ctx) => {
            for (const j of await ctx.jobs()) {
              const m = mergedTemplate(j);
              if (m) return m;
            }
            return undefined;
          },
        },
      },
    ],
  },
  {
    name: "6.7 suspending a running JobSet, then resuming it clears startTime",
    jobSet: jobSet("sp").replicatedJob(rjob("w").replicas(2)).failurePolicy({ maxRestarts: 2 }),
    finalizeDeleted: true,
    steps: [
      { expect: { jobs: 2 } },
      {
        name: "a restart first, so that RestartingJobSet exists",
        do: (ctx) => ctx.failJob("sp-w-0"),
        expect: {
          conditions: [{ type: "RestartingJobSet", status: "True" }],
          jobs: jobsWhere(
            (jobs) => jobs.length === 2 && jobs.every((j) => j.metadata?.labels?.[Labels.RestartAttempt] === "1"),
          ),
        },
      },
      {
        name: "Jobs running (startTime set), then suspend",
        do: async (ctx) => {
          await ctx.setJobActive("sp-w-0", 1, 0);
          await ctx.setJobActive("sp-w-1", 1, 0);
          await ctx.updateJobSet(setSuspend(true));
        },
        expect: {
          jobs: suspendedJobs(["sp-w-0", "sp-w-1"], true),
          conditions: [
            suspendedCondition,
            { type: "RestartingJobSet", status: "False", reason: "JobSetSuspended", message: "jobset is suspended" },
          ],
          events: [{ reason: "JobSetSuspended", type: "Normal", message: "jobset is suspended" }],
          status: { replicatedJobsStatus: [{ name: "w", suspended: 2, active: 2 }] },
        },
      },
      {
        name: "resume with a new nodeSelector",
        do: async (ctx) => {
          // The Job controller's part of a suspension: pods gone (kube-apiserver ≥ 1.36 refuses pod
          // template changes of a Job with active pods). startTime stays: the resume must clear it.
          await ctx.setJobActive("sp-w-0", 0, 0);
          await ctx.setJobActive("sp-w-1", 0, 0);
          const started = (await ctx.job("sp-w-0")).status?.startTime;
          if (!started) throw new Error("startTime not set before resuming");
          await ctx.updateJobSet((js) => {
            js.spec = { ...js.spec, suspend: false };
            const pod = js.spec.replicatedJobs?.[0]?.template.spec?.template.spec;
            if (pod) pod.nodeSelector = { pool: "p2" };
          });
        },
        expect: {
          jobs: (jobs) =>
            jobs.length === 2 &&
            jobs.every(
              (j) =>
                j.spec?.suspend === false &&
                j.status?.startTime === undefined &&
                j.spec.template.spec?.nodeSelector?.pool === "p2",
            )
              ? true
              : JSON.stringify(
                  jobs.map((j) => [
                    j.metadata?.name,
                    j.spec?.suspend,
                    j.status?.startTime,
                    j.spec?.template.spec?.nodeSelector,
                  ]),
                ),
          conditions: [resumedCondition],
          status: { replicatedJobsStatus: [{ name: "w", suspended: 0 }] },
        },
      },
    ],
  },
  {
    name: "6.7 the failure policy still runs while suspended",
    jobSet: jobSet("sf").suspend(true).replicatedJob(rjob("w").replicas(1)),
    steps: [
      { expect: { jobs: suspendedJobs(["sf-w-0"], true), conditions: [suspendedCondition] } },
      {
        do: (ctx) => ctx.failJob("sf-w-0"),
        expect: {
          status: { terminalState: "Failed" },
          conditions: [{ type: "Failed", status: "True", reason: "FailedJobs" }, suspendedCondition],
        },
      },
    ],
  },
  {
    name: "6.5 InOrder while suspended: all Jobs at once; resume goes replicated job by replicated job",
    jobSet: jobSet("is")
      .suspend(true)
      .startupPolicy("InOrder")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1)),
    steps: [
      {
        expect: {
          jobs: suspendedJobs(["is-a-0", "is-b-0"], true),
          conditions: [suspendedCondition],
        },
      },
      { settle: true, expect: { absentConditions: ["StartupPolicyInProgress", "StartupPolicyCompleted"] } },
      {
        name: "resume: only a's Jobs; Suspended stays True",
        do: (ctx) => ctx.updateJobSet(setSuspend(false)),
        expect: {
          jobs: jobsWhere(
            (jobs) =>
              jobs.find((j) => j.metadata?.name === "is-a-0")?.spec?.suspend === false &&
              jobs.find((j) => j.metadata?.name === "is-b-0")?.spec?.suspend === true,
          ),
          conditions: [{ type: "StartupPolicyInProgress", status: "True" }, suspendedCondition],
        },
      },
      { settle: true, expect: { jobs: jobSuspended("is-b-0", true), conditions: [suspendedCondition] } },
      {
        name: "a ready → b resumed",
        do: (ctx) => ctx.readyJob("is-a-0"),
        expect: { jobs: jobSuspended("is-b-0", false), conditions: [suspendedCondition] },
      },
      {
        name: "b ready → startup completed and Suspended False",
        do: (ctx) => ctx.readyJob("is-b-0"),
        expect: {
          conditions: [
            { type: "StartupPolicyCompleted", status: "True" },
            { type: "StartupPolicyInProgress", status: "False" },
            resumedCondition,
          ],
        },
      },
    ],
  },
  {
    name: "6.6 dependsOn gates creation while suspended and resume restarts the chain",
    jobSet: jobSet("ds")
      .suspend(true)
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1).dependsOn("a", "Ready")),
    steps: [
      { expect: { jobs: suspendedJobs(["ds-a-0"], true) } },
      { settle: true, expect: { jobNames: ["ds-a-0"] } },
      {
        do: (ctx) => ctx.updateJobSet(setSuspend(false)),
        expect: { jobs: suspendedJobs(["ds-a-0"], false) },
      },
      { do: (ctx) => ctx.readyJob("ds-a-0"), expect: { jobs: suspendedJobs(["ds-a-0", "ds-b-0"], false) } },
      {
        name: "suspend: every active Job suspended",
        do: (ctx) => ctx.updateJobSet(setSuspend(true)),
        expect: { jobs: suspendedJobs(["ds-a-0", "ds-b-0"], true), conditions: [suspendedCondition] },
      },
      {
        name: "a no longer ready; resume: b stays suspended",
        do: async (ctx) => {
          await ctx.setJobActive("ds-a-0", 0, 0);
          await ctx.updateJobSet(setSuspend(false));
        },
        expect: { jobs: jobSuspended("ds-a-0", false) },
      },
      { settle: true, expect: { jobs: jobSuspended("ds-b-0", true) } },
      {
        name: "a ready again → b resumed",
        do: (ctx) => ctx.readyJob("ds-a-0"),
        expect: { jobs: suspendedJobs(["ds-a-0", "ds-b-0"], false), conditions: [resumedCondition] },
      },
    ],
  },
];

runScenarios("suspend / resume (§6.7)", scenarios);
