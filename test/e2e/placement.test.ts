// Exclusive placement end to end (spec §7): our pod webhooks and pod controller registered with the
// full control plane, the real scheduler placing pods on fake nodes labelled by rack.
//
// Pods are exclusive across namespaces, so these tests use nodes of their own: every node here carries
// a taint no other test tolerates and a label the JobSets here select, and these JobSets never land on
// other nodes.
import assert from "node:assert/strict";
import { after, before, describe, type TestContext, test } from "node:test";
import {
  Annotations,
  JobCompletionIndexAnnotation,
  Labels,
  Messages,
  NamespacedJobKey,
  NoScheduleTaintKey,
  Reasons,
} from "../../src/api/constants.ts";
import type { Node, Pod } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { type FakeKubelet, NodeLabelKeys, startFakeKubelet } from "../../src/local/kubelet.ts";
import type { WatchEvent } from "../../src/runtime/client.ts";
import type { ReconcileOutcome } from "../../src/runtime/workqueue.ts";
import { jobSet, rjob } from "../builders.ts";
import { type TestCluster, useCluster, waitFor } from "../support/cluster.ts";
import { condition, jobSetsPath, listJobs, listPods, podsPath, waitJobSetCondition } from "../support/e2e.ts";
import { type Stack, startStack } from "../support/stack.ts";

const RACK = NodeLabelKeys.rack;
const RACKS = 4;
const sim = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`fake.jobset.x-k8s.io/${k}`, v]));
const isLeader = (p: Pod) => p.metadata?.annotations?.[JobCompletionIndexAnnotation] === "0";
const jobOf = (p: Pod) => p.metadata?.labels?.["batch.kubernetes.io/job-name"] ?? "";

