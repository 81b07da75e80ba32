// Gang scheduling end to end on the full control plane serving the Workload API (the real
// kube-scheduler with its GangScheduling and topology plugins, kube-controller-manager with the Job,
// garbage collector and podgroup-protection controllers) and fake nodes of known CPU capacity. Each
// scenario has its own nodes (label jobset-ts.test/gang-nodes=<set>) and pins its pods to them.
//
//   (1) 4 nodes with cpu 2/2/1/1 (room for 6 one-CPU pods), a gang of 2 Jobs × 4 pods: no pod binds,
//       the PodGroup reports Unschedulable, the JobSet says so; the same JobSet without
//       spec.scheduling (control run) binds 6;
//       `jobset run` of that gang says which PodGroup cannot be placed and that 6 of its 8 pods
//       fit; `jobset tree` and `describe` show the PodGroup Unschedulable;
//   (2) a fifth node (cpu 2): all 8 bind, PodGroupScheduled=True, the JobSet's condition clears;
//   (3) 2 racks of 2 nodes (cpu 2 each, label topology.kubernetes.io/rack as `jobset up --racks 2`
//       sets it) and a topology constraint on the rack: a 4-pod gang lands in one rack; a 6-pod gang
//       (room for 8 in all, 4 per rack) binds nothing;
//   (4) a pod fails, the JobSet restarts: the new attempt is gang-scheduled again under the same
//       PodGroup (with room for only 7 of its 8 pods none binds; with room for 8 all do);
//   (5) deleting the JobSet lets garbage collection remove its Workload and PodGroup.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Labels } from "../../src/api/constants.ts";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import type { Pod } from "../../src/api/k8s.ts";
import { workloadName } from "../../src/api/scheduling.ts";
import type { JobSet, JobSetScheduling } from "../../src/api/types.ts";
import { RackLabel, rackOf } from "../../src/cli/node-flags.ts";
import type { PodGroup, Workload } from "../../src/controller/scheduling.ts";
import { schedulingPath } from "../../src/controllers/jobset/scheduling-objects.ts";
import { type FakeKubelet, type NodeSpec, SimPrefix, startFakeKubelet } from "../../src/local/kubelet.ts";
import type { KubeClient } from "../../src/runtime/client.ts";
import { jobSet, rjob } from "../builders.ts";
import { getIfExists, type TestCluster, useCluster, waitFor } from "../support/cluster.ts";
import { getJobSet, jobSetsPath, listPods, pinToNodes, podsPath } from "../support/e2e.ts";
import { type Stack, startStack } from "../support/stack.ts";

const Bin = join(import.meta.dirname, "../../bin/jobset.js");
const on: FeatureGates = { ...defaultFeatureGates, JobSetWorkloadAwareSchedulingAPI: true };
const NodeSet = "jobset-ts.test/gang-nodes";
const forever = { [`${SimPrefix}duration`]: "forever" };

/** `jobs` Jobs × `pods` pods, each pod requesting 1 CPU and running until deleted, pinned to node set `set`. */
function gangJobSet(
  name: string,
  ns: string,
  o: { set: string; jobs: number; pods: number; scheduling?: JobSetScheduling; maxRestarts?: number },
): JobSet {
  let b = jobSet(name, ns);
  if (o.maxRestarts !== undefined) b = b.failurePolicy({ maxRestarts: o.maxRestarts });
  const js = b
    .replicatedJob(
      rjob("workers")
        .replicas(o.jobs)
        .parallelism(o.pods)
        .completions(o.pods)
        .backoffLimit(0)
        .restartPolicy("Never")
        .containers({ name: "main", image: "busybox", resources: { requests: { cpu: "1" } } })
        .podAnnotations(forever),
    )
    .obj();
  if (o.scheduling && js.spec) js.spec.scheduling = o.scheduling;
  return pinToNodes(js, NodeSet, o.set);
}

const gang: JobSetScheduling = { schedulingPolicy: { gang: {} } };

const bound = (pods: Pod[]) => pods.filter((p) => p.spec?.nodeName);

const podGroupScheduled = (pg: PodGroup | undefined) =>
  pg?.status?.conditions?.find((c) => c.type === "PodGroupScheduled");

