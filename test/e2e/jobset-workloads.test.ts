// JobSets end to end on the full control plane: our controller and webhooks (test/support/stack.ts),
// the real Job controller, scheduler and garbage collector, and the fake kubelet (simulate mode) that
// runs the pods. Each scenario is one upstream-documented use of JobSet (spec §4, §6).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Labels } from "../../src/api/constants.ts";
import type { Job, Pod, Service } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { type FakeKubelet, startFakeKubelet } from "../../src/local/kubelet.ts";
import { isNotFound } from "../../src/runtime/client.ts";
import { jobSet, rjob } from "../builders.ts";
import { type TestCluster, useCluster, waitFor } from "../support/cluster.ts";
import {
  assertJobs,
  condition,
  getJobSet,
  jobCondition,
  jobNames,
  jobSetsPath,
  listJobs,
  listPods,
  pinToNodes,
  waitJobSetCondition,
} from "../support/e2e.ts";
import { type Stack, startStack } from "../support/stack.ts";

const sim = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`fake.jobset.x-k8s.io/${k}`, v]));

describe("JobSet workloads (full control plane, fake kubelet)", () => {
  let cluster: TestCluster;
  let kubelet: FakeKubelet;
  let stack: Stack;
  // this file's pods run on this file's nodes only (other files may run fake kubelets of their own)
  const POOL = "e2e.jobset-ts/pool";
  const suffix = Math.random().toString(36).slice(2, 7);

  before(async () => {
    cluster = await useCluster("full");
    kubelet = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `wl-${suffix}`,
      nodes: Array.from({ length: 3 }, () => ({ labels: { [POOL]: suffix } })),
      defaultDurationMs: 300,
      log: () => {},
    });
    stack = await startStack(cluster, { webhooks: true });
  });
  after(async () => {
    await stack?.stop();
    await kubelet?.stop();
  });

  const create = async (js: JobSet): Promise<JobSet> => {
    const ns = js.metadata?.namespace ?? "";
    return cluster.client.create<JobSet>(jobSetsPath(ns), pinToNodes(js, POOL, suffix));
  };

  test("PyTorch-shaped JobSet: 4 workers find the master at <name>-workers-0-0.<name> and complete", async (t) => {
    const ns = await stack.namespace(t);
    const name = "pytorch";
    const master = `${name}-workers-0-0.${name}`;
    const created = await create(
      jobSet(name, ns)
        .replicatedJob(
          rjob("workers")
            .parallelism(4)
            .completions(4)
            .backoffLimit(0)
            .podAnnotations(sim({ duration: "500ms" }))
            .containers({
              name: "pytorch",
              image: "gcr.io/k8s-staging-jobset/pytorch-mnist:latest",
              ports: [{ containerPort: 3389 }],
              env: [
                { name: "MASTER_ADDR", value: master },
                { name: "MASTER_PORT", value: "3389" },
                {
                  name: "RANK",
                  valueFrom: {
                    fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
                  },
                },
              ],
              command: ["bash", "-xc", "torchrun --master_addr=$MASTER_ADDR --node_rank=$RANK mnist.py"],
            }),
        )
        .obj(),
    );
    // defaulted by our mutating webhook
    assert.equal(created.spec?.replicatedJobs?.[0]?.template.spec?.template.spec?.restartPolicy, "OnFailure");
    assert.equal(created.spec?.network?.enableDNSHostnames, true);

    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed");
    assert.equal(condition(done, "Completed")?.reason, "AllJobsCompleted");
    assert.equal(done.status?.terminalState, "Completed");
    assert.deepEqual(done.status?.replicatedJobsStatus?.[0], {
      name: "workers",
      ready: 0,
      succeeded: 1,
      failed: 0,
      active: 0,
      suspended: 0,
    });
    const jobs = await listJobs(cluster.client, ns);
    assertJobs(jobs, created.metadata?.uid ?? "", ["pytorch-workers-0"], 0);
    const job = jobs[0] as Job;
    assert.equal(job.status?.succeeded, 4);
    assert.equal(job.spec?.template.spec?.subdomain, name);
    assert.equal(job.spec?.template.spec?.containers[0]?.env?.[0]?.value, master);

    const svc = await cluster.client.get<Service>(`/api/v1/namespaces/${ns}/services/${name}`);
    assert.equal(svc.spec?.clusterIP, "None");
    assert.equal(svc.spec?.publishNotReadyAddresses, true);

    const pods = await listPods(cluster.client, ns, `${Labels.JobSetName}=${name}`);
    assert.equal(pods.length, 4);
    const byIndex = new Map(
      pods.map((p) => [p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"], p]),
    );
    assert.deepEqual([...byIndex.keys()].sort(), ["0", "1", "2", "3"]);
    for (const p of pods) {
      assert.equal(p.status?.phase, "Succeeded");
      assert.equal(p.spec?.containers[0]?.env?.find((e) => e.name === "MASTER_ADDR")?.value, master);
    }
    // the master address is the DNS name of the index-0 pod: <hostname>.<subdomain>
    const p0 = byIndex.get("0") as Pod;
    assert.equal(`${p0.spec?.hostname}.${p0.spec?.subdomain}`, master);
  });

  test("leader + workers with a coordinator: the coordinator label and annotation on every Job and pod", async (t) => {
    const ns = await stack.namespace(t);
    const name = "coord";
    const created = await create(
      jobSet(name, ns)
        .coordinator({ replicatedJob: "leader", jobIndex: 0, podIndex: 0 })
        .replicatedJob(
          rjob("leader")
            .parallelism(1)
            .completions(1)
            .podAnnotations(sim({ duration: "800ms" })),
        )
        .replicatedJob(rjob("workers").replicas(2).parallelism(2).completions(2))
        .obj(),
    );
    const want = `${name}-leader-0-0.${name}`;
    await waitJobSetCondition(cluster.client, ns, name, "Completed");
    const jobs = await listJobs(cluster.client, ns);
    assertJobs(
      jobs,
      created.metadata?.uid ?? "",
      jobNames(name, [
        ["leader", 1],
        ["workers", 2],
      ]),
      0,
    );
    for (const j of jobs) {
      assert.equal(j.metadata?.labels?.[Labels.Coordinator], want, j.metadata?.name);
      assert.equal(j.metadata?.annotations?.[Labels.Coordinator], want, j.metadata?.name);
    }
    const pods = await listPods(cluster.client, ns, `${Labels.JobSetName}=${name}`);
    assert.equal(pods.length, 5);
    for (const p of pods) {
      assert.equal(p.metadata?.labels?.[Labels.Coordinator], want, p.metadata?.name);
      assert.equal(p.metadata?.annotations?.[Labels.Coordinator], want, p.metadata?.name);
    }
  });

  test("a failing worker triggers a full restart (restarts=1), then the JobSet completes", async (t) => {
    const ns = await stack.namespace(t);
    const name = "restart";
    const created = await create(
      jobSet(name, ns)
        .failurePolicy({ maxRestarts: 2 })
        .replicatedJob(rjob("leader").podAnnotations(sim({ duration: "1s" })))
        .replicatedJob(
          rjob("workers")
            .replicas(2)
            .parallelism(2)
            .completions(2)
            .backoffLimit(0)
            .restartPolicy("Never")
            // completion index 1 of every worker Job exits 3 while the JobSet's restart attempt is 0
            .podAnnotations(
              sim({ duration: "300ms", "fail-indexes": "1", "fail-exit-code": "3", "fail-until-restart": "1" }),
            ),
        )
        .obj(),
    );
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed", 90_000);
    assert.equal(done.status?.restarts, 1);
    assert.equal(done.status?.restartsCountTowardsMax, 1);
    assert.equal(condition(done, "Failed"), undefined);
    const restarting = done.status?.conditions?.find((c) => c.type === "RestartingJobSet");
    assert.equal(restarting?.status, "False");
    const jobs = await listJobs(cluster.client, ns);
    // only the second attempt's Jobs remain: the first attempt's were deleted, none duplicated
    assertJobs(
      jobs,
      created.metadata?.uid ?? "",
      jobNames(name, [
        ["leader", 1],
        ["workers", 2],
      ]),
      1,
    );
    for (const j of jobs) assert.ok(jobCondition(j, "Complete"), j.metadata?.name);
    // the first attempt's pods are gone with their Jobs (foreground deletion)
    const pods = await listPods(cluster.client, ns, `${Labels.JobSetName}=${name}`);
    assert.deepEqual(new Set(pods.map((p) => p.metadata?.labels?.[Labels.RestartAttempt])), new Set(["1"]));
    assert.ok(pods.every((p) => p.status?.phase === "Succeeded"));
  });

  test("maxRestarts exhausted ends Failed with ReachedMaxRestarts", async (t) => {
    const ns = await stack.namespace(t);
    const name = "exhaust";
    await create(
      jobSet(name, ns)
        .failurePolicy({ maxRestarts: 1 })
        .replicatedJob(
          rjob("workers")
            .backoffLimit(0)
            .restartPolicy("Never")
            .podAnnotations(sim({ duration: "200ms", "exit-code": "1" })),
        )
        .obj(),
    );
    const failed = await waitJobSetCondition(cluster.client, ns, name, "Failed", 90_000);
    const c = condition(failed, "Failed");
    assert.equal(c?.reason, "ReachedMaxRestarts");
    assert.equal(
      c?.message,
      `jobset failed due to reaching max number of restarts (first failed job: ${name}-workers-0)`,
    );
    assert.equal(failed.status?.restarts, 1);
    assert.equal(failed.status?.terminalState, "Failed");
    assert.equal(condition(failed, "Completed"), undefined);
    const jobs = await listJobs(cluster.client, ns);
    assert.deepEqual(
      jobs.map((j) => [j.metadata?.name, j.metadata?.labels?.[Labels.RestartAttempt], jobCondition(j, "Failed")]),
      [[`${name}-workers-0`, "1", true]],
    );
  });

  test("suspend then resume: no pods while suspended; resume merges the new pod template labels", async (t) => {
    const ns = await stack.namespace(t);
    const name = "suspended";
    const created = await create(
      jobSet(name, ns).suspend(true).replicatedJob(rjob("workers").replicas(2).parallelism(2).completions(2)).obj(),
    );
    const js = await waitJobSetCondition(cluster.client, ns, name, "Suspended");
    assert.equal(condition(js, "Suspended")?.reason, "SuspendedJobs");
    const jobs = await waitFor(
      async () => {
        const list = await listJobs(cluster.client, ns);
        return list.length === 2 ? list : undefined;
      },
      { message: "2 suspended Jobs" },
    );
    assertJobs(jobs, created.metadata?.uid ?? "", jobNames(name, [["workers", 2]]), 0);
    for (const j of jobs) {
      assert.equal(j.spec?.suspend, true, j.metadata?.name);
      assert.ok(!j.status?.active, j.metadata?.name);
    }
    // the Job controller has seen the suspended Jobs (Suspended condition) and created no pod
    await waitFor(async () => (await listJobs(cluster.client, ns)).every((j) => jobCondition(j, "Suspended")), {
      message: "Jobs with condition Suspended",
    });
    assert.deepEqual(await listPods(cluster.client, ns), []);

    // while suspended, the pod template may change (what Kueue does before admitting)
    const cur = await getJobSet(cluster.client, ns, name);
    const podMeta = cur.spec?.replicatedJobs?.[0]?.template.spec?.template;
    assert.ok(podMeta);
    podMeta.metadata = { ...podMeta.metadata, labels: { ...podMeta.metadata?.labels, admitted: "yes" } };
    await cluster.client.update(`${jobSetsPath(ns)}/${name}`, cur);
    await cluster.client.patch(`${jobSetsPath(ns)}/${name}`, { spec: { suspend: false } }, "merge");

    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed");
    const s = done.status?.conditions?.find((c) => c.type === "Suspended");
    assert.equal(s?.status, "False");
    assert.equal(s?.reason, "ResumeJobs");
    const pods = await listPods(cluster.client, ns);
    assert.equal(pods.length, 4);
    for (const p of pods) assert.equal(p.metadata?.labels?.admitted, "yes", p.metadata?.name);
  });

  test("ttlSecondsAfterFinished deletes the finished JobSet, and the GC removes its Jobs", async (t) => {
    const ns = await stack.namespace(t);
    const name = "ttl";
    const ttl = 2;
    const created = await create(
      jobSet(name, ns).ttlSecondsAfterFinished(ttl).replicatedJob(rjob("w").replicas(2)).obj(),
    );
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed");
    const finishedAt = Date.parse(condition(done, "Completed")?.lastTransitionTime ?? "");
    assert.ok(Number.isFinite(finishedAt));
    await waitFor(async () => getJobSet(cluster.client, ns, name).then(() => false, isNotFound), {
      message: "the JobSet to be deleted",
    });
    // conditions have one-second resolution: the deletion is not before finish + ttl (± 1 s)
    assert.ok(Date.now() >= finishedAt + (ttl - 1) * 1000, `deleted ${Date.now() - finishedAt} ms after finishing`);
    await waitFor(
      async () =>
        (await listJobs(cluster.client, ns)).every(
          (j) => !j.metadata?.ownerReferences?.some((r) => r.uid === created.metadata?.uid),
        ),
      { message: "the JobSet's Jobs to be garbage collected" },
    );
    assert.deepEqual(await listJobs(cluster.client, ns), []);
  });

  test("startupPolicy InOrder: workers are created only once the driver is ready", async (t) => {
    const ns = await stack.namespace(t);
    const name = "inorder";
    await create(
      jobSet(name, ns)
        .startupPolicy("InOrder")
        // The driver outlives the workers by seconds: see "InOrder while suspended" for why.
        .replicatedJob(rjob("driver").podAnnotations(sim({ "ready-after": "1500ms", duration: "4500ms" })))
        .replicatedJob(
          rjob("workers")
            .replicas(2)
            .podAnnotations(sim({ duration: "1s" })),
        )
        .obj(),
    );
    // Every snapshot (one LIST) that contains a worker Job must show the driver started.
    let sawDriverAlone = false;
    let sawInProgress = false;
    let violation: string | undefined;
    await waitFor(
      async () => {
        const [jobs, js] = await Promise.all([listJobs(cluster.client, ns), getJobSet(cluster.client, ns, name)]);
        if (condition(js, "StartupPolicyInProgress")) sawInProgress = true;
        const driver = jobs.find((j) => j.metadata?.name === `${name}-driver-0`);
        const workers = jobs.filter((j) => j.metadata?.labels?.[Labels.ReplicatedJobName] === "workers");
        if (workers.length === 0) {
          if (driver) sawDriverAlone = true;
          return false;
        }
        const started = (driver?.status?.ready ?? 0) + (driver?.status?.succeeded ?? 0) + (driver?.status?.failed ?? 0);
        if (started !== 1)
          violation ??= `workers exist while the driver has not started: ${JSON.stringify(driver?.status)}`;
        return true;
      },
      { message: "worker Jobs", intervalMs: 50 },
    );
    assert.equal(violation, undefined);
    assert.ok(sawDriverAlone, "the driver Job existed alone first");
    assert.ok(sawInProgress, "StartupPolicyInProgress was True while waiting");
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed");
    assert.ok(condition(done, "StartupPolicyCompleted"));
    assert.equal(done.status?.conditions?.find((c) => c.type === "StartupPolicyInProgress")?.status, "False");
  });

  test("dependsOn Complete: the dependent replicated job starts only after its dependency completed", async (t) => {
    const ns = await stack.namespace(t);
    const name = "deps";
    await create(
      jobSet(name, ns)
        .replicatedJob(rjob("init").podAnnotations(sim({ duration: "1500ms" })))
        .replicatedJob(
          rjob("main")
            .replicas(2)
            .dependsOn("init", "Complete")
            .podAnnotations(sim({ duration: "300ms" })),
        )
        .obj(),
    );
    let sawInitAlone = false;
    let violation: string | undefined;
    await waitFor(
      async () => {
        const jobs = await listJobs(cluster.client, ns);
        const init = jobs.find((j) => j.metadata?.name === `${name}-init-0`);
        const main = jobs.filter((j) => j.metadata?.labels?.[Labels.ReplicatedJobName] === "main");
        if (main.length === 0) {
          if (init && !jobCondition(init, "Complete")) sawInitAlone = true;
          return false;
        }
        if (!jobCondition(init, "Complete"))
          violation ??= `main Jobs exist before init completed: ${JSON.stringify(init?.status)}`;
        return true;
      },
      { message: "main Jobs", intervalMs: 50 },
    );
    assert.equal(violation, undefined);
    assert.ok(sawInitAlone, "the init Job ran alone first");
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed");
    assert.deepEqual(
      // the list is stored in reverse-lexicographic name order (spec §5.4): compare sorted
      done.status?.replicatedJobsStatus?.map((s) => [s.name, s.succeeded]).sort(),
      [
        ["init", 1],
        ["main", 2],
      ],
    );
  });

  test("deleting a running JobSet (foreground) removes its Jobs, pods and Service; nothing is recreated", async (t) => {
    const ns = await stack.namespace(t);
    const name = "doomed";
    const created = await create(
      jobSet(name, ns)
        .replicatedJob(
          rjob("w")
            .replicas(2)
            .parallelism(2)
            .completions(2)
            .podAnnotations(sim({ duration: "forever" })),
        )
        .obj(),
    );
    await waitFor(
      async () => {
        const pods = await listPods(cluster.client, ns);
        return pods.length === 4 && pods.every((p) => p.status?.phase === "Running");
      },
      { message: "4 running pods" },
    );
    await cluster.client.delete(`${jobSetsPath(ns)}/${name}`, { propagationPolicy: "Foreground" });
    await waitFor(async () => getJobSet(cluster.client, ns, name).then(() => false, isNotFound), {
      message: "the JobSet to be gone",
      timeoutMs: 60_000,
    });
    assert.deepEqual(await listJobs(cluster.client, ns), [], "no Job left or recreated");
    await waitFor(async () => (await listPods(cluster.client, ns)).length === 0, { message: "pods gone" });
    await waitFor(
      async () =>
        (await cluster.client.list<Service>(`/api/v1/namespaces/${ns}/services`)).items.every(
          (svc) => !svc.metadata?.ownerReferences?.some((r) => r.uid === created.metadata?.uid),
        ),
      { message: "the headless Service to be garbage collected" },
    );
  });

  test("InOrder while suspended: all Jobs created suspended; on resume the workers are resumed only after the driver started", async (t) => {
    const ns = await stack.namespace(t);
    const name = "inorder-suspended";
    await create(
      jobSet(name, ns)
        .suspend(true)
        .startupPolicy("InOrder")
        // StartupPolicyCompleted is set by a reconcile that sees every rjob started while the JobSet is not yet
        // complete (a reconcile that sees it complete stops before Job creation, where the condition is set,
        // as upstream). The driver outlives the workers by seconds, so that reconcile happens however late
        // the job controller (which batches pod updates for up to 1 s) reports the workers.
        .replicatedJob(rjob("driver").podAnnotations(sim({ "ready-after": "1s", duration: "4s" })))
        .replicatedJob(
          rjob("workers")
            .replicas(2)
            .podAnnotations(sim({ duration: "1s" })),
        )
        .obj(),
    );
    const jobs = await waitFor(
      async () => {
        const list = await listJobs(cluster.client, ns);
        return list.length === 3 && list.every((j) => j.spec?.suspend === true) ? list : undefined;
      },
      { message: "3 suspended Jobs" },
    );
    assert.deepEqual(
      jobs.map((j) => j.metadata?.name),
      jobNames(name, [
        ["driver", 1],
        ["workers", 2],
      ]),
    );
    const suspended = await waitJobSetCondition(cluster.client, ns, name, "Suspended");
    assert.equal(condition(suspended, "StartupPolicyInProgress"), undefined, "no startup condition while suspended");
    await cluster.client.patch(`${jobSetsPath(ns)}/${name}`, { spec: { suspend: false } }, "merge");

    let violation: string | undefined;
    let sawDriverResumedAlone = false;
    await waitFor(
      async () => {
        const list = await listJobs(cluster.client, ns);
        const driver = list.find((j) => j.metadata?.name === `${name}-driver-0`);
        const resumedWorkers = list.filter(
          (j) => j.metadata?.labels?.[Labels.ReplicatedJobName] === "workers" && j.spec?.suspend === false,
        );
        if (resumedWorkers.length === 0) {
          if (driver?.spec?.suspend === false) sawDriverResumedAlone = true;
          return false;
        }
        const started = (driver?.status?.ready ?? 0) + (driver?.status?.succeeded ?? 0) + (driver?.status?.failed ?? 0);
        if (started !== 1)
          violation ??= `a worker was resumed before the driver started: ${JSON.stringify(driver?.status)}`;
        return true;
      },
      { message: "resumed worker Jobs", intervalMs: 50 },
    );
    assert.equal(violation, undefined);
    assert.ok(sawDriverResumedAlone, "the driver was resumed alone first");
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed");
    assert.ok(condition(done, "StartupPolicyCompleted"));
    assert.equal(done.status?.conditions?.find((c) => c.type === "Suspended")?.status, "False");
  });
});
