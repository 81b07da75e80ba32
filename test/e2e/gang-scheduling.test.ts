// Gang scheduling end to end on a private full control plane serving the Workload API (the real
// kube-scheduler with its GangScheduling plugin, kube-controller-manager with the Job, garbage
// collector and podgroup-protection controllers) and fake nodes of known CPU capacity.
//
// Nodes: 4 with allocatable cpu 2/2/1/1 (room for 6 one-CPU pods). JobSet: 2 Jobs × 4 pods, 1 CPU each.
//   - with spec.scheduling (gang): no pod binds, the PodGroup reports Unschedulable, the JobSet says so;
//     a fifth node (cpu 2) makes room: all 8 bind, PodGroupScheduled=True, the JobSet's condition clears;
//   - the same JobSet without spec.scheduling (control run): 6 pods bind;
//   - deleting the gang JobSet lets garbage collection remove its Workload and PodGroup.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import type { Pod } from "../../src/api/k8s.ts";
import { workloadName } from "../../src/api/scheduling.ts";
import type { JobSet } from "../../src/api/types.ts";
import type { PodGroup, Workload } from "../../src/controller/scheduling.ts";
import { schedulingPath } from "../../src/controllers/jobset/scheduling-objects.ts";
import { type ControlPlane, startControlPlane } from "../../src/local/controlplane.ts";
import { type FakeKubelet, SimPrefix, startFakeKubelet } from "../../src/local/kubelet.ts";
import { isNotFound, type KubeClient } from "../../src/runtime/client.ts";
import { jobSet, rjob } from "../builders.ts";
import { clusterInfo, type TestCluster, waitFor } from "../support/cluster.ts";
import { getJobSet, jobSetsPath, listPods } from "../support/e2e.ts";
import { type Stack, startStack } from "../support/stack.ts";

const on: FeatureGates = { ...defaultFeatureGates, JobSetWorkloadAwareSchedulingAPI: true };

