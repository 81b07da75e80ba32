// spec.scheduling against a real kube-apiserver serving scheduling.k8s.io/v1alpha2 (profile `apiserver`
// with the src/local/workload-api.ts flags: `useCluster(…, { workloadApi: true })`): the controller's Workload and PodGroups
// as the server stores them (names, owner references, labels, minCount), Job linkage, the webhook's
// rules, the gate, suspend/resume, finish, foreign objects, and a cluster without the API. No
// controllers run here: the test removes PodGroup finalizers itself, as the podgroup-protection
// controller would once the pods are gone.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet, JobSetScheduling } from "../../src/api/types.ts";
import type { PodGroup, Workload } from "../../src/controller/scheduling.ts";
import { schedulingPath } from "../../src/controllers/jobset/scheduling-objects.ts";
import { ApiError, isNotFound, type KubeClient } from "../../src/runtime/client.ts";
import { jobSet, rjob } from "../builders.ts";
import { type TestCluster, useCluster, waitFor } from "../support/cluster.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { jobSetsPath, ScenarioContext, updateWithRetry } from "./scenario.ts";

const on: FeatureGates = { ...defaultFeatureGates, JobSetWorkloadAwareSchedulingAPI: true };
const h = (x: string) => createHash("sha1").update(x).digest("hex").slice(0, 10);

function gangJs(name: string, ns: string, s: JobSetScheduling = { schedulingPolicy: { gang: {} } }): JobSet {
  const js = jobSet(name, ns)
    .replicatedJob(rjob("leader").replicas(1).parallelism(1).completions(1))
    .replicatedJob(rjob("workers").replicas(2).parallelism(4).completions(4))
    .obj();
  if (js.spec) js.spec.scheduling = s;
  return js;
}

async function getOrUndefined<T>(client: KubeClient, path: string): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Removes the podgroup-protection finalizer of a PodGroup being deleted (kcm's job); true once gone. */
async function finalizePodGroup(client: KubeClient, ns: string, name: string): Promise<boolean> {
  const p = schedulingPath("PodGroup", ns, name);
  const pg = await getOrUndefined<PodGroup>(client, p);
  if (!pg) return true;
  if (!pg.metadata?.deletionTimestamp) return false;
  await updateWithRetry<PodGroup>(client, p, p, (x) => {
    if (!x.metadata?.finalizers?.length) return false;
    x.metadata.finalizers = [];
    return true;
  }).catch((e: unknown) => {
    if (!isNotFound(e)) throw e;
  });
  return false;
}

const withoutNulls = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x === null ? undefined : x)));

const blockedCondition = (js: JobSet) => js.status?.conditions?.find((c) => c.type === "WorkloadSchedulingBlocked");

