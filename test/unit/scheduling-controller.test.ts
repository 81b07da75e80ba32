// The pure scheduling core (controller/scheduling.ts) through plan(): desired Workload and PodGroups,
// Job linkage, lifecycle (create, suspend, finish, drift, terminating objects, foreign objects, API not
// served) and the WorkloadSchedulingBlocked condition.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet, JobSetScheduling } from "../../src/api/types.ts";
import { type Plan, plan } from "../../src/controller/plan.ts";
import {
  BlockedRequeueMs,
  desiredScheduling,
  PendingRequeueMs,
  type PodGroup,
  type SchedulingObserved,
  TerminatingRequeueMs,
  type Workload,
} from "../../src/controller/scheduling.ts";
import { childJob, jobSet, rjob, T0 } from "../builders.ts";

const NOW = new Date("2024-01-01T00:10:00Z");
const on: FeatureGates = { ...defaultFeatureGates, JobSetWorkloadAwareSchedulingAPI: true };
const h = (x: string) => createHash("sha1").update(x).digest("hex").slice(0, 10);
const WL = `js-${h("JobSet/ns/js")}`;
const owner = {
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  name: "js",
  uid: "u",
  controller: true,
  blockOwnerDeletion: true,
};

function gangJs(
  s: JobSetScheduling = { schedulingPolicy: { gang: {} } },
  mutate: (js: JobSet) => void = () => {},
): JobSet {
  const js = jobSet("js", "ns")
    .uid("u")
    .replicatedJob(rjob("leader").replicas(1).parallelism(1).completions(1))
    .replicatedJob(rjob("workers").replicas(2).parallelism(4).completions(4))
    .obj();
  if (js.spec) js.spec.scheduling = s;
  mutate(js);
  return js;
}
const run = (js: JobSet, scheduling?: SchedulingObserved, jobs: Job[] = [], gates = on): Plan => {
  const o: Parameters<typeof plan>[0] = { jobSet: js, jobs, serviceExists: true, now: NOW };
  if (scheduling) o.scheduling = scheduling;
  return plan(o, { gates });
};
/** The desired objects as the server would return them (uid, controlled by the JobSet). */
function existing(js: JobSet): { workload: Workload; podGroups: PodGroup[] } {
  const d = desiredScheduling(js);
  assert.ok(d);
  const withUid = <T extends Workload | PodGroup>(o: T, i: number): T => ({
    ...structuredClone(o),
    metadata: { ...o.metadata, uid: `uid-${i}` },
  });
  return { workload: withUid(d.workload, 0), podGroups: d.podGroups.map((pg, i) => withUid(pg, i + 1)) };
}
const createdKinds = (p: Plan) => (p.scheduling?.creates ?? []).map((o) => `${o.kind} ${o.metadata?.name}`);
const deletedRefs = (p: Plan) => (p.scheduling?.deletes ?? []).map((r) => `${r.kind} ${r.name}`);
const jobNames = (p: Plan) => p.creates.jobs.flatMap((b) => b.jobs.map((j) => j.metadata?.name));
const blocked = (p: Plan) => p.status?.conditions?.find((c) => c.type === "WorkloadSchedulingBlocked") ?? undefined;
const scheduledCond = (status: "True" | "False", message = "") => ({
  conditions: [
    { type: "PodGroupScheduled", status, reason: status === "True" ? "Scheduled" : "Unschedulable", message },
  ],
});