/** Waits until the PodGroup's PodGroupScheduled condition has `status`; returns the PodGroup. */
function waitPodGroup(client: KubeClient, ns: string, name: string, status: "True" | "False"): Promise<PodGroup> {
  return waitFor(
    async () => {
      const pg = await getIfExists<PodGroup>(client, schedulingPath("PodGroup", ns, name));
      return podGroupScheduled(pg)?.status === status ? pg : undefined;
    },
    { timeoutMs: 120_000, message: `PodGroup ${ns}/${name} PodGroupScheduled=${status}` },
  );
}

/** Waits until `count` pods match `selector` in `ns` and `ok` holds for them; returns them. */
function waitPods(
  client: KubeClient,
  ns: string,
  count: number,
  ok: (pods: Pod[]) => boolean,
  message: string,
  selector?: string,
): Promise<Pod[]> {
  return waitFor(
    async () => {
      const pods = await listPods(client, ns, selector);
      return pods.length === count && ok(pods) ? pods : undefined;
    },
    { timeoutMs: 120_000, message },
  );
}

const unschedulable = (p: Pod) => {
  const c = p.status?.conditions?.find((x) => x.type === "PodScheduled");
  return c?.status === "False" && c.reason === "Unschedulable";
};

describe("gang scheduling on the real kube-scheduler (full control plane, Workload API)", () => {
  let cluster: TestCluster;
  let stack: Stack;
  const kubelets: FakeKubelet[] = [];
  /** A fake kubelet serving nodes `specs`, labelled node set `set`. */
  const nodes = async (set: string, specs: NodeSpec[]): Promise<FakeKubelet> => {
    const k = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `gang-${set}`,
      nodes: specs.map((s) => ({ ...s, labels: { ...s.labels, [NodeSet]: set } })),
      log: () => {},
    });
    kubelets.push(k);
    return k;
  };
  before(async () => {
    cluster = await useCluster("full", { workloadApi: true });
    stack = await startStack(cluster, { webhooks: true, gates: on });
  });
  after(async () => {
    await stack?.stop();
    for (const k of kubelets) await k.stop();
  });

  test("(1, 2, 5) 8 pods on room for 6: none binds, the PodGroup and the JobSet say Unschedulable; room for 8: all bind; deleting the JobSet removes the Workload and PodGroup", async (t) => {
    const ns = await stack.namespace(t);
    await nodes(
      "s6",
      ["2", "2", "1", "1"].map((cpu) => ({ cpu })),
    );
    const js = gangJobSet("gang", ns, { set: "s6", jobs: 2, pods: 4, scheduling: gang });
    await cluster.client.create(jobSetsPath(ns), js);
    const name = workloadName(js);
    const pg = await waitPodGroup(cluster.client, ns, name, "False");
    assert.equal(pg.spec?.schedulingPolicy.gang?.minCount, 8);
    assert.equal(podGroupScheduled(pg)?.reason, "Unschedulable");
    const pods = await waitPods(cluster.client, ns, 8, () => true, "8 pods");
    assert.deepEqual(
      bound(pods).map((p) => p.metadata?.name),
      [],
      "no pod of the gang is bound",
    );
    for (const p of pods) {
      assert.equal(p.spec?.schedulingGroup?.podGroupName, name);
      assert.ok(unschedulable(p), `${p.metadata?.name}: PodScheduled=False/Unschedulable`);
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
    const extra = await nodes("s6", [{ name: "gang-s6-extra", cpu: "2" }]);
    const all = await waitPods(cluster.client, ns, 8, (l) => bound(l).length === 8, "all 8 pods bound");
    assert.equal(new Set(all.map((p) => p.spec?.nodeName)).size, 5, "spread over the 5 nodes (2+2+1+1+2)");
    await waitPodGroup(cluster.client, ns, name, "True");
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
        !(await getIfExists<Workload>(cluster.client, schedulingPath("Workload", ns, name))) &&
        !(await getIfExists<PodGroup>(cluster.client, schedulingPath("PodGroup", ns, name))),
      { timeoutMs: 120_000, message: "Workload and PodGroup garbage-collected" },
    );
    await waitFor(async () => (await listPods(cluster.client, ns)).length === 0, {
      timeoutMs: 120_000,
      message: "the gang's pods gone",
    });
    await extra.stop(); // back to room for 6 for the control run
  });

  test("(1) control run: the same JobSet without spec.scheduling binds 6 of its 8 pods", async (t) => {
    const ns = await stack.namespace(t);
    await cluster.client.create(jobSetsPath(ns), gangJobSet("plain", ns, { set: "s6", jobs: 2, pods: 4 }));
    const pods = await waitPods(cluster.client, ns, 8, (l) => bound(l).length === 6, "6 of 8 pods bound");
    assert.equal(pods.filter((p) => p.spec?.schedulingGroup).length, 0);
  });

  test("(1) jobset run of a gang that cannot fit says which PodGroup and how many of its pods are placeable; tree and describe show the PodGroup", async (t) => {
    const ns = await stack.namespace(t);
    await nodes(
      "cli",
      ["2", "2", "1", "1"].map((cpu) => ({ cpu })),
    );
    const js = gangJobSet("cli-gang", ns, { set: "cli", jobs: 2, pods: 4, scheduling: gang });
    const dir = await mkdtemp(join(tmpdir(), "gang-cli-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "gang.json");
    await writeFile(file, JSON.stringify(js));
    const cli = (args: string[]) =>
      spawn(process.execPath, [Bin, ...args, "--kubeconfig", cluster.kubeconfigPath, "--namespace", ns], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      });
    const output = (child: ReturnType<typeof cli>) => {
      const o = { out: "", err: "", code: undefined as number | null | undefined };
      child.stdout?.on("data", (d: Buffer) => {
        o.out += d.toString();
      });
      child.stderr?.on("data", (d: Buffer) => {
        o.err += d.toString();
      });
      const done = new Promise<void>((r) =>
        child.on("exit", (code) => {
          o.code = code;
          r();
        }),
      );
      return { o, done };
    };
    const run = cli(["run", file]);
    const r = output(run);
    t.after(async () => {
      if (r.o.code === undefined) {
        run.kill("SIGINT");
        await r.done;
      }
    });
    const name = workloadName(js);
    const line = await waitFor(
      () => r.o.out.split("\n").find((l) => l.includes(`PodGroup ${name} cannot be placed: 6 of 8 pods placeable`)),
      { timeoutMs: 120_000, message: `jobset run saying PodGroup ${name} cannot be placed` },
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; jobset run printed:\n${r.o.out}${r.o.err}`);
    });
    t.diagnostic(`jobset run says: ${line}`);
    assert.match(line, /^jobset cli-gang: PodGroup \S+ cannot be placed: 6 of 8 pods placeable \(gang minCount 8\) — /);
    assert.match(line, /nodes are available/, "the scheduler's reason for the pods that do not fit");

    const tree = cli(["tree", "cli-gang"]);
    const tr = output(tree);
    await tr.done;
    assert.equal(tr.o.code, 0, tr.o.err);
    assert.match(tr.o.out, new RegExp(`^Workload ${name}$`, "m"));
    assert.match(
      tr.o.out,
      new RegExp(`^└─ PodGroup ${name}  Unschedulable  gang minCount 8; 6 of 8 pods placeable, 0 bound$`, "m"),
    );
    const describe = cli(["describe", "cli-gang"]);
    const dr = output(describe);
    await dr.done;
    assert.equal(dr.o.code, 0, dr.o.err);
    assert.match(
      dr.o.out,
      new RegExp(`^ {4}${name} +Unschedulable +gang\\(8\\) +- +8 +0 +6 +0/1 placements are available`, "m"),
    );

    run.kill("SIGINT");
    await r.done;
    assert.equal(r.o.code, 130, r.o.err);
  });

  test("(3) topology on the rack label: a 4-pod gang lands in one rack; a 6-pod gang (room for 8, 4 per rack) binds nothing", async (t) => {
    const ns = await stack.namespace(t);
    // As `jobset up --nodes 4 --node-cpu 2 --racks 2` makes them: rack-0, rack-0, rack-1, rack-1.
    const racks = Array.from({ length: 4 }, (_, i) => rackOf(i, 4, 2));
    await nodes(
      "racks",
      racks.map((rack) => ({ cpu: "2", labels: { [RackLabel]: rack } })),
    );
    const rackOfNode = new Map(racks.map((r, i) => [`gang-racks-${i}`, r]));
    const inOneRack: JobSetScheduling = {
      schedulingPolicy: { gang: {} },
      schedulingConstraints: { topology: [{ key: RackLabel }] },
    };

    const big = gangJobSet("six", ns, { set: "racks", jobs: 1, pods: 6, scheduling: inOneRack });
    await cluster.client.create(jobSetsPath(ns), big);
    const bigPg = await waitPodGroup(cluster.client, ns, workloadName(big), "False");
    assert.deepEqual(
      bigPg.spec?.schedulingConstraints?.topology,
      [{ key: RackLabel }],
      "the server kept the constraint",
    );
    const sel = (js: string) => `${Labels.JobSetName}=${js}`;
    const bigPods = await waitPods(cluster.client, ns, 6, (l) => l.every(unschedulable), "6 unschedulable", sel("six"));
    assert.equal(bound(bigPods).length, 0);

    const small = gangJobSet("four", ns, { set: "racks", jobs: 1, pods: 4, scheduling: inOneRack });
    await cluster.client.create(jobSetsPath(ns), small);
    const smallPods = await waitPods(cluster.client, ns, 4, (l) => bound(l).length === 4, "4 bound", sel("four"));
    const used = new Set(smallPods.map((p) => rackOfNode.get(p.spec?.nodeName ?? "")));
    assert.equal(used.size, 1, `one rack: ${smallPods.map((p) => p.spec?.nodeName).join(", ")}`);
    assert.ok(!used.has(undefined), "on the rack nodes");
    await waitPodGroup(cluster.client, ns, workloadName(small), "True");
    // The other rack has room for 4 of the 6: still nothing of the big gang binds.
    const still = await listPods(cluster.client, ns, sel("six"));
    assert.equal(bound(still).length, 0);
  });

  test("(4) a failure restart gang-schedules the new attempt under the same PodGroup: room for 7 of 8 binds none, room for 8 binds all", async (t) => {
    const ns = await stack.namespace(t);
    const kubelet = await nodes(
      "restart",
      ["2", "2", "2", "2"].map((cpu) => ({ cpu })),
    );
    const js = gangJobSet("again", ns, { set: "restart", jobs: 2, pods: 4, scheduling: gang, maxRestarts: 1 });
    await cluster.client.create(jobSetsPath(ns), js);
    const name = workloadName(js);
    const attempt = (n: number) => `${Labels.JobSetName}=again,${Labels.RestartAttempt}=${n}`;
    const first = await waitPods(cluster.client, ns, 8, (l) => bound(l).length === 8, "attempt 0 bound", attempt(0));
    const pg0 = await waitPodGroup(cluster.client, ns, name, "True");

    // A pod placed by hand (no scheduler) takes 1 of the 8 CPUs for good: the next attempt fits 7 pods.
    const hog = await cluster.client.create<Pod>(podsPath(ns), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "hog", annotations: forever },
      spec: {
        nodeName: first[0]?.spec?.nodeName ?? "",
        restartPolicy: "Never",
        containers: [{ name: "main", image: "busybox", resources: { requests: { cpu: "1" } } }],
      },
    });
    assert.ok(hog.metadata?.uid);
    await kubelet.completePod(ns, first[0]?.metadata?.name ?? "", 1); // fails its Job (backoffLimit 0)

    const second = await waitPods(
      cluster.client,
      ns,
      8,
      (l) => l.every(unschedulable),
      "attempt 1: 8 pods, all unschedulable",
      attempt(1),
    );
    assert.equal(bound(second).length, 0, "none of the new attempt binds on room for 7");
    for (const p of second) assert.equal(p.spec?.schedulingGroup?.podGroupName, name);
    const pg1 = await getIfExists<PodGroup>(cluster.client, schedulingPath("PodGroup", ns, name));
    assert.equal(pg1?.metadata?.uid, pg0.metadata?.uid, "the restart keeps the PodGroup");
    assert.equal((await getJobSet(cluster.client, ns, "again")).status?.restarts, 1);

    await cluster.client.delete(`${podsPath(ns)}/hog`, { gracePeriodSeconds: 0 });
    const placed = await waitPods(cluster.client, ns, 8, (l) => bound(l).length === 8, "attempt 1 bound", attempt(1));
    assert.equal(new Set(placed.map((p) => p.spec?.nodeName)).size, 4);
  });
});
