// The fake kubelet against the full control plane: the real Job controller, scheduler and garbage
// collector count and clean up the pods it drives.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Container, Job, Pod } from "../../src/api/k8s.ts";
import { type FakeKubelet, SimAnnotations, startFakeKubelet } from "../../src/local/kubelet.ts";
import { liveProcessGroups } from "../../src/local/kubelet-exec.ts";
import { isNotFound } from "../../src/runtime/client.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";

const EXEC_TAINT = { key: "fake.jobset.x-k8s.io/exec", value: "true", effect: "NoSchedule" as const };
const JOBS = (ns: string) => `/apis/batch/v1/namespaces/${ns}/jobs`;
const PODS = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
/** Other test files may run fake kubelets on the same cluster: pods are pinned to this file's nodes. */
const suffix = Math.random().toString(36).slice(2, 7);
const POOL_LABEL = "kubelet-e2e.jobset.x-k8s.io/owner";

type JobPodSpec = NonNullable<NonNullable<NonNullable<Job["spec"]>["template"]>["spec"]>;

function job(
  name: string,
  spec: Partial<NonNullable<Job["spec"]>>,
  pod: Partial<JobPodSpec> = {},
  annotations: Record<string, string> = {},
  labels: Record<string, string> = {},
): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      completionMode: "Indexed",
      completions: 1,
      parallelism: 1,
      backoffLimit: 0,
      ...spec,
      template: {
        metadata: { annotations, labels },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "main", image: "busybox" }],
          nodeSelector: { [POOL_LABEL]: suffix },
          ...pod,
        },
      },
    },
  };
}