describe("desired objects", () => {
  test("top-level gang: one Workload template and one PodGroup, minCount = all pods, owner and label", () => {
    const d = desiredScheduling(
      gangJs(
        {
          schedulingPolicy: { gang: {} },
          schedulingConstraints: { topology: [{ key: "rack" }] },
          disruptionMode: { all: {} },
        },
        (js) => {
          const spec = js.spec?.replicatedJobs?.map((r) => r.template.spec?.template?.spec);
          for (const s of spec ?? []) if (s) s.priorityClassName = "high";
        },
      ),
    );
    const template = {
      name: WL,
      schedulingPolicy: { gang: { minCount: 9 } },
      schedulingConstraints: { topology: [{ key: "rack" }] },
      disruptionMode: "PodGroup",
      priorityClassName: "high",
    };
    const meta = (name: string) => ({
      name,
      namespace: "ns",
      labels: { "jobset.sigs.k8s.io/jobset-name": "js" },
      ownerReferences: [owner],
    });
    assert.deepEqual(d?.workload, {
      apiVersion: "scheduling.k8s.io/v1alpha2",
      kind: "Workload",
      metadata: meta(WL),
      spec: {
        controllerRef: { apiGroup: "jobset.x-k8s.io", kind: "JobSet", name: "js" },
        podGroupTemplates: [template],
      },
    });
    const { name: _n, ...rest } = template;
    assert.deepEqual(d?.podGroups, [
      {
        apiVersion: "scheduling.k8s.io/v1alpha2",
        kind: "PodGroup",
        metadata: meta(WL),
        spec: { podGroupTemplateRef: { workload: { workloadName: WL, podGroupTemplateName: WL } }, ...rest },
      },
    ]);
  });
  test("basic policy: no minCount; single disruption → Pod", () => {
    const d = desiredScheduling(gangJs({ schedulingPolicy: { basic: {} }, disruptionMode: { single: {} } }));
    assert.deepEqual(d?.workload.spec?.podGroupTemplates, [
      { name: WL, schedulingPolicy: { basic: {} }, disruptionMode: "Pod" },
    ]);
  });
  test("per-ReplicatedJob entries: PodGroup <js>-<template>, each referencing its template", () => {
    const d = desiredScheduling(
      gangJs({
        replicatedJobs: [
          { targetReplicatedJobs: ["leader"] },
          { targetReplicatedJobs: ["workers"], schedulingPolicy: { gang: { minCount: 6 } } },
        ],
      }),
    );
    const l = `leader-${h("ReplicatedJob/ns/js/leader")}`;
    const w = `workers-${h("ReplicatedJob/ns/js/workers")}`;
    assert.deepEqual(
      d?.podGroups.map((pg) => [
        pg.metadata?.name,
        pg.spec?.podGroupTemplateRef?.workload?.podGroupTemplateName,
        pg.spec?.schedulingPolicy,
      ]),
      [
        [`js-${l}`, l, { gang: { minCount: 1 } }],
        [`js-${w}`, w, { gang: { minCount: 6 } }],
      ],
    );
  });
});

describe("plan: creation and linkage", () => {
  test("nothing exists: Workload, then PodGroup, then the Jobs linked to it", () => {
    const p = run(gangJs(), { served: true, podGroups: [] });
    assert.deepEqual(createdKinds(p), [`Workload ${WL}`, `PodGroup ${WL}`]);
    assert.deepEqual(jobNames(p), ["js-leader-0", "js-workers-0", "js-workers-1"]);
    for (const b of p.creates.jobs) {
      for (const j of b.jobs) {
        assert.equal(j.metadata?.annotations?.["scheduling.k8s.io/group-template-name"], WL);
        assert.deepEqual(j.spec?.template.spec?.schedulingGroup, { podGroupName: WL });
      }
    }
    assert.equal(p.requeueAfterMs, PendingRequeueMs);
  });
  test("per Job: each Job links to its own PodGroup", () => {
    const p = run(
      gangJs({
        replicatedJobs: [{ targetReplicatedJobs: ["leader"] }, { targetReplicatedJobs: ["workers"], job: {} }],
      }),
    );
    const links = p.creates.jobs.flatMap((b) =>
      b.jobs.map((j) => [j.metadata?.name, j.spec?.template.spec?.schedulingGroup?.podGroupName]),
    );
    assert.deepEqual(links, [
      ["js-leader-0", `js-leader-${h("ReplicatedJob/ns/js/leader")}`],
      ["js-workers-0", `js-workers-0-${h("Job/ns/js/workers/0")}`],
      ["js-workers-1", `js-workers-1-${h("Job/ns/js/workers/1")}`],
    ]);
    assert.equal(createdKinds(p).length, 4);
  });
  test("everything exists: nothing to do; Jobs still created and linked", () => {
    const js = gangJs();
    const p = run(js, { served: true, ...existing(js) });
    assert.deepEqual(p.scheduling, { deletes: [], creates: [] });
    assert.equal(jobNames(p).length, 3);
  });
  test("gate off in the controller: no objects, no linkage", () => {
    const p = run(gangJs(), undefined, [], defaultFeatureGates);
    assert.equal(p.scheduling, undefined);
    assert.equal(p.creates.jobs[0]?.jobs[0]?.spec?.template.spec?.schedulingGroup, undefined);
  });
  test("no spec.scheduling: nothing", () => {
    const js = gangJs();
    delete js.spec?.scheduling;
    assert.equal(run(js).scheduling, undefined);
  });
});