/** 2 Jobs × 4 pods, each pod requesting 1 CPU and running until deleted. */
function eightPods(name: string, ns: string, gang: boolean): JobSet {
  const js = jobSet(name, ns)
    .replicatedJob(
      rjob("workers")
        .replicas(2)
        .parallelism(4)
        .completions(4)
        .containers({ name: "main", image: "busybox", resources: { requests: { cpu: "1" } } })
        .podAnnotations({ [`${SimPrefix}duration`]: "forever" }),
    )
    .obj();
  if (gang && js.spec) js.spec.scheduling = { schedulingPolicy: { gang: {} } };
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

const bound = (pods: Pod[]) => pods.filter((p) => p.spec?.nodeName);

describe("gang scheduling on the real kube-scheduler (full control plane, Workload API)", () => {
  let cp: ControlPlane;
  let cluster: TestCluster;
  let stack: Stack;
  let kubelet: FakeKubelet;
  before(async () => {
    cp = await startControlPlane({
      profile: "full",
      unref: true,
      workloadApi: true,
      log: (l) => process.stderr.write(`[control plane] ${l}\n`),
    });
    cluster = { ...clusterInfo(cp), client: await cp.client() };
    stack = await startStack(cluster, { webhooks: true, gates: on });
    kubelet = await startFakeKubelet({
      client: cluster.client,
      namePrefix: "gang",
      nodes: ["2", "2", "1", "1"].map((cpu) => ({ cpu })),
      log: () => {},
    });
  });
  after(async () => {
    await stack?.stop();
    await kubelet?.stop();
    await cp?.stop();
  });

  test("8 pods needing room for 8 on room for 6: none binds, the PodGroup and the JobSet say Unschedulable; room for 8: all bind; deleting the JobSet removes the Workload and PodGroup", async (t) => {
    const ns = await stack.namespace(t);
    const js = eightPods("gang", ns, true);
    await cluster.client.create(jobSetsPath(ns), js);
    const name = workloadName(js);
    const pg = await waitFor(
      async () => {
        const x = await getOrUndefined<PodGroup>(cluster.client, schedulingPath("PodGroup", ns, name));
        const c = x?.status?.conditions?.find((y) => y.type === "PodGroupScheduled");
        return c?.status === "False" ? x : undefined;
      },
      { timeoutMs: 120_000, message: "PodGroupScheduled=False" },
    );
    assert.equal(pg.spec?.schedulingPolicy.gang?.minCount, 8);
    assert.equal(pg.status?.conditions?.find((c) => c.type === "PodGroupScheduled")?.reason, "Unschedulable");
    const pods = await waitFor(async () => {
      const list = await listPods(cluster.client, ns);
      return list.length === 8 ? list : undefined;
    });
    assert.deepEqual(
      bound(pods).map((p) => p.metadata?.name),
      [],
      "no pod of the gang is bound",
    );
    for (const p of pods) {
      assert.equal(p.spec?.schedulingGroup?.podGroupName, name);
      const sc = p.status?.conditions?.find((c) => c.type === "PodScheduled");
      assert.deepEqual([sc?.status, sc?.reason], ["False", "Unschedulable"], p.metadata?.name);
    }
    const cond = await waitFor(
      async () =>
        (await getJobSet(cluster.client, ns, "gang")).status?.conditions?.find(
          (c) => c.type === "WorkloadSchedulingBlocked" && c.status === "True",
        ),
      { timeoutMs: 60_000, message: "JobSet condition WorkloadSchedulingBlocked" },
    );
    assert.equal(cond.reason, "PodGroupUnschedulable");
    assert.match(cond.message, new RegExp(`PodGroup ${name} \\(minCount 8\\)`));
    t.diagnostic(`JobSet says: ${cond.message}`);

    // (2) capacity for 2 more pods: the whole gang binds, the PodGroup and the JobSet say so.
    const extra = await startFakeKubelet({
      client: cluster.client,
      namePrefix: "gang-extra",
      nodes: [{ cpu: "2" }],
      log: () => {},
    });
    t.after(() => extra.stop());
    const all = await waitFor(
      async () => {
        const list = await listPods(cluster.client, ns);
        return list.length === 8 && bound(list).length === 8 ? list : undefined;
      },
      { timeoutMs: 120_000, message: "all 8 pods bound" },
    );
    assert.equal(new Set(all.map((p) => p.spec?.nodeName)).size, 5, "spread over the 5 nodes (2+2+1+1+2)");
    await waitFor(
      async () => {
        const x = await getOrUndefined<PodGroup>(cluster.client, schedulingPath("PodGroup", ns, name));
        return x?.status?.conditions?.some((c) => c.type === "PodGroupScheduled" && c.status === "True");
      },
      { timeoutMs: 60_000, message: "PodGroupScheduled=True" },
    );
    const cleared = await waitFor(
      async () =>
        (await getJobSet(cluster.client, ns, "gang")).status?.conditions?.find(
          (c) => c.type === "WorkloadSchedulingBlocked" && c.status === "False",
        ),
      { timeoutMs: 60_000, message: "WorkloadSchedulingBlocked=False" },
    );
    assert.equal(cleared.reason, "PodGroupsScheduled");

    // (5) deletion: garbage collection (owner references) removes the Workload and the PodGroup.
    await cluster.client.delete(`${jobSetsPath(ns)}/gang`, { propagationPolicy: "Background" });
    await waitFor(
      async () =>
        !(await getOrUndefined<Workload>(cluster.client, schedulingPath("Workload", ns, name))) &&
        !(await getOrUndefined<PodGroup>(cluster.client, schedulingPath("PodGroup", ns, name))),
      { timeoutMs: 120_000, message: "Workload and PodGroup garbage-collected" },
    );
    await waitFor(async () => (await listPods(cluster.client, ns)).length === 0, {
      timeoutMs: 120_000,
      message: "the gang's pods gone",
    });
    await extra.stop(); // back to room for 6 for the control run
  });

  test("control run: the same JobSet without spec.scheduling binds 6 of its 8 pods", async (t) => {
    const ns = await stack.namespace(t);
    await cluster.client.create(jobSetsPath(ns), eightPods("plain", ns, false));
    const pods = await waitFor(
      async () => {
        const list = await listPods(cluster.client, ns);
        return list.length === 8 && bound(list).length === 6 ? list : undefined;
      },
      { timeoutMs: 120_000, message: "6 of 8 pods bound" },
    );
    assert.equal(bound(pods).length, 6);
    assert.equal(pods.filter((p) => p.spec?.schedulingGroup).length, 0);
  });
});