describe("fake kubelet (full control plane)", () => {
  let cluster: TestCluster;
  let sim: FakeKubelet;
  let exec: FakeKubelet;

  before(async () => {
    cluster = await useCluster("full");
    sim = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `sim-${suffix}`,
      nodes: [
        { zone: "zone-a", pool: "pool-a", labels: { [POOL_LABEL]: suffix } },
        { zone: "zone-a", pool: "pool-b", labels: { [POOL_LABEL]: suffix } },
        { zone: "zone-b", labels: { [POOL_LABEL]: suffix } },
      ],
      defaultDurationMs: 300,
    });
    exec = await startFakeKubelet({
      client: cluster.client,
      nodes: [{ name: `exec-${suffix}`, taints: [EXEC_TAINT], labels: { [POOL_LABEL]: suffix } }],
      runtime: "exec",
    });
  });
  after(async () => {
    await exec?.stop();
    await sim?.stop();
    assert.equal(liveProcessGroups(), 0, "no process of the exec runtime outlives the kubelet");
  });

  const getJob = (ns: string, name: string) => cluster.client.get<Job>(`${JOBS(ns)}/${name}`);
  const jobPods = async (ns: string, name: string) =>
    (await cluster.client.list<Pod>(PODS(ns), { labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
  const waitCondition = (ns: string, name: string, type: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const j = await getJob(ns, name);
        return j.status?.conditions?.find((c) => c.type === type && c.status === "True") ? j : undefined;
      },
      { timeoutMs, message: `Job ${ns}/${name} condition ${type}` },
    );

  test("nodes are registered Ready with their labels and no taints beyond the requested ones", async () => {
    for (const name of sim.nodeNames) {
      const n = await cluster.client.get<{
        metadata: { labels: Record<string, string> };
        spec: { taints?: unknown[] };
        status: { conditions: { type: string; status: string }[] };
      }>(`/api/v1/nodes/${name}`);
      assert.equal(n.metadata.labels["kubernetes.io/hostname"], name);
      assert.equal(n.status.conditions.find((c) => c.type === "Ready")?.status, "True");
      assert.equal(n.spec.taints, undefined);
    }
    const n0 = await cluster.client.get<{ metadata: { labels: Record<string, string> } }>(
      `/api/v1/nodes/${sim.nodeNames[0]}`,
    );
    assert.equal(n0.metadata.labels["topology.kubernetes.io/zone"], "zone-a");
    assert.equal(n0.metadata.labels["cloud.google.com/gke-nodepool"], "pool-a");
  });

  test("an Indexed Job (completions 4, parallelism 4) completes", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(JOBS(ns), job("indexed", { completions: 4, parallelism: 4 }));
    const j = await waitCondition(ns, "indexed", "Complete");
    assert.equal(j.status?.succeeded, 4);
    assert.equal(j.status?.completedIndexes, "0-3");
    assert.ok(j.status?.conditions?.some((c) => c.type === "SuccessCriteriaMet" && c.status === "True"));
    const pods = await jobPods(ns, "indexed");
    assert.equal(pods.length, 4);
    assert.equal(new Set(pods.map((p) => p.status?.podIP)).size, 4, "unique pod IPs");
    for (const p of pods) {
      assert.equal(p.status?.phase, "Succeeded");
      assert.ok(sim.nodeNames.includes(p.spec?.nodeName ?? ""));
      assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
      assert.ok(p.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "True"));
    }
  });

  test("a pod exiting 1 with backoffLimit 0 fails the Job with BackoffLimitExceeded", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(JOBS(ns), job("fails", {}, {}, { [SimAnnotations.ExitCode]: "1" }));
    const j = await waitCondition(ns, "fails", "Failed");
    assert.equal(j.status?.conditions?.find((c) => c.type === "Failed")?.reason, "BackoffLimitExceeded");
    assert.equal(j.status?.failed, 1);
    const [p] = await jobPods(ns, "fails");
    assert.equal(p?.status?.phase, "Failed");
    assert.equal(p?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 1);
  });

  test("fail-indexes: only the listed index fails", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(
      JOBS(ns),
      job(
        "some-fail",
        { completions: 3, parallelism: 3, backoffLimitPerIndex: 0, backoffLimit: undefined },
        {},
        {
          [SimAnnotations.FailIndexes]: "1",
          [SimAnnotations.FailExitCode]: "7",
        },
      ),
    );
    const j = await waitCondition(ns, "some-fail", "Failed");
    assert.equal(j.status?.failedIndexes, "1");
    assert.equal(j.status?.completedIndexes, "0,2");
  });

  test("readiness counts, then completePod drives the pods by hand", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(
      JOBS(ns),
      job("manual", { completions: 2, parallelism: 2 }, {}, { [SimAnnotations.Duration]: "forever" }),
    );
    await waitFor(async () => (await getJob(ns, "manual")).status?.ready === 2, { message: "2 ready pods" });
    for (const p of await jobPods(ns, "manual")) await sim.completePod(ns, p.metadata?.name ?? "", 0);
    const j = await waitCondition(ns, "manual", "Complete");
    assert.equal(j.status?.succeeded, 2);
  });

  test("restartPolicy OnFailure restarts the container in place", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(
      JOBS(ns),
      job(
        "onfailure",
        { backoffLimit: 3 },
        { restartPolicy: "OnFailure" },
        { [SimAnnotations.FailUntilRestartCount]: "2" },
      ),
    );
    await waitCondition(ns, "onfailure", "Complete");
    const [p] = await jobPods(ns, "onfailure");
    const cs = p?.status?.containerStatuses?.[0];
    assert.equal(cs?.restartCount, 2);
    assert.equal(cs?.lastState?.terminated?.exitCode, 1);
    assert.equal(cs?.state?.terminated?.exitCode, 0);
  });

  test("deleting a Job with foreground propagation removes its pods", async (t) => {
    const ns = await testNamespace(t, cluster);
    const created = await cluster.client.create<Job>(
      JOBS(ns),
      job("gc", { completions: 3, parallelism: 3 }, {}, { [SimAnnotations.Duration]: "forever" }),
    );
    await waitFor(async () => (await getJob(ns, "gc")).status?.ready === 3, { message: "3 ready pods" });
    await cluster.client.delete(`${JOBS(ns)}/gc`, { propagationPolicy: "Foreground" });
    await waitFor(
      async () => {
        const pods = await cluster.client.list<Pod>(PODS(ns));
        const ours = pods.items.filter((p) =>
          p.metadata?.ownerReferences?.some((o) => o.uid === created.metadata?.uid),
        );
        return ours.length === 0;
      },
      { timeoutMs: 60_000, message: "the Job's pods to be gone" },
    );
    await waitFor(async () => getJob(ns, "gc").then(() => false, isNotFound), { message: "the Job to be gone" });
  });

  test("a deleted running pod is first moved to Failed with exit code 137", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(PODS(ns), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "held",
        finalizers: ["test.jobset.x-k8s.io/hold"],
        annotations: { [SimAnnotations.Duration]: "forever" },
      },
      spec: { nodeName: sim.nodeNames[0], restartPolicy: "Never", containers: [{ name: "main", image: "busybox" }] },
    });
    await waitFor(async () => (await cluster.client.get<Pod>(`${PODS(ns)}/held`)).status?.phase === "Running");
    await cluster.client.delete(`${PODS(ns)}/held`);
    const p = await waitFor(async () => {
      const pod = await cluster.client.get<Pod>(`${PODS(ns)}/held`);
      return pod.status?.phase === "Failed" && pod.metadata?.deletionGracePeriodSeconds === 0 ? pod : undefined;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137);
    assert.equal(p.status?.conditions?.find((c) => c.type === "Ready")?.status, "False");
    await cluster.client.patch(`${PODS(ns)}/held`, { metadata: { finalizers: null } }, "merge");
    await waitFor(async () => cluster.client.get(`${PODS(ns)}/held`).then(() => false, isNotFound));
  });

  test("a restarted kubelet re-drives the pods it had started", async (t) => {
    const ns = await testNamespace(t, cluster);
    const node = `restart-${suffix}`;
    const opts = { client: cluster.client, nodes: [{ name: node }], runForever: true, removeNodesOnStop: false };
    let k = await startFakeKubelet(opts);
    try {
      await cluster.client.create(PODS(ns), {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "survivor" },
        spec: { nodeName: node, restartPolicy: "Never", containers: [{ name: "main", image: "busybox" }] },
      });
      const before = await waitFor(async () => {
        const p = await cluster.client.get<Pod>(`${PODS(ns)}/survivor`);
        return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? p : undefined;
      });
      await k.stop();
      k = await startFakeKubelet({ ...opts, removeNodesOnStop: true });
      assert.equal(k.stats.podsAdopted, 1);
      await k.completePod(ns, "survivor", 0);
      const p = await waitFor(async () => {
        const pod = await cluster.client.get<Pod>(`${PODS(ns)}/survivor`);
        return pod.status?.phase === "Succeeded" ? pod : undefined;
      });
      assert.equal(p.status?.podIP, before.status?.podIP);
      assert.equal(p.status?.startTime, before.status?.startTime);
    } finally {
      await k.stop();
    }
  });

  test("exec: the process sees JOB_COMPLETION_INDEX and a label via fieldRef; stdout is captured", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(
      JOBS(ns),
      job(
        "exec",
        { completions: 2, parallelism: 2 },
        {
          nodeSelector: { "kubernetes.io/hostname": `exec-${suffix}`, [POOL_LABEL]: suffix },
          tolerations: [{ key: EXEC_TAINT.key, operator: "Exists", effect: "NoSchedule" }],
          containers: [
            {
              name: "main",
              image: "busybox",
              command: ["/bin/sh", "-c"],
              args: ['echo "index=$JOB_COMPLETION_INDEX app=$(APP) pod=$POD_NAME"; echo oops >&2'],
              env: [
                { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              ],
            },
          ],
        },
        {},
        { app: "demo" },
      ),
    );
    await waitCondition(ns, "exec", "Complete");
    const pods = await jobPods(ns, "exec");
    assert.equal(pods.length, 2);
    const lines = await Promise.all(pods.map((p) => exec.readLogs(ns, p.metadata?.name ?? "", "main")));
    const byIndex = new Map(
      pods.map((p, i) => [p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"], lines[i]]),
    );
    for (const idx of ["0", "1"]) {
      const pod = pods.find((p) => p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"] === idx);
      assert.equal(byIndex.get(idx), `index=${idx} app=demo pod=${pod?.metadata?.name}\noops\n`);
    }
  });

  test("exec: init containers run first, sidecars run alongside, ConfigMap env resolves", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(`/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg" },
      data: { greeting: "hello" },
    });
    await cluster.client.create(PODS(ns), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "staged" },
      spec: {
        nodeName: `exec-${suffix}`,
        restartPolicy: "Never",
        initContainers: [
          { name: "setup", image: "x", command: ["/bin/sh", "-c", "echo prepared > stage"] },
          { name: "side", image: "x", restartPolicy: "Always", command: ["sleep", "300"] },
        ],
        containers: [
          {
            name: "main",
            image: "x",
            command: ["/bin/sh", "-c", 'echo "$(GREETING) $(cat stage)"'],
            env: [{ name: "GREETING", valueFrom: { configMapKeyRef: { name: "cfg", key: "greeting" } } }],
          },
        ],
      },
    });
    const p = await waitFor(async () => {
      const pod = await cluster.client.get<Pod>(`${PODS(ns)}/staged`);
      return pod.status?.phase === "Succeeded" ? pod : undefined;
    });
    assert.equal(await exec.readLogs(ns, "staged", "main"), "hello prepared\n");
    assert.equal(p.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    assert.equal(p.status?.initContainerStatuses?.[1]?.state?.terminated?.reason, "Completed");
    assert.equal(p.status?.conditions?.find((c) => c.type === "Initialized")?.status, "True");
  });

  test("exec: a failing command fails the Job with its exit code; deletion kills the process group", async (t) => {
    const ns = await testNamespace(t, cluster);
    const execPod = (name: string, script: string, readinessProbe?: Container["readinessProbe"]) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        nodeName: `exec-${suffix}`,
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "main", image: "busybox", command: ["/bin/sh", "-c", script], readinessProbe }],
      },
    });
    await cluster.client.create(PODS(ns), execPod("exit3", "exit 3"));
    const failed = await waitFor(async () => {
      const p = await cluster.client.get<Pod>(`${PODS(ns)}/exit3`);
      return p.status?.phase === "Failed" ? p : undefined;
    });
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);

    const groupsBefore = liveProcessGroups();
    await cluster.client.create(
      PODS(ns),
      execPod("sleeper", "sleep 0.5; touch ready; sleep 300 & echo $! > child; wait", {
        exec: { command: ["test", "-f", "ready"] },
        periodSeconds: 1,
      }),
    );
    await waitFor(
      async () => {
        const p = await cluster.client.get<Pod>(`${PODS(ns)}/sleeper`);
        return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      },
      { message: "exec readiness probe to pass" },
    );
    assert.equal(liveProcessGroups(), groupsBefore + 1);
    const child = Number(
      await waitFor(() => readFile(join(exec.dataDir, "pods", ns, "sleeper", "child"), "utf8").then((s) => s.trim())),
    );
    assert.ok(child > 0);
    process.kill(child, 0); // alive
    await cluster.client.delete(`${PODS(ns)}/sleeper`);
    await waitFor(async () => cluster.client.get(`${PODS(ns)}/sleeper`).then(() => false, isNotFound));
    await waitFor(() => liveProcessGroups() === groupsBefore, { message: "the process group to be gone" });
    const alive = () => {
      try {
        process.kill(child, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => !alive(), { message: "the container's background child to be killed" });
  });
  /** Every version of the namespace's pods from now on, as the watch delivers them (until `stop`). */
  async function recordPods(ns: string): Promise<{ seen: Pod[]; stop: () => void }> {
    const list = await cluster.client.list<Pod>(PODS(ns));
    const seen: Pod[] = [];
    const abort = new AbortController();
    void (async () => {
      try {
        for await (const ev of cluster.client.watch<Pod>(
          PODS(ns),
          { resourceVersion: list.metadata.resourceVersion },
          abort.signal,
        ))
          if (ev.type !== "BOOKMARK") seen.push(ev.object);
      } catch (e) {
        if (!abort.signal.aborted) throw e;
      }
    })();
    return { seen, stop: () => abort.abort() };
  }

  const onExecNode = {
    nodeSelector: { "kubernetes.io/hostname": `exec-${suffix}`, [POOL_LABEL]: suffix },
    tolerations: [{ key: EXEC_TAINT.key, operator: "Exists" as const, effect: "NoSchedule" as const }],
  };
  /** A shell script that exits 1 on its first `failures` runs in the pod (counted in the pod's work dir). */
  const failFirst = (counter: string, failures: number, then: string) =>
    `n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n+1)) > ${counter}; echo "${counter} run $n"; ` +
    `[ "$n" -ge ${failures} ] || exit 1; ${then}`;

  test("exec: OnFailure restarts init and main containers in place, with back-off; same pod, UID and node", async (t) => {
    const ns = await testNamespace(t, cluster);
    const rec = await recordPods(ns);
    t.after(() => rec.stop());
    await cluster.client.create(
      JOBS(ns),
      job(
        "inplace",
        { backoffLimit: 6 },
        {
          ...onExecNode,
          restartPolicy: "OnFailure",
          initContainers: [{ name: "setup", image: "x", command: ["/bin/sh", "-c", failFirst("setup", 1, "true")] }],
          containers: [{ name: "main", image: "x", command: ["/bin/sh", "-c", failFirst("main", 2, "echo done")] }],
        },
      ),
    );
    const j = await waitCondition(ns, "inplace", "Complete");
    assert.equal(j.status?.succeeded, 1);
    assert.equal(j.status?.failed ?? 0, 0, "no pod failed: the containers restarted in place");
    const pods = await jobPods(ns, "inplace");
    assert.equal(pods.length, 1, "no replacement pod");
    const p = pods[0] as Pod;
    const init = p.status?.initContainerStatuses?.[0];
    const main = p.status?.containerStatuses?.[0];
    assert.equal(init?.restartCount, 1);
    assert.equal(init?.lastState?.terminated?.exitCode, 1);
    assert.equal(init?.state?.terminated?.exitCode, 0);
    assert.equal(main?.restartCount, 2);
    assert.equal(main?.lastState?.terminated?.exitCode, 1);
    assert.equal(main?.state?.terminated?.exitCode, 0);
    const name = p.metadata?.name ?? "";
    assert.equal(await exec.readLogs(ns, name, "main"), "main run 0\nmain run 1\nmain run 2\ndone\n");
    assert.equal(await exec.readLogs(ns, name, "setup"), "setup run 0\nsetup run 1\n");

    // What the API saw along the way: one pod (UID, node), restart counts that only grow, and the
    // second main restart waiting in CrashLoopBackOff after the run that exited 1.
    await waitFor(() => rec.seen.some((x) => x.status?.phase === "Succeeded"), { message: "the watch to catch up" });
    const versions = rec.seen.filter((x) => x.metadata?.name === name);
    assert.ok(versions.every((x) => x.metadata?.uid === p.metadata?.uid));
    assert.ok(versions.every((x) => !x.spec?.nodeName || x.spec.nodeName === `exec-${suffix}`));
    const counts = versions.map((x) => x.status?.containerStatuses?.[0]?.restartCount ?? 0);
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => a - b),
      "restartCount never goes down",
    );
    const waiting = versions
      .map((x) => x.status?.containerStatuses?.[0])
      .find((c) => c?.state?.waiting?.reason === "CrashLoopBackOff");
    assert.ok(waiting, "main waited in CrashLoopBackOff before its second restart");
    assert.equal(waiting.restartCount, 1);
    assert.equal(waiting.lastState?.terminated?.exitCode, 1);
    assert.match(
      waiting.state?.waiting?.message ?? "",
      new RegExp(`^back-off \\d+ms restarting failed container=main pod=${name}_${ns}\\(`),
    );
    assert.ok(
      versions.every((x) => x.status?.phase !== "Failed"),
      "the pod never failed",
    );
  });

  test("exec: a sidecar restarts in place even when the pod's restartPolicy is Never", async (t) => {
    const ns = await testNamespace(t, cluster);
    await cluster.client.create(PODS(ns), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "with-sidecar" },
      spec: {
        nodeName: `exec-${suffix}`,
        restartPolicy: "Never",
        initContainers: [
          {
            name: "side",
            image: "x",
            restartPolicy: "Always",
            command: ["/bin/sh", "-c", failFirst("side", 1, "touch side-up; sleep 300")],
          },
        ],
        containers: [
          { name: "main", image: "x", command: ["/bin/sh", "-c", "until [ -f side-up ]; do sleep 0.1; done; echo up"] },
        ],
      },
    });
    const p = await waitFor(async () => {
      const pod = await cluster.client.get<Pod>(`${PODS(ns)}/with-sidecar`);
      return pod.status?.phase === "Succeeded" ? pod : undefined;
    });
    const side = p.status?.initContainerStatuses?.[0];
    assert.equal(side?.restartCount, 1);
    assert.equal(side?.lastState?.terminated?.exitCode, 1);
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal(await exec.readLogs(ns, "with-sidecar", "main"), "up\n");
    assert.equal(await exec.readLogs(ns, "with-sidecar", "side"), "side run 0\nside run 1\n");
  });

  test("exec: a sidecar's HTTP startup probe holds back what follows it; RestartAllContainers restarts every container in place", async (t) => {
    const ns = await testNamespace(t, cluster);
    const rec = await recordPods(ns);
    t.after(() => rec.stop());
    const gate = join(await mkdtemp(join(tmpdir(), "kubelet-gate-")), "open");
    t.after(() => rm(dirname(gate), { recursive: true, force: true }));
    // The sidecar answers 200 on /ready once the gate file exists, on the pod's own address.
    const server = [
      "const fs = require('node:fs');",
      "fs.appendFileSync('runs', 'side\\n');",
      "require('node:http').createServer((q, r) => { r.statusCode = q.url === '/ready' && fs.existsSync(process.env.GATE) ? 200 : 503; r.end(); })",
      "  .listen(8081, process.env.JOBSET_LOCAL_POD_IP);",
    ].join("\n");
    const restartAll = { action: "RestartAllContainers", exitCodes: { operator: "NotIn", values: [0] } };
    await cluster.client.create(PODS(ns), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "restart-all" },
      spec: {
        nodeName: `exec-${suffix}`,
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 5,
        initContainers: [
          {
            name: "side",
            image: "x",
            restartPolicy: "Always",
            command: [process.execPath, "-e", server],
            env: [{ name: "GATE", value: gate }],
            startupProbe: { httpGet: { path: "/ready", port: 8081 }, periodSeconds: 1, failureThreshold: 600 },
          },
          { name: "setup", image: "x", command: ["/bin/sh", "-c", "echo setup >> runs"] },
        ],
        containers: [
          {
            name: "main",
            image: "x",
            restartPolicy: "Never",
            restartPolicyRules: [restartAll],
            // Fails its first run, succeeds on the next.
            command: [
              "/bin/sh",
              "-c",
              `echo main >> runs; ${failFirst("main-count", 1, "exit 0").replace("exit 1", "exit 5")}`,
            ],
          },
        ],
      },
    });
    const get = () => cluster.client.get<Pod>(`${PODS(ns)}/restart-all`);
    // Held back: the sidecar runs but has not started, so neither the init container nor main runs.
    const held = await waitFor(async () => {
      const p = await get();
      return p.status?.initContainerStatuses?.[0]?.state?.running ? p : undefined;
    });
    await new Promise((r) => setTimeout(r, 2500));
    const still = await get();
    assert.equal(still.status?.phase, "Pending");
    assert.equal(still.status?.initContainerStatuses?.[0]?.started, false, "startup probe not passed");
    assert.equal(still.status?.initContainerStatuses?.[1]?.state?.waiting?.reason, "PodInitializing");
    assert.equal(still.status?.containerStatuses?.[0]?.state?.waiting?.reason, "PodInitializing");
    assert.equal(still.metadata?.uid, held.metadata?.uid);

    await writeFile(gate, "");
    const done = await waitFor(
      async () => {
        const p = await get();
        return p.status?.phase === "Succeeded" ? p : undefined;
      },
      { timeoutMs: 60_000, message: "the pod to succeed after restarting all its containers once" },
    );
    assert.equal(done.metadata?.uid, held.metadata?.uid, "the same pod");
    const [side, setup] = done.status?.initContainerStatuses ?? [];
    const main = done.status?.containerStatuses?.[0];
    assert.deepEqual(
      [side?.restartCount, setup?.restartCount, main?.restartCount],
      [1, 1, 1],
      "every container restarted once",
    );
    assert.equal(main?.lastState?.terminated?.exitCode, 5, "main's failing run");
    assert.equal(main?.state?.terminated?.exitCode, 0);
    assert.equal(side?.lastState?.terminated?.exitCode, 143, "the sidecar was stopped (SIGTERM)");
    assert.equal(setup?.lastState?.terminated?.exitCode, 0);
    const workDir = join(exec.dataDir, "pods", ns, "restart-all");
    assert.equal(await readFile(join(workDir, "runs"), "utf8"), "side\nsetup\nmain\nside\nsetup\nmain\n");

    await waitFor(() => rec.seen.some((x) => x.status?.phase === "Succeeded"), { message: "the watch to catch up" });
    const conds = rec.seen
      .map((x) => x.status?.conditions?.find((c) => c.type === "AllContainersRestarting"))
      .filter((c) => c !== undefined);
    assert.ok(
      conds.some((c) => c.status === "True" && c.reason === "RestartAllContainersStarted"),
      "AllContainersRestarting was True while the containers stopped",
    );
    assert.equal(conds.at(-1)?.status, "False");
    assert.equal(conds.at(-1)?.reason, "PodCompleted");
    assert.ok(
      rec.seen.every((x) => x.status?.phase !== "Failed"),
      "the pod never failed",
    );
  });
});