describe("plan: lifecycle", () => {
  test("suspended: PodGroups then Workload deleted, with UID preconditions; nothing created", () => {
    const js = gangJs(undefined, (j) => {
      if (j.spec) j.spec.suspend = true;
    });
    const p = run(js, { served: true, ...existing(js) });
    assert.deepEqual(deletedRefs(p), [`PodGroup ${WL}`, `Workload ${WL}`]);
    assert.deepEqual(
      p.scheduling?.deletes.map((r) => r.uid),
      ["uid-1", "uid-0"],
    );
    assert.deepEqual(createdKinds(p), []);
  });
  test("suspended with objects already terminating: no repeated delete", () => {
    const js = gangJs(undefined, (j) => {
      if (j.spec) j.spec.suspend = true;
    });
    const e = existing(js);
    for (const o of [e.workload, ...e.podGroups]) if (o.metadata) o.metadata.deletionTimestamp = T0;
    assert.deepEqual(deletedRefs(run(js, { served: true, ...e })), []);
  });
  test("finished: objects deleted", () => {
    const js = gangJs();
    js.status = {
      restarts: 0,
      terminalState: "Completed",
      conditions: [
        { type: "Completed", status: "True", reason: "AllJobsCompleted", message: "", lastTransitionTime: T0 },
      ],
    };
    const p = run(js, { served: true, ...existing(js) });
    assert.deepEqual(deletedRefs(p), [`PodGroup ${WL}`, `Workload ${WL}`]);
  });
  test("resumed while the old objects still terminate: wait, no Jobs created, quick requeue", () => {
    const js = gangJs();
    const e = existing(js);
    for (const o of [e.workload, ...e.podGroups]) if (o.metadata) o.metadata.deletionTimestamp = T0;
    const p = run(js, { served: true, ...e });
    assert.deepEqual(createdKinds(p), []);
    assert.deepEqual(jobNames(p), []);
    assert.equal(p.requeueAfterMs, TerminatingRequeueMs);
  });
  test("restart keeps the objects: recreated Jobs link to the same PodGroup", () => {
    const js = gangJs();
    js.status = { restarts: 1 };
    const p = run(js, { served: true, ...existing(js) });
    assert.deepEqual(p.scheduling, { deletes: [], creates: [] });
    assert.equal(p.creates.jobs[0]?.jobs[0]?.metadata?.labels?.["jobset.sigs.k8s.io/restart-attempt"], "1");
    assert.equal(p.creates.jobs[0]?.jobs[0]?.spec?.template.spec?.schedulingGroup?.podGroupName, WL);
  });
  test("PodGroup minCount drift: deleted (event), Jobs wait", () => {
    const js = gangJs();
    const e = existing(js);
    const pg = e.podGroups[0];
    if (pg?.spec) pg.spec.schedulingPolicy = { gang: { minCount: 3 } };
    const p = run(js, { served: true, ...e });
    assert.deepEqual(deletedRefs(p), [`PodGroup ${WL}`]);
    assert.deepEqual(jobNames(p), []);
    assert.deepEqual(
      p.events.map((ev) => [ev.type, ev.reason]),
      [["Normal", "SchedulingObjectRecreated"]],
    );
    assert.match(p.events[0]?.message ?? "", /immutable fields \(schedulingPolicy\)/);
  });
  test("Workload template drift: Workload and its PodGroups deleted", () => {
    const js = gangJs();
    const e = existing(js);
    const t = e.workload.spec?.podGroupTemplates[0];
    if (t) t.schedulingPolicy = { basic: {} };
    const p = run(js, { served: true, ...e });
    assert.deepEqual(deletedRefs(p), [`Workload ${WL}`, `PodGroup ${WL}`]);
    assert.deepEqual(createdKinds(p), []);
  });
  test("key order and nulls as the server returns them are not drift", () => {
    const js = gangJs({
      replicatedJobs: [
        { targetReplicatedJobs: ["leader"] },
        { targetReplicatedJobs: ["workers"], resourceClaims: [{ resourceClaimTemplateName: "t", name: "gpu" }] },
      ],
    });
    const e = existing(js);
    for (const pg of e.podGroups) {
      if (pg.spec?.resourceClaims) pg.spec.resourceClaims = [{ name: "gpu", resourceClaimTemplateName: "t" }];
    }
    for (const t of e.workload.spec?.podGroupTemplates ?? []) {
      (t as unknown as Record<string, unknown>).schedulingConstraints = null;
    }
    // v1.36 stores disruptionMode "Pod" on a PodGroup created without one.
    for (const pg of e.podGroups) if (pg.spec) pg.spec.disruptionMode = "Pod";
    assert.deepEqual(run(js, { served: true, ...e }).scheduling, { deletes: [], creates: [] });
  });
  test("a disruptionMode other than the server's default is drift", () => {
    const js = gangJs();
    const e = existing(js);
    for (const pg of e.podGroups) if (pg.spec) pg.spec.disruptionMode = "PodGroup";
    assert.deepEqual(deletedRefs(run(js, { served: true, ...e })), [`PodGroup ${WL}`]);
  });
  test("fields the server dropped (gate off there) are not drift", () => {
    const js = gangJs({
      schedulingPolicy: { gang: {} },
      schedulingConstraints: { topology: [{ key: "rack" }] },
      disruptionMode: { all: {} },
    });
    const e = existing(js);
    for (const t of e.workload.spec?.podGroupTemplates ?? []) {
      delete t.schedulingConstraints;
      delete t.disruptionMode;
    }
    for (const pg of e.podGroups) {
      delete pg.spec?.schedulingConstraints;
      delete pg.spec?.disruptionMode;
    }
    const p = run(js, { served: true, ...e });
    assert.deepEqual(p.scheduling, { deletes: [], creates: [] });
    assert.ok(
      p.log.some((l) => l.includes("dropped schedulingConstraints, disruptionMode")),
      p.log.join("\n"),
    );
  });
});

