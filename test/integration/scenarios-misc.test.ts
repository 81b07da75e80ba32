// Remaining features against the real API server: managedBy (§6.8), Job construction with group
// labels (§4.1, §6.12), coordinator (§6.10), elastic JobSets behind their gate (§6.11), volume claim
// policies with retention (§4.4, §8.6) and the headless Service (§4.3).
import { createHash } from "node:crypto";
import {
  Annotations,
  JobSetControllerName,
  Labels,
  NamespacedJobKey,
  NoScheduleTaintKey,
} from "../../src/api/constants.ts";
import { defaultJobSet } from "../../src/api/defaults.ts";
import type { Job, PersistentVolumeClaim, Service } from "../../src/api/k8s.ts";
import { rfc3339 } from "../../src/api/time.ts";
import type { JobSet } from "../../src/api/types.ts";
import { jobSet, rjob } from "../builders.ts";
import { getIfExists } from "../support/cluster.ts";
import { jobSetsPath, jobsWhere, runScenarios, type Scenario, type ScenarioContext } from "./scenario.ts";

const byName = (jobs: Job[], name: string) => jobs.find((j) => j.metadata?.name === name);
const pvcPath = (ctx: ScenarioContext, name = "") =>
  `/api/v1/namespaces/${ctx.namespace}/persistentvolumeclaims${name ? `/${name}` : ""}`;
const svcPath = (ctx: ScenarioContext, name: string) => `/api/v1/namespaces/${ctx.namespace}/services/${name}`;

// ---------------------------------------------------------------------------------------------- §6.8