describe("exclusive placement (full control plane, webhooks, pod controller)", () => {
  let cluster: TestCluster;
  let stack: Stack;
  let racks: FakeKubelet;
  const id = Math.random().toString(36).slice(2, 7);
  const dedicated = { key: "e2e.jobset-ts/placement", value: id };
  const rackOf = new Map<string, string>();
  /** Every reconcile of the pod controller: key, outcome, error message. */
  const podReconciles: { key: string; outcome: ReconcileOutcome; error: string }[] = [];

  before(async () => {
    cluster = await useCluster("full");
    stack = await startStack(cluster, {
      webhooks: true,
      onPodReconcile: (key, outcome, _s, error) =>
        podReconciles.push({ key, outcome, error: error instanceof Error ? error.message : String(error ?? "") }),
    });
    racks = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `rack-${id}`,
      nodes: Array.from({ length: RACKS * 2 }, (_, i) => ({
        rack: `rack-${Math.floor(i / 2)}`,
        labels: { [dedicated.key]: dedicated.value },
        taints: [{ key: dedicated.key, value: dedicated.value, effect: "NoSchedule" as const }],
      })),
      log: () => {},
    });
    for (const [i, n] of racks.nodeNames.entries()) rackOf.set(n, `rack-${Math.floor(i / 2)}`);
  });
  after(async () => {
    await stack?.stop();
    await racks?.stop();
  });

  /** A JobSet of `jobs` Jobs × 2 pods, exclusive per rack, confined to this file's rack nodes. */
  const exclusiveJobSet = (ns: string, name: string, jobs: number, duration: string): JobSet =>
    jobSet(name, ns)
      .annotations({ [Annotations.ExclusiveTopology]: RACK })
      .replicatedJob(
        rjob("workers")
          .replicas(jobs)
          .parallelism(2)
          .completions(2)
          .nodeSelector({ [dedicated.key]: dedicated.value })
          .tolerations({ key: dedicated.key, operator: "Equal", value: dedicated.value, effect: "NoSchedule" })
          .podAnnotations(sim({ duration })),
      )
      .obj();

  const podsOf = (ns: string, name: string) => listPods(cluster.client, ns, `${Labels.JobSetName}=${name}`);

  /** Job name → the racks of its scheduled pods. */
  const racksByJob = (pods: Pod[]) => {
    const m = new Map<string, Set<string>>();
    for (const p of pods) {
      const node = p.spec?.nodeName;
      if (!node) continue;
      const set = m.get(jobOf(p)) ?? new Set();
      set.add(rackOf.get(node) ?? `foreign node ${node}`);
      m.set(jobOf(p), set);
    }
    return m;
  };

  test("3 Jobs × 2 pods with exclusive-topology: each Job in one rack, no two Jobs in a rack", async (t) => {
    const ns = await stack.namespace(t);
    const name = "excl";
    await cluster.client.create(jobSetsPath(ns), exclusiveJobSet(ns, name, 3, "2s"));
    const pods = await waitFor(
      async () => {
        const ps = await podsOf(ns, name);
        return ps.length === 6 && ps.every((p) => p.spec?.nodeName) ? ps : undefined;
      },
      { message: "6 scheduled pods", timeoutMs: 60_000 },
    );
    const byJob = racksByJob(pods);
    assert.deepEqual([...byJob.keys()].sort(), [`${name}-workers-0`, `${name}-workers-1`, `${name}-workers-2`]);
    for (const [job, set] of byJob) assert.equal(set.size, 1, `${job} spans racks ${[...set]}`);
    const used = [...byJob.values()].map((s) => [...s][0]);
    assert.equal(new Set(used).size, 3, `racks used: ${used}`);

    for (const p of pods) {
      const priority = p.metadata?.labels?.[Labels.Priority];
      assert.equal(priority, "0", `${p.metadata?.name} priority label`);
      if (isLeader(p)) {
        // leader: affinity to its own Job and anti-affinity to other Jobs, both on the rack key
        const aff = p.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
        const anti = p.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
        assert.deepEqual(
          aff.map((a) => a.topologyKey),
          [RACK],
        );
        assert.deepEqual(
          anti.map((a) => a.topologyKey),
          [RACK],
        );
        assert.equal(p.spec?.nodeSelector?.[RACK], undefined);
      } else {
        // follower: pinned by nodeSelector to its leader's rack
        const leader = pods.find((q) => isLeader(q) && jobOf(q) === jobOf(p));
        assert.equal(p.spec?.nodeSelector?.[RACK], rackOf.get(leader?.spec?.nodeName ?? ""), p.metadata?.name);
        assert.equal(p.spec?.affinity, undefined);
      }
    }
    await waitJobSetCondition(cluster.client, ns, name, "Completed");
  });

  test("more Jobs than racks: the extra Job's pods stay Pending until a rack frees up, then run", async (t) => {
    const ns = await stack.namespace(t);
    const name = "excess";
    const jobs = RACKS + 1;
    await cluster.client.create(jobSetsPath(ns), exclusiveJobSet(ns, name, jobs, "4s"));
    // 4 Jobs hold the 4 racks; the fifth Job's leader is unschedulable and its follower is not admitted
    const { pods, waiting } = await waitFor(
      async () => {
        const ps = await podsOf(ns, name);
        const byJob = racksByJob(ps);
        if (byJob.size !== RACKS) return undefined;
        const running = ps.filter((p) => p.spec?.nodeName && p.status?.phase === "Running");
        if (running.length !== 2 * RACKS) return undefined;
        const unscheduled = ps.filter((p) => !p.spec?.nodeName);
        const w = unscheduled.find((p) =>
          p.status?.conditions?.some(
            (c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable",
          ),
        );
        return w ? { pods: ps, waiting: w } : undefined;
      },
      { message: "4 Jobs running on 4 racks and an unschedulable leader", timeoutMs: 60_000, intervalMs: 50 },
    );
    assert.ok(isLeader(waiting), "the waiting pod is a leader");
    const waitingJob = jobOf(waiting);
    assert.ok(!racksByJob(pods).has(waitingJob));
    assert.deepEqual(
      pods.filter((p) => jobOf(p) === waitingJob).map((p) => p.status?.phase),
      ["Pending"],
      "only the leader exists: the follower is refused until the leader is scheduled",
    );
    for (const set of racksByJob(pods).values()) assert.equal(set.size, 1);
    assert.equal(new Set([...racksByJob(pods).values()].map((s) => [...s][0])).size, RACKS);

    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed", 90_000);
    assert.ok(condition(done, "Completed"));
    const after = await podsOf(ns, name);
    const late = after.filter((p) => jobOf(p) === waitingJob);
    assert.equal(late.length, 2);
    const lateRacks = racksByJob(late).get(waitingJob);
    assert.equal(lateRacks?.size, 1, "the late Job's pods share one rack");
    assert.ok(late.every((p) => p.status?.phase === "Succeeded"));
    // the late Job started only after another Job in its rack had finished
    const rack = [...(lateRacks ?? [])][0];
    const lateStart = Math.min(...late.map((p) => Date.parse(p.status?.startTime ?? "")));
    const earlier = after.filter((p) => jobOf(p) !== waitingJob && rackOf.get(p.spec?.nodeName ?? "") === rack);
    assert.equal(earlier.length, 2, "one earlier Job ran in that rack");
    const earlierEnd = Math.max(
      ...earlier.map((p) =>
        Date.parse(p.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? "9999-01-01T00:00:00Z"),
      ),
    );
    assert.ok(lateStart >= earlierEnd - 1000, `late start ${lateStart} vs earlier end ${earlierEnd}`);
  });

  test("node-selector strategy: pods are placed by the namespaced-job nodeSelector on pre-labelled, tainted nodes", async (t) => {
    const ns = await stack.namespace(t);
    const name = "nsel";
    // Like upstream's hack/label_nodes: one node pool (here 2 nodes) per Job, labelled and tainted.
    const pools = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `nsel-${id}`,
      nodes: [0, 0, 1, 1].map((j) => ({
        rack: `pool-${j}`,
        labels: { [NamespacedJobKey]: `${ns}_${name}-workers-${j}` },
        taints: [
          { key: NoScheduleTaintKey, value: "true", effect: "NoSchedule" as const },
          { key: dedicated.key, value: dedicated.value, effect: "NoSchedule" as const },
        ],
      })),
      log: () => {},
    });
    t.after(() => pools.stop());
    const js = jobSet(name, ns)
      .annotations({ [Annotations.ExclusiveTopology]: RACK, [Annotations.NodeSelectorStrategy]: "true" })
      .replicatedJob(
        rjob("workers")
          .replicas(2)
          .parallelism(2)
          .completions(2)
          .tolerations({ key: dedicated.key, operator: "Equal", value: dedicated.value, effect: "NoSchedule" })
          .podAnnotations(sim({ duration: "500ms" })),
      )
      .obj();
    await cluster.client.create(jobSetsPath(ns), js);
    await waitJobSetCondition(cluster.client, ns, name, "Completed");
    const pods = await podsOf(ns, name);
    assert.equal(pods.length, 4);
    const nodes = new Map(
      await Promise.all(
        pools.nodeNames.map(async (n) => [n, await cluster.client.get<Node>(`/api/v1/nodes/${n}`)] as const),
      ),
    );
    for (const p of pods) {
      const want = `${ns}_${jobOf(p)}`;
      assert.equal(p.spec?.nodeSelector?.[NamespacedJobKey], want, p.metadata?.name);
      assert.ok(
        p.spec?.tolerations?.some((tol) => tol.key === NoScheduleTaintKey && tol.operator === "Exists"),
        `${p.metadata?.name} tolerates the no-schedule taint`,
      );
      const node = nodes.get(p.spec?.nodeName ?? "");
      assert.equal(node?.metadata?.labels?.[NamespacedJobKey], want, `${p.metadata?.name} on ${p.spec?.nodeName}`);
      // the pod webhooks leave node-selector-strategy pods alone (spec §7.2 step 2)
      assert.equal(p.spec?.affinity, undefined);
      assert.equal(p.metadata?.labels?.[Labels.Priority], undefined);
    }
  });

  /** Records every pod event in `ns` from now on, until the test ends. */
  const recordPodEvents = async (t: TestContext, ns: string): Promise<WatchEvent<Pod>[]> => {
    const events: WatchEvent<Pod>[] = [];
    const start = await cluster.client.list<Pod>(podsPath(ns));
    const abort = new AbortController();
    const watching = (async () => {
      for await (const ev of cluster.client.watch<Pod>(
        podsPath(ns),
        { resourceVersion: start.metadata.resourceVersion },
        abort.signal,
      ))
        events.push(ev);
    })().catch(() => {});
    t.after(async () => {
      abort.abort();
      await watching;
    });
    return events;
  };

  const hasViolation = (p: Pod) =>
    p.status?.conditions?.some(
      (c) =>
        c.type === "DisruptionTarget" &&
        c.status === "True" &&
        c.reason === Reasons.ExclusivePlacementViolation &&
        c.message === Messages.ExclusivePlacementViolation,
    ) ?? false;

  test("pod controller (spec §7.4): the leader's node moves to another rack → follower marked DisruptionTarget, deleted, recreated in the new rack", async (t) => {
    const ns = await stack.namespace(t);
    const name = "repair";
    const js = jobSet(name, ns)
      .annotations({ [Annotations.ExclusiveTopology]: RACK })
      .replicatedJob(
        rjob("workers")
          // One follower: the Job controller delays a replacement by 10 s per pod failed since the last
          // success (even failures its podFailurePolicy ignores), doubling, so each extra follower costs 10 s.
          .parallelism(2)
          .completions(2)
          .restartPolicy("Never")
          .nodeSelector({ [dedicated.key]: dedicated.value })
          .tolerations({ key: dedicated.key, operator: "Equal", value: dedicated.value, effect: "NoSchedule" })
          .podAnnotations(sim({ duration: "forever" })),
      )
      .obj();
    // The condition is there so that a podFailurePolicy can ignore these deletions: use one.
    const jobSpec = js.spec?.replicatedJobs?.[0]?.template.spec;
    assert.ok(jobSpec);
    jobSpec.podFailurePolicy = { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }] };
    await cluster.client.create(jobSetsPath(ns), js);
    const running = await waitFor(
      async () => {
        const ps = await podsOf(ns, name);
        return ps.length === 2 && ps.every((p) => p.spec?.nodeName && p.status?.phase === "Running") ? ps : undefined;
      },
      { message: "2 running pods", timeoutMs: 30_000 },
    );
    const leader = running.find(isLeader);
    assert.ok(leader?.metadata?.name && leader.spec?.nodeName);
    const leaderNode = leader.spec.nodeName;
    const oldRack = rackOf.get(leaderNode);
    assert.ok(oldRack);
    const followers = running.filter((p) => !isLeader(p));
    for (const f of followers) assert.equal(f.spec?.nodeSelector?.[RACK], oldRack);

    // The leader's node now belongs to a rack of its own: the follower's nodeSelector no longer matches it.
    const newRack = `moved-${id}`;
    const nodePath = `/api/v1/nodes/${leaderNode}`;
    const events = await recordPodEvents(t, ns);
    t.after(() => cluster.client.patch(nodePath, { metadata: { labels: { [RACK]: oldRack } } }, "merge"));
    await cluster.client.patch(nodePath, { metadata: { labels: { [RACK]: newRack } } }, "merge");
    // A leader event makes the controller look again.
    await cluster.client.patch(
      `${podsPath(ns)}/${leader.metadata.name}`,
      { metadata: { annotations: { "e2e.jobset-ts/poke": "1" } } },
      "merge",
    );

    const oldUids = new Set(followers.map((f) => f.metadata?.uid));
    const ofOld = (ev: WatchEvent<Pod>) => oldUids.has(ev.object.metadata?.uid);
    await waitFor(
      () => [...oldUids].every((u) => events.some((ev) => ev.type === "DELETED" && ev.object.metadata?.uid === u)),
      {
        message: "the original follower to be deleted",
        timeoutMs: 20_000,
      },
    );
    for (const uid of oldUids) {
      const seen = events.filter((ev) => ev.object.metadata?.uid === uid).map((ev) => ev.object);
      // marked before it was deleted: the first version with a deletionTimestamp already carries the condition
      const firstDeleting = seen.find((p) => p.metadata?.deletionTimestamp);
      assert.ok(firstDeleting && hasViolation(firstDeleting), `follower ${uid} marked before deletion`);
    }
    assert.ok(
      events
        .filter(ofOld)
        .every((ev) => ev.type === "DELETED" || !ev.object.metadata?.deletionTimestamp || hasViolation(ev.object)),
    );

    // The Job controller recreates it; the webhook pins it to the leader's new rack, i.e. its node.
    const replaced = await waitFor(
      async () => {
        const ps = await podsOf(ns, name);
        const fresh = ps.filter((p) => !isLeader(p) && !oldUids.has(p.metadata?.uid));
        return fresh.length === 1 && fresh.every((p) => p.status?.phase === "Running") ? { ps, fresh } : undefined;
      },
      { message: "a new running follower", timeoutMs: 30_000 },
    );
    for (const f of replaced.fresh) {
      assert.equal(f.spec?.nodeSelector?.[RACK], newRack, f.metadata?.name);
      assert.equal(f.spec?.nodeName, leaderNode, f.metadata?.name);
      assert.ok(!hasViolation(f));
    }
    // The leader was left alone; the deletions did not count as Job failures (podFailurePolicy Ignore).
    const leaders = replaced.ps.filter(isLeader);
    assert.deepEqual(
      leaders.map((p) => p.metadata?.uid),
      [leader.metadata.uid],
    );
    assert.ok(
      !events.some((ev) => ev.object.metadata?.uid === leader.metadata?.uid && ev.object.metadata?.deletionTimestamp),
    );
    const [job] = await listJobs(cluster.client, ns, name);
    assert.equal(job?.status?.failed ?? 0, 0);
    assert.equal((await cluster.client.get<JobSet>(`${jobSetsPath(ns)}/${name}`)).status?.restarts ?? 0, 0);
  });

  test("pod controller: leader's node not found → error and retry, no follower deleted", async (t) => {
    const ns = await stack.namespace(t);
    // Hand-made pods of one "Job" (a ConfigMap as controller owner), bound to a node that does not
    // exist, so neither the scheduler nor a kubelet touches them. No jobset-name annotation: the pod
    // webhooks leave them alone; the pod controller only needs the exclusive-topology annotation.
    const owner = await cluster.client.create<{ metadata: { name: string; uid: string } }>(
      `/api/v1/namespaces/${ns}/configmaps`,
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owner" } },
    );
    const ghost = `ghost-${id}`;
    const pod = (index: string, extra: Partial<NonNullable<Pod["spec"]>>): Pod => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `ghost-workers-0-${index}-abcde`,
        labels: { [Labels.JobSetName]: "ghost", [Labels.JobKey]: `key-${id}` },
        annotations: { [Annotations.ExclusiveTopology]: RACK, [JobCompletionIndexAnnotation]: index },
        ownerReferences: [
          { apiVersion: "v1", kind: "ConfigMap", name: owner.metadata.name, uid: owner.metadata.uid, controller: true },
        ],
      },
      spec: { nodeName: ghost, containers: [{ name: "c", image: "i" }], ...extra },
    });
    const follower = await cluster.client.create<Pod>(podsPath(ns), pod("1", { nodeSelector: { [RACK]: "rack-0" } }));
    t.after(() =>
      Promise.all(
        ["0", "1"].map((i) =>
          cluster.client
            .delete(`${podsPath(ns)}/ghost-workers-0-${i}-abcde`, { gracePeriodSeconds: 0 })
            .catch(() => {}),
        ),
      ),
    );
    const leader = await cluster.client.create<Pod>(podsPath(ns), pod("0", {}));
    const key = `${ns}/${leader.metadata?.name}`;
    // The controller tries, fails, and tries again (backoff) without deleting anything.
    await waitFor(
      () =>
        podReconciles.filter(
          (r) => r.key === key && r.outcome === "error" && r.error === "leader topology is unknown (node not found)",
        ).length >= 2,
      { message: `two failed reconciles of ${key}`, timeoutMs: 20_000 },
    );
    const now = await cluster.client.get<Pod>(`${podsPath(ns)}/${follower.metadata?.name}`);
    assert.equal(now.metadata?.uid, follower.metadata?.uid);
    assert.equal(now.metadata?.deletionTimestamp, undefined);
    assert.ok(!now.status?.conditions?.some((c) => c.type === "DisruptionTarget"));
  });
});