describe("gang scheduling: Workload API on (apiserver profile)", () => {
  let cluster: TestCluster;
  let stack: Stack;
  before(async () => {
    cluster = await useCluster("apiserver", { workloadApi: true });
    stack = await startStack(cluster, { webhooks: true, gates: on });
  });
  after(async () => {
    await stack?.stop();
  });

  test("objects: Workload → PodGroup → linked Jobs, with names, owner references, labels and minCount", async (t) => {
    const ns = await stack.namespace(t);
    const ctx = new ScenarioContext(cluster.client, ns, gangJs("gang", ns));
    const created = await ctx.create();
    const uid = created.metadata?.uid ?? "";
    assert.deepEqual(created.spec?.scheduling, { schedulingPolicy: { gang: {} } }, "defaulted, minCount not persisted");
    const wl = `gang-${h(`JobSet/${ns}/gang`)}`;
    const jobs = await waitFor(async () => ((await ctx.jobs()).length === 3 ? ctx.jobs() : undefined), {
      message: "3 Jobs",
    });
    const workload = await cluster.client.get<Workload>(schedulingPath("Workload", ns, wl));
    const pg = await cluster.client.get<PodGroup>(schedulingPath("PodGroup", ns, wl));
    const owner = {
      apiVersion: "jobset.x-k8s.io/v1alpha2",
      kind: "JobSet",
      name: "gang",
      uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    for (const o of [workload, pg]) {
      assert.deepEqual(o.metadata?.ownerReferences, [owner]);
      assert.equal(o.metadata?.labels?.["jobset.sigs.k8s.io/jobset-name"], "gang");
    }
    // v1alpha2 serializes an unset template schedulingConstraints as null: compare without nulls.
    assert.deepEqual(withoutNulls(workload.spec), {
      controllerRef: { apiGroup: "jobset.x-k8s.io", kind: "JobSet", name: "gang" },
      podGroupTemplates: [{ name: wl, schedulingPolicy: { gang: { minCount: 9 } } }],
    });
    assert.deepEqual(pg.spec?.podGroupTemplateRef, { workload: { workloadName: wl, podGroupTemplateName: wl } });
    assert.deepEqual(pg.spec?.schedulingPolicy, { gang: { minCount: 9 } });
    // Order: each object exists before the next kind was created.
    const ts = (o: { metadata?: { creationTimestamp?: string } }) => Date.parse(o.metadata?.creationTimestamp ?? "");
    assert.ok(ts(workload) <= ts(pg) && jobs.every((j) => ts(pg) <= ts(j)));
    for (const j of jobs) {
      assert.equal(j.metadata?.annotations?.["scheduling.k8s.io/group-template-name"], wl);
      assert.deepEqual(j.spec?.template.spec?.schedulingGroup, { podGroupName: wl });
    }
    // Steady: the gang is not scheduled here (no scheduler), so the controller keeps looking at it;
    // after two more reconciles the objects are the same ones (what the server stores is not drift).
    const stats = stack.controller.controller.stats;
    const seen = stats.reconciles;
    await waitFor(() => stats.reconciles >= seen + 2, { message: "two more reconciles" });
    const wlAfter = await cluster.client.get<Workload>(schedulingPath("Workload", ns, wl));
    const pgAfter = await cluster.client.get<PodGroup>(schedulingPath("PodGroup", ns, wl));
    assert.deepEqual([wlAfter.metadata?.uid, pgAfter.metadata?.uid], [workload.metadata?.uid, pg.metadata?.uid]);
    assert.deepEqual(
      (await ctx.events()).filter((e) => e.reason === "SchedulingObjectRecreated"),
      [],
      "no delete/recreate loop",
    );
  });

  test("per-ReplicatedJob groups with topology: the server keeps the constraint", async (t) => {
    const ns = await stack.namespace(t);
    const ctx = new ScenarioContext(
      cluster.client,
      ns,
      gangJs("per-rj", ns, {
        replicatedJobs: [
          { targetReplicatedJobs: ["leader"], schedulingPolicy: { basic: {} } },
          {
            targetReplicatedJobs: ["workers"],
            schedulingConstraints: { topology: [{ key: "topology.kubernetes.io/rack" }] },
          },
        ],
      }),
    );
    await ctx.create();
    const w = `workers-${h(`ReplicatedJob/${ns}/per-rj/workers`)}`;
    const pg = await waitFor(
      () => getOrUndefined<PodGroup>(cluster.client, schedulingPath("PodGroup", ns, `per-rj-${w}`)),
      {
        message: "workers PodGroup",
      },
    );
    assert.deepEqual(pg.spec?.schedulingPolicy, { gang: { minCount: 8 } });
    assert.deepEqual(pg.spec?.schedulingConstraints, { topology: [{ key: "topology.kubernetes.io/rack" }] });
    const jobs = await waitFor(async () => ((await ctx.jobs()).length === 3 ? ctx.jobs() : undefined), {
      message: "3 Jobs",
    });
    assert.equal(
      jobs[0]?.spec?.template.spec?.schedulingGroup?.podGroupName,
      `per-rj-leader-${h(`ReplicatedJob/${ns}/per-rj/leader`)}`,
    );
    assert.equal(jobs[1]?.spec?.template.spec?.schedulingGroup?.podGroupName, `per-rj-${w}`);
  });

  test("webhook: invalid spec.scheduling is refused with the field path; gate off refuses any", async (t) => {
    const ns = await stack.namespace(t);
    const refusal = async (client: KubeClient, js: JobSet) => {
      try {
        await client.create(jobSetsPath(js.metadata?.namespace ?? ""), js);
      } catch (e) {
        assert.ok(e instanceof ApiError);
        return e.message;
      }
      assert.fail("created");
    };
    const tooBig = await refusal(
      cluster.client,
      gangJs("too-big", ns, { schedulingPolicy: { gang: { minCount: 10 } } }),
    );
    assert.match(
      tooBig,
      /spec\.scheduling\.schedulingPolicy\.gang\.minCount: Invalid value: 10: minCount 10 exceeds the 9 pods/,
    );
    const untargeted = await refusal(
      cluster.client,
      gangJs("untargeted", ns, { replicatedJobs: [{ targetReplicatedJobs: ["leader"] }] }),
    );
    assert.match(untargeted, /replicatedJob 'workers' is not targeted/);
    // A second stack with the gate off (its controller watches every namespace too: stopped at once).
    const gateOff = await startStack(cluster, { webhooks: true, gates: defaultFeatureGates });
    t.after(() => gateOff.stop());
    const nsOff = await gateOff.namespace(t);
    const off = await refusal(cluster.client, gangJs("gate-off", nsOff));
    assert.match(
      off,
      /spec\.scheduling: Forbidden: spec\.scheduling requires the JobSetWorkloadAwareSchedulingAPI feature gate/,
    );
    // And the CRD schema itself: topology allows one entry.
    const schema = await refusal(
      cluster.client,
      gangJs("two-keys", ns, { schedulingConstraints: { topology: [{ key: "a" }, { key: "b" }] } }),
    );
    assert.match(schema, /spec\.scheduling\.schedulingConstraints\.topology: Too many: 2: must have at most 1 item/);
  });

  test("lifecycle: suspend deletes, resume recreates under the same names, finish deletes", async (t) => {
    const ns = await stack.namespace(t);
    const ctx = new ScenarioContext(cluster.client, ns, gangJs("life", ns));
    await ctx.create();
    const wl = `life-${h(`JobSet/${ns}/life`)}`;
    const wlPath = schedulingPath("Workload", ns, wl);
    const pgPath = schedulingPath("PodGroup", ns, wl);
    const first = await waitFor(() => getOrUndefined<PodGroup>(cluster.client, pgPath), { message: "PodGroup" });
    await waitFor(async () => (await ctx.jobs()).length === 3, { message: "3 Jobs" });

    await ctx.updateJobSet((js) => {
      if (js.spec) js.spec.suspend = true;
    });
    await waitFor(
      async () => (await finalizePodGroup(cluster.client, ns, wl)) && !(await getOrUndefined(cluster.client, wlPath)),
      {
        message: "Workload and PodGroup deleted on suspend",
      },
    );
    const suspendedJobs = await ctx.jobs();
    assert.ok(suspendedJobs.every((j: Job) => j.spec?.suspend === true));

    await ctx.updateJobSet((js) => {
      if (js.spec) js.spec.suspend = false;
    });
    const again = await waitFor(() => getOrUndefined<PodGroup>(cluster.client, pgPath), {
      message: "PodGroup recreated",
    });
    assert.notEqual(again.metadata?.uid, first.metadata?.uid);
    assert.ok(await getOrUndefined(cluster.client, wlPath));

    await ctx.completeJobs();
    await waitFor(async () => (await ctx.jobSet()).status?.terminalState === "Completed", { message: "Completed" });
    await waitFor(
      async () => (await finalizePodGroup(cluster.client, ns, wl)) && !(await getOrUndefined(cluster.client, wlPath)),
      {
        message: "Workload and PodGroup deleted when finished",
      },
    );
  });

  test("a Workload with our name that we do not control: left alone, conflict reported, no Jobs", async (t) => {
    const ns = await stack.namespace(t);
    const wl = `taken-${h(`JobSet/${ns}/taken`)}`;
    await cluster.client.create(schedulingPath("Workload", ns), {
      apiVersion: "scheduling.k8s.io/v1alpha2",
      kind: "Workload",
      metadata: { name: wl },
      spec: { podGroupTemplates: [{ name: "other", schedulingPolicy: { basic: {} } }] },
    });
    const ctx = new ScenarioContext(cluster.client, ns, gangJs("taken", ns));
    await ctx.create();
    const cond = await waitFor(async () => blockedCondition(await ctx.jobSet()), {
      message: "WorkloadSchedulingBlocked",
    });
    assert.equal(cond.status, "True");
    assert.equal(cond.reason, "SchedulingObjectConflict");
    assert.deepEqual(await ctx.jobs(), []);
    const still = await cluster.client.get<Workload>(schedulingPath("Workload", ns, wl));
    assert.equal(still.spec?.podGroupTemplates[0]?.name, "other");
    assert.equal(still.metadata?.deletionTimestamp, undefined);
  });
});

describe("gang scheduling: cluster without the Workload API", () => {
  test("the JobSet reports WorkloadAPINotServed and no Jobs are created", async (t) => {
    const cluster = await useCluster("apiserver");
    // The controller watches every namespace of the shared cluster: count only this test's reconciles.
    let ns = "";
    const errors: unknown[] = [];
    const stack = await startStack(cluster, {
      webhooks: true,
      gates: on,
      onJobSetReconcile: (key, outcome, _seconds, error) => {
        if (ns && key.startsWith(`${ns}/`) && outcome === "error") errors.push(error);
      },
    });
    t.after(() => stack.stop());
    ns = await stack.namespace(t);
    const ctx = new ScenarioContext(cluster.client, ns, gangJs("no-api", ns));
    await ctx.create();
    const cond = await waitFor(async () => blockedCondition(await ctx.jobSet()), {
      message: "WorkloadSchedulingBlocked",
    });
    assert.deepEqual([cond.status, cond.reason], ["True", "WorkloadAPINotServed"]);
    assert.match(cond.message, /--runtime-config=scheduling\.k8s\.io\/v1alpha2=true/);
    assert.deepEqual(await ctx.jobs(), []);
    assert.deepEqual(errors, [], "no error loop");
  });
});