function managedByScenario(): Scenario {
  return {
    name: "6.8 a JobSet managed by another controller is left alone",
    jobSet: jobSet("mb")
      .replicatedJob(rjob("w").replicas(2))
      .managedBy("kueue.x-k8s.io/multikueue")
      .ttlSecondsAfterFinished(0),
    steps: [
      {
        name: "a JobSet naming our controller explicitly is reconciled",
        do: async (ctx) => {
          const ours = jobSet("mine", ctx.namespace)
            .replicatedJob(rjob("w").replicas(1))
            .managedBy(JobSetControllerName);
          await ctx.client.create(jobSetsPath(ctx.namespace), defaultJobSet(ours.obj()));
        },
        expect: {
          check: async (ctx) => {
            const mine = await ctx.client.get<JobSet>(`${jobSetsPath(ctx.namespace)}/mine`);
            const jobs = await ctx.client.list<Job>(`/apis/batch/v1/namespaces/${ctx.namespace}/jobs`);
            return mine.status?.replicatedJobsStatus?.length === 1 &&
              jobs.items.some((j) => j.metadata?.name === "mine-w-0")
              ? undefined
              : "JobSet mine not reconciled yet";
          },
        },
      },
      {
        name: "no Jobs, no Service, no status for the foreign one",
        settle: true,
        expect: { jobNames: [], service: false, status: { replicatedJobsStatus: null, conditions: null } },
      },
      {
        name: "finished by its controller: no TTL deletion either",
        do: (ctx) =>
          ctx.updateJobSetStatus((js) => {
            js.status = {
              ...js.status,
              restarts: 0,
              terminalState: "Completed",
              conditions: [
                {
                  type: "Completed",
                  status: "True",
                  reason: "AllJobsCompleted",
                  message: "jobset completed successfully",
                  lastTransitionTime: rfc3339(Date.now() - 60_000),
                },
              ],
            };
          }),
        settle: true,
        expect: { deleted: false, jobNames: [] },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------- §4.1/§6.12

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

/** The managed keys of §4.1 for one Job of the groups example (A:2/g1, B:3/g2, C:1/g1). */
function managedKeys(ctx: ScenarioContext, rjobName: string, idx: number): Record<string, string> {
  const layout: Record<
    string,
    { replicas: number; group: string; globalBase: number; groupBase: number; groupReplicas: number }
  > = {
    a: { replicas: 2, group: "g1", globalBase: 0, groupBase: 0, groupReplicas: 3 },
    b: { replicas: 3, group: "g2", globalBase: 2, groupBase: 0, groupReplicas: 3 },
    c: { replicas: 1, group: "g1", globalBase: 5, groupBase: 2, groupReplicas: 3 },
  };
  const l = layout[rjobName];
  if (!l) throw new Error(rjobName);
  const name = `grp-${rjobName}-${idx}`;
  return {
    [Labels.JobSetName]: "grp",
    [Labels.JobSetUID]: ctx.uid,
    [Labels.ReplicatedJobName]: rjobName,
    [Labels.RestartAttempt]: "0",
    [Labels.ReplicatedJobReplicas]: String(l.replicas),
    [Labels.GlobalReplicas]: "6",
    [Labels.JobIndex]: String(idx),
    [Labels.JobKey]: sha1(`${ctx.namespace}/${name}`),
    [Labels.JobGlobalIndex]: String(l.globalBase + idx),
    [Labels.GroupName]: l.group,
    [Labels.GroupReplicas]: String(l.groupReplicas),
    [Labels.JobGroupIndex]: String(l.groupBase + idx),
  };
}

function constructionCheck(ctx: ScenarioContext, jobs: Job[]): string | undefined {
  const want = [...["a-0", "a-1", "b-0", "b-1", "b-2", "c-0"]];
  for (const id of want) {
    const [r, i] = id.split("-") as [string, string];
    const j = byName(jobs, `grp-${id}`);
    if (!j) return `grp-${id} missing`;
    const keys = managedKeys(ctx, r, Number(i));
    const sets: [string, Record<string, string> | undefined, Record<string, string>][] = [
      ["Job labels", j.metadata?.labels, { ...keys, user: "job" }],
      ["Job annotations", j.metadata?.annotations, { ...keys, note: "job" }],
      ["pod labels", j.spec?.template.metadata?.labels, { ...keys, app: "pod" }],
      ["pod annotations", j.spec?.template.metadata?.annotations, { ...keys, podnote: "pod" }],
    ];
    for (const [what, got, exp] of sets) {
      for (const [k, v] of Object.entries(exp)) {
        if (got?.[k] !== v) return `grp-${id} ${what}[${k}]: got ${got?.[k]}, want ${v}`;
      }
      const extra = Object.keys(got ?? {}).filter(
        (k) => !(k in exp) && !k.startsWith("batch.kubernetes.io/") && k !== "controller-uid" && k !== "job-name",
      );
      if (extra.length > 0) return `grp-${id} ${what}: unexpected keys ${extra.join(",")}`;
    }
    const owners = JSON.stringify(j.metadata?.ownerReferences);
    const wantOwner = JSON.stringify([
      {
        apiVersion: "jobset.x-k8s.io/v1alpha2",
        kind: "JobSet",
        name: "grp",
        uid: ctx.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    if (owners !== wantOwner) return `grp-${id} ownerReferences ${owners}`;
    if (j.spec?.suspend !== false) return `grp-${id} spec.suspend ${j.spec?.suspend}`;
    if (j.spec?.template.spec?.subdomain !== "grp") return `grp-${id} subdomain ${j.spec?.template.spec?.subdomain}`;
    if (j.spec?.completionMode !== "Indexed") return `grp-${id} completionMode ${j.spec?.completionMode}`;
  }
  return undefined;
}

const groupRjob = (name: string, replicas: number, group: string) =>
  rjob(name)
    .replicas(replicas)
    .groupName(group)
    .jobLabels({ user: "job" })
    .jobAnnotations({ note: "job" })
    .podLabels({ app: "pod" })
    .podAnnotations({ podnote: "pod" })
    .subdomain("overridden");

function exclusiveScenario(): Scenario {
  const topo = Annotations.ExclusiveTopology;
  const nsel = Annotations.NodeSelectorStrategy;
  const check = (ctx: ScenarioContext, j: Job | undefined, want: string): string | undefined => {
    if (!j) return "Job missing";
    const name = j.metadata?.name ?? "";
    for (const [what, m] of [
      ["Job", j.metadata?.annotations],
      ["pod template", j.spec?.template.metadata?.annotations],
    ] as const) {
      if (m?.[topo] !== want || m[nsel] !== "true") return `${name} ${what} annotations ${JSON.stringify(m)}`;
      if (m.other !== undefined) return `${name}: JobSet annotation "other" propagated`;
    }
    for (const m of [j.metadata?.labels, j.spec?.template.metadata?.labels]) {
      if (m?.[topo] !== undefined || m?.[nsel] !== undefined) return `${name}: placement keys as labels`;
    }
    const pod = j.spec?.template.spec;
    if (pod?.nodeSelector?.[NamespacedJobKey] !== `${ctx.namespace}_${name}`)
      return `${name} nodeSelector ${JSON.stringify(pod?.nodeSelector)}`;
    const tol = JSON.stringify(pod?.tolerations);
    if (tol !== JSON.stringify([{ key: NoScheduleTaintKey, operator: "Exists", effect: "NoSchedule" }]))
      return `${name} tolerations ${tol}`;
    return undefined;
  };
  return {
    name: "4.1 exclusive placement annotations (rjob level wins) and the node-selector strategy",
    jobSet: jobSet("ex")
      .annotations({ [topo]: "zone", [nsel]: "true", other: "x" })
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(
        rjob("b")
          .replicas(1)
          .jobAnnotations({ [topo]: "rack" }),
      ),
    steps: [
      {
        expect: {
          jobs: 2,
          check: async (ctx) => {
            const jobs = await ctx.jobs();
            return check(ctx, byName(jobs, "ex-a-0"), "zone") ?? check(ctx, byName(jobs, "ex-b-0"), "rack");
          },
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------- §6.10

function coordinatorScenario(): Scenario {
  const has = (j: Job | undefined, v: string) =>
    j !== undefined &&
    j.metadata?.labels?.[Labels.Coordinator] === v &&
    j.metadata.annotations?.[Labels.Coordinator] === v &&
    j.spec?.template.metadata?.labels?.[Labels.Coordinator] === v &&
    j.spec.template.metadata.annotations?.[Labels.Coordinator] === v;
  return {
    name: "6.10 coordinator label and annotation on Jobs and pod templates",
    jobSet: jobSet("co")
      .replicatedJob(rjob("leader").replicas(1))
      .replicatedJob(rjob("workers").replicas(2))
      .network({ enableDNSHostnames: true, subdomain: "net" })
      .coordinator({ replicatedJob: "leader", jobIndex: 0, podIndex: 0 }),
    steps: [
      {
        expect: {
          service: true,
          jobs: jobsWhere((jobs) => jobs.length === 3 && jobs.every((j) => has(j, "co-leader-0-0.net"))),
        },
      },
      {
        name: "a changed coordinator applies only to Jobs created afterwards",
        do: async (ctx) => {
          await ctx.updateJobSet((js) => {
            js.spec = { ...js.spec, coordinator: { replicatedJob: "workers", jobIndex: 1, podIndex: 0 } };
          });
          await ctx.deleteJob("co-workers-0");
        },
        expect: {
          jobs: jobsWhere(
            (jobs) =>
              jobs.length === 3 &&
              has(byName(jobs, "co-workers-0"), "co-workers-1-0.net") &&
              has(byName(jobs, "co-leader-0"), "co-leader-0-0.net") &&
              has(byName(jobs, "co-workers-1"), "co-leader-0-0.net"),
          ),
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------- §6.11

function elasticScenario(gate: boolean): Scenario {
  const n = gate ? "el" : "eloff";
  const scale = (ctx: ScenarioContext) =>
    ctx.updateJobSet((js) => {
      const spec = js.spec?.replicatedJobs?.[0]?.template.spec;
      if (!spec) throw new Error("no Job template");
      spec.parallelism = 3;
      spec.completions = 3;
    });
  const pc = (j: Job | undefined) => `${j?.spec?.parallelism}/${j?.spec?.completions}`;
  return {
    name: gate
      ? "6.11 ElasticJobSet: active Jobs follow parallelism/completions; finished ones do not"
      : "6.11 without the ElasticJobSet gate Jobs are not patched",
    jobSet: jobSet(n).replicatedJob(rjob("w").replicas(2).parallelism(2).completions(2)),
    gates: { ElasticJobSet: gate },
    steps: [
      { expect: { jobs: 2 } },
      ...(gate
        ? [
            {
              do: async (ctx: ScenarioContext) => {
                await ctx.completeJob(`${n}-w-1`);
                await scale(ctx);
              },
              expect: {
                jobs: jobsWhere(
                  (jobs) => pc(byName(jobs, `${n}-w-0`)) === "3/3" && pc(byName(jobs, `${n}-w-1`)) === "2/2",
                ),
              },
            },
            { settle: true, expect: { jobs: jobsWhere((jobs) => pc(byName(jobs, `${n}-w-1`)) === "2/2") } },
          ]
        : [{ do: scale, settle: true, expect: { jobs: jobsWhere((jobs) => jobs.every((j) => pc(j) === "2/2")) } }]),
    ],
  };
}

// ---------------------------------------------------------------------------------------------- §4.4

const pvcTemplate = (name: string, labels: Record<string, string> = {}): PersistentVolumeClaim => ({
  metadata: { name, labels, annotations: { [`${name}.example.com/a`]: "1" } },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
});

function pvcScenario(): Scenario {
  return {
    name: "4.4 volume claim policies: PVCs with or without owner by retention, created while suspended",
    create: false,
    jobSet: jobSet("pv")
      .suspend(true)
      .replicatedJob(rjob("w").replicas(2).volumeMount("data").volumeMount("scratch"))
      .volumeClaimPolicy([pvcTemplate("data", { tier: "fast" })], "Delete")
      .volumeClaimPolicy([pvcTemplate("scratch")], "Retain")
      .volumeClaimPolicy([pvcTemplate("cache")]),
    steps: [
      {
        name: "a foreign PVC with a target name exists already",
        do: async (ctx) => {
          await ctx.client.create(pvcPath(ctx), {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: "cache-pv", labels: { owner: "someone-else" } },
            spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "2Gi" } } },
          });
          await ctx.create();
        },
        expect: {
          jobs: jobsWhere((jobs) => jobs.length === 2 && jobs.every((j) => j.spec?.suspend === true)),
          conditions: [{ type: "Suspended", status: "True" }],
          check: async (ctx) => {
            const get = (n: string) => getIfExists<PersistentVolumeClaim>(ctx.client, pvcPath(ctx, n));
            const [data, scratch, cache] = await Promise.all([get("data-pv"), get("scratch-pv"), get("cache-pv")]);
            if (!data || !scratch || !cache) return "PVCs missing";
            const owner = JSON.stringify(
              data.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller, r.blockOwnerDeletion]),
            );
            if (owner !== JSON.stringify([["JobSet", "pv", ctx.uid, true, true]])) return `data-pv owners ${owner}`;
            if (scratch.metadata?.ownerReferences?.length) return "scratch-pv (Retain) has an owner";
            if (data.metadata?.labels?.tier !== "fast" || data.metadata.labels[Labels.JobSetName] !== "pv")
              return `data-pv labels ${JSON.stringify(data.metadata?.labels)}`;
            if (data.metadata.annotations?.["data.example.com/a"] !== "1") return "data-pv annotation missing";
            if (scratch.metadata?.labels?.[Labels.JobSetName] !== "pv") return "scratch-pv label missing";
            if (
              cache.metadata?.labels?.owner !== "someone-else" ||
              cache.metadata.labels[Labels.JobSetName] !== undefined
            )
              return `foreign cache-pv changed: ${JSON.stringify(cache.metadata?.labels)}`;
            if (cache.metadata.ownerReferences?.length) return "foreign cache-pv adopted";
            for (const j of await ctx.jobs()) {
              const vols = (j.spec?.template.spec?.volumes ?? []).map(
                (v) => `${v.name}=${v.persistentVolumeClaim?.claimName}`,
              );
              if (vols.join(",") !== "data=data-pv,scratch=scratch-pv")
                return `${j.metadata?.name} volumes ${vols.join(",")}`;
            }
            return undefined;
          },
        },
      },
    ],
  };
}

function pvcFailureScenario(): Scenario {
  return {
    name: "4.4 an invalid PVC template: PVCCreationFailed, no Jobs, no status",
    jobSet: jobSet("pvf")
      .replicatedJob(rjob("w").replicas(1))
      .volumeClaimPolicy([{ metadata: { name: "bad" }, spec: { resources: { requests: { storage: "1Gi" } } } }]),
    steps: [
      {
        expect: {
          events: [{ reason: "PVCCreationFailed", type: "Warning" }],
          reconcileError: /PersistentVolumeClaim "bad-pvf" is invalid/,
          check: async (ctx) => {
            const ev = (await ctx.events()).find((e) => e.reason === "PVCCreationFailed");
            return ctx.reconcileErrors.includes(ev?.note ?? "-")
              ? undefined
              : `event note ${ev?.note} is not the error text`;
          },
        },
      },
      { settle: true, expect: { jobNames: [], status: { replicatedJobsStatus: null } } },
    ],
  };
}

// ---------------------------------------------------------------------------------------------- §4.3

function serviceScenarios(): Scenario[] {
  let uid = "";
  return [
    {
      name: "4.3 the headless Service is re-created when deleted",
      jobSet: jobSet("svc")
        .replicatedJob(rjob("w").replicas(1))
        .network({ enableDNSHostnames: true, publishNotReadyAddresses: false }),
      steps: [
        {
          expect: {
            service: true,
            check: async (ctx) => {
              const s = await ctx.client.get<Service>(svcPath(ctx, "svc"));
              uid = s.metadata?.uid ?? "";
              return s.spec?.publishNotReadyAddresses !== true && s.spec?.clusterIP === "None"
                ? undefined
                : JSON.stringify(s.spec);
            },
          },
        },
        {
          do: (ctx) => ctx.client.delete(svcPath(ctx, "svc")),
          expect: {
            check: async (ctx) => {
              const s = await getIfExists<Service>(ctx.client, svcPath(ctx, "svc"));
              return s && s.metadata?.uid !== uid ? undefined : "Service not re-created";
            },
          },
        },
      ],
    },
    {
      name: "4.3 a Service that cannot be created: HeadlessServiceCreationFailed, no Jobs",
      jobSet: jobSet("bsv")
        .replicatedJob(rjob("w").replicas(1))
        .network({ enableDNSHostnames: true, subdomain: "Bad_Sub" }),
      steps: [
        {
          expect: {
            events: [{ reason: "HeadlessServiceCreationFailed", type: "Warning" }],
            reconcileError: /Service "Bad_Sub" is invalid/,
            check: async (ctx) => {
              const ev = (await ctx.events()).find((e) => e.reason === "HeadlessServiceCreationFailed");
              return ctx.reconcileErrors.includes(ev?.note ?? "-")
                ? undefined
                : `event note ${ev?.note} is not the error`;
            },
          },
        },
        { settle: true, expect: { jobNames: [], status: { replicatedJobsStatus: null } } },
      ],
    },
    {
      name: "4.3 an existing Service is not adopted; DNS hostnames off means no Service",
      create: false,
      jobSet: jobSet("own").replicatedJob(rjob("w").replicas(1)),
      steps: [
        {
          do: async (ctx) => {
            await ctx.client.create(`/api/v1/namespaces/${ctx.namespace}/services`, {
              apiVersion: "v1",
              kind: "Service",
              metadata: { name: "own" },
              spec: { clusterIP: "None", selector: { app: "x" } },
            });
            await ctx.create();
            await ctx.client.create(
              jobSetsPath(ctx.namespace),
              defaultJobSet(
                jobSet("nodns", ctx.namespace).replicatedJob(rjob("w").replicas(1)).enableDNSHostnames(false).obj(),
              ),
            );
          },
          expect: {
            jobs: 1,
            check: async (ctx) => {
              const jobs = await ctx.client.list<Job>(`/apis/batch/v1/namespaces/${ctx.namespace}/jobs`);
              const nodns = jobs.items.find((j) => j.metadata?.name === "nodns-w-0");
              if (!nodns) return "nodns-w-0 not created";
              if (nodns.spec?.template.spec?.subdomain !== undefined) return "subdomain set without DNS hostnames";
              return undefined;
            },
          },
        },
        {
          settle: true,
          expect: {
            check: async (ctx) => {
              const s = await ctx.client.get<Service>(svcPath(ctx, "own"));
              if (s.metadata?.ownerReferences?.length || s.spec?.selector?.app !== "x")
                return "foreign Service changed";
              const none = await ctx.client.get(svcPath(ctx, "nodns")).then(
                () => false,
                () => true,
              );
              return none ? undefined : "Service nodns created with DNS hostnames off";
            },
          },
        },
      ],
    },
  ];
}

runScenarios("managedBy (§6.8)", [managedByScenario()]);
runScenarios("Job construction and groups (§4.1, §6.12)", [
  {
    name: "6.12 group and index labels/annotations on Jobs and pod templates",
    jobSet: jobSet("grp")
      .replicatedJob(groupRjob("a", 2, "g1"))
      .replicatedJob(groupRjob("b", 3, "g2"))
      .replicatedJob(groupRjob("c", 1, "g1")),
    steps: [{ expect: { jobs: 6, check: async (ctx) => constructionCheck(ctx, await ctx.jobs()) } }],
  },
  exclusiveScenario(),
]);
runScenarios("coordinator (§6.10)", [coordinatorScenario()]);
runScenarios("elastic JobSet (§6.11)", [elasticScenario(true), elasticScenario(false)]);
runScenarios("volume claim policies (§4.4)", [pvcScenario(), pvcFailureScenario()]);
runScenarios("headless Service (§4.3)", serviceScenarios());