describe("plan: blocked and status", () => {
  test("API not served: condition True + Warning event, no Jobs, slow requeue", () => {
    const p = run(gangJs(), { served: false, podGroups: [] });
    assert.equal(blocked(p)?.status, "True");
    assert.equal(blocked(p)?.reason, "WorkloadAPINotServed");
    assert.deepEqual(
      p.events.map((e) => [e.type, e.reason]),
      [["Warning", "WorkloadAPINotServed"]],
    );
    assert.deepEqual(jobNames(p), []);
    assert.equal(p.requeueAfterMs, BlockedRequeueMs);
    assert.equal(p.error, undefined);
  });
  test("a foreign object with our name: never touched; conflict reported; no Jobs", () => {
    const js = gangJs();
    const e = existing(js);
    if (e.workload.metadata) e.workload.metadata.ownerReferences = [{ ...owner, uid: "someone-else" }];
    const p = run(js, { served: true, ...e });
    assert.deepEqual(p.scheduling, { deletes: [], creates: [] });
    assert.equal(blocked(p)?.reason, "SchedulingObjectConflict");
    assert.match(
      blocked(p)?.message ?? "",
      new RegExp(`Workload ${WL} already exists and is not controlled by this JobSet`),
    );
    assert.deepEqual(jobNames(p), []);
  });
  test("a foreign object is not deleted on suspend either", () => {
    const js = gangJs(undefined, (j) => {
      if (j.spec) j.spec.suspend = true;
    });
    const e = existing(js);
    if (e.workload.metadata) e.workload.metadata.ownerReferences = [];
    assert.deepEqual(deletedRefs(run(js, { served: true, ...e })), [`PodGroup ${WL}`]);
  });
  test("PodGroup Unschedulable: condition True with the scheduler's message, Warning event, requeue", () => {
    const js = gangJs();
    const e = existing(js);
    const pg = e.podGroups[0];
    if (pg) pg.status = scheduledCond("False", "0/4 nodes are available: 4 Insufficient cpu.");
    const existingJobs = ["leader", "workers", "workers"].map((r, i) =>
      childJob(js, r, r === "leader" ? 0 : i - 1).obj(),
    );
    const p = run(js, { served: true, ...e }, existingJobs);
    assert.equal(blocked(p)?.reason, "PodGroupUnschedulable");
    assert.equal(blocked(p)?.message, `PodGroup ${WL} (minCount 9): 0/4 nodes are available: 4 Insufficient cpu.`);
    assert.deepEqual(
      p.events.map((ev) => [ev.type, ev.reason]),
      [["Warning", "PodGroupUnschedulable"]],
    );
    assert.equal(p.requeueAfterMs, PendingRequeueMs);
  });
  test("scheduled afterwards: condition turns False; no more requeue", () => {
    const js = gangJs();
    js.status = {
      restarts: 0,
      conditions: [
        {
          type: "WorkloadSchedulingBlocked",
          status: "True",
          reason: "PodGroupUnschedulable",
          message: "x",
          lastTransitionTime: T0,
        },
      ],
    };
    const e = existing(js);
    const pg = e.podGroups[0];
    if (pg) pg.status = scheduledCond("True");
    const p = run(js, { served: true, ...e });
    assert.deepEqual([blocked(p)?.status, blocked(p)?.reason], ["False", "PodGroupsScheduled"]);
    assert.equal(p.requeueAfterMs, undefined);
  });
  test("scheduled from the start: no condition is added", () => {
    const js = gangJs();
    const e = existing(js);
    const pg = e.podGroups[0];
    if (pg) pg.status = scheduledCond("True");
    assert.equal(blocked(run(js, { served: true, ...e })), undefined);
  });
});
