// Robustness on the full control plane:
// (a) the controller process is SIGKILLed at seeded-random points (after its N-th write: creates,
//     deletes, status writes, events) and started again, several times per JobSet; the JobSet still ends
//     in exactly the state an undisturbed run reaches — same Jobs by name, owner UID and restart attempt,
//     no duplicate or orphan, no leftover pod of the first attempt, restarts counted once;
// (b) the controller's connections are cut (a TCP proxy between it and the API server drops every
//     connection and refuses new ones for a while), and a real kube-apiserver restart (a private control
//     plane, plain and crash): JobSets created afterwards are reconciled to completion.
//
// Seed: $JOBSET_E2E_SEED (default fixed); every kill point is logged as a test diagnostic.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Labels } from "../../src/api/constants.ts";
import { defaultJobSet } from "../../src/api/defaults.ts";
import type { Service } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { type RunningControllerManager, startControllerManager } from "../../src/app/controller-manager.ts";
import { type ControlPlane, startControlPlane } from "../../src/local/controlplane.ts";
import { type FakeKubelet, startFakeKubelet } from "../../src/local/kubelet.ts";
import { isAlreadyExists, type KubeClient } from "../../src/runtime/client.ts";
import { jobSet, rjob } from "../builders.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";
import {
  assertJobs,
  condition,
  getJobSet,
  jobCondition,
  jobNames,
  jobSetsPath,
  jobSummary,
  listJobs,
  listPods,
  pinToNodes,
  waitJobSetCondition,
} from "../support/e2e.ts";
import { prng } from "../support/random.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const CHILD = join(root, "test/support/controller-child.ts");
const SEED = Number(process.env.JOBSET_E2E_SEED ?? "20240611");
const ITERATIONS = 3;
const KILLS_PER_ITERATION = 4;

// The shared cluster's pods of this file run on this file's nodes only.
const POOL = "e2e.jobset-ts/pool";
const POOL_ID = Math.random().toString(36).slice(2, 7);

const sim = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`fake.jobset.x-k8s.io/${k}`, v]));

/** leader ×1, workers ×3, flaky ×1 (fails on restart attempt 0 only): one restart, then completion. */
const RJOBS: [string, number][] = [
  ["leader", 1],
  ["workers", 3],
  ["flaky", 1],
];
const workload = (ns: string, name: string, restartStrategy: "Recreate" | "BlockingRecreate"): JobSet =>
  defaultJobSet(
    jobSet(name, ns)
      .failurePolicy({ maxRestarts: 3, restartStrategy })
      .replicatedJob(rjob("leader").podAnnotations(sim({ duration: "1s" })))
      .replicatedJob(
        rjob("workers")
          .replicas(3)
          .podAnnotations(sim({ duration: "500ms" })),
      )
      .replicatedJob(
        rjob("flaky")
          .backoffLimit(0)
          .restartPolicy("Never")
          .podAnnotations(sim({ duration: "300ms", "exit-code": "1", "fail-until-restart": "1" })),
      )
      .obj(),
  );
const pinned = (js: JobSet) => pinToNodes(js, POOL, POOL_ID);

interface Child {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | string | null>;
}

function startChild(kubeconfig: string, namespace: string, killAfterWrites: number): Child {
  let out = "";
  const proc = spawn(process.execPath, [CHILD], {
    cwd: root,
    env: {
      ...process.env,
      KUBECONFIG_PATH: kubeconfig,
      NAMESPACE: namespace,
      KILL_AFTER_WRITES: String(killAfterWrites),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout?.on("data", (d) => {
    out += String(d);
  });
  proc.stderr?.on("data", (d) => {
    out += String(d);
  });
  const exited = new Promise<number | string | null>((resolve) => {
    proc.on("exit", (code, signal) => resolve(signal ?? code));
  });
  return { proc, output: () => out, exited };
}

/** The final state, normalized (no UIDs or times): what must be identical across runs. */
async function finalState(c: KubeClient, ns: string, name: string) {
  const js = await getJobSet(c, ns, name);
  const jobs = await listJobs(c, ns);
  const pods = await listPods(c, ns);
  return {
    terminalState: js.status?.terminalState,
    restarts: js.status?.restarts,
    restartsCountTowardsMax: js.status?.restartsCountTowardsMax,
    conditions: (js.status?.conditions ?? []).map((x) => `${x.type}=${x.status}/${x.reason}`).sort(),
    replicatedJobsStatus: js.status?.replicatedJobsStatus,
    jobs: jobs.map((j) => jobSummary(j).replace(js.metadata?.uid ?? "?", "<uid>")),
    jobsComplete: jobs.map((j) => jobCondition(j, "Complete")),
    pods: pods
      .map(
        (p) =>
          `${p.metadata?.labels?.["batch.kubernetes.io/job-name"] ?? "?"}/${p.metadata?.labels?.[Labels.RestartAttempt]}/${p.status?.phase}`,
      )
      .sort(),
  };
}

describe("robustness", () => {
  let cluster: TestCluster;
  let kubelet: FakeKubelet;

  before(async () => {
    cluster = await useCluster("full");
    kubelet = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `robust-${POOL_ID}`,
      nodes: Array.from({ length: 3 }, () => ({ labels: { [POOL]: POOL_ID } })),
      log: () => {},
    });
  });
  after(async () => {
    await kubelet?.stop();
  });

  test("controller SIGKILLed at seeded-random points and restarted: same final state, no duplicate or orphan Job", async (t) => {
    t.diagnostic(`seed ${SEED} (set JOBSET_E2E_SEED to replay)`);
    const rand = prng(SEED);
    const children: Child[] = [];
    t.after(() => {
      for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
    });

    const run = async (iteration: number, kills: number) => {
      const ns = await testNamespace(t, cluster);
      const name = "robust";
      const strategy = iteration > 0 && rand() < 0.5 ? "BlockingRecreate" : "Recreate";
      const created = await cluster.client.create<JobSet>(jobSetsPath(ns), pinned(workload(ns, name, strategy)));
      const uid = created.metadata?.uid ?? "";
      const completed = waitJobSetCondition(cluster.client, ns, name, "Completed", 120_000);
      completed.catch(() => undefined);
      const points: string[] = [];
      for (let k = 0; k < kills; k++) {
        const n = 1 + Math.floor(rand() * 12);
        const child = startChild(cluster.kubeconfigPath, ns, n);
        children.push(child);
        const outcome = await Promise.race([child.exited, completed.then(() => "completed" as const)]);
        const lastWrite = child
          .output()
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("write "))
          .pop();
        if (outcome === "completed") {
          child.proc.kill("SIGKILL");
          await child.exited;
          points.push(`n=${n}: completed first`);
          break;
        }
        assert.equal(outcome, "SIGKILL", `child ${k} ended with ${outcome}: ${child.output()}`);
        points.push(`n=${n}: ${lastWrite?.replace(`/namespaces/${ns}`, "") ?? "?"}`);
      }
      t.diagnostic(`iteration ${iteration} (${strategy}): ${points.join("; ") || "no kill"}`);
      const last = startChild(cluster.kubeconfigPath, ns, 0);
      children.push(last);
      const done = await completed;
      // let the survivor settle (it may still be deleting nothing, or writing a last status), then stop it
      await waitFor(async () => (await listJobs(cluster.client, ns)).every((j) => jobCondition(j, "Complete")), {
        message: "every Job Complete",
      });
      last.proc.kill("SIGKILL");
      await last.exited;
      assert.equal(done.status?.restarts, 1, `restarted exactly once (${points.join("; ")})`);
      const jobs = await listJobs(cluster.client, ns);
      assertJobs(jobs, uid, jobNames(name, RJOBS), 1, `iteration ${iteration} (${points.join("; ")})`);
      const svc = await cluster.client.list<Service>(`/api/v1/namespaces/${ns}/services`);
      assert.deepEqual(
        svc.items.map((s) => s.metadata?.name),
        [name],
      );
      return finalState(cluster.client, ns, name);
    };

    const baseline = await run(0, 0);
    assert.equal(baseline.terminalState, "Completed");
    assert.ok(
      baseline.pods.every((p) => p.endsWith("/1/Succeeded")),
      baseline.pods.join(", "),
    );
    for (let i = 1; i <= ITERATIONS; i++) {
      const state = await run(i, KILLS_PER_ITERATION);
      assert.deepEqual(state, baseline, `iteration ${i} ends as the undisturbed run`);
    }
  });

  /** A small JobSet that completes in about a second. */
  const quick = (ns: string, name: string) =>
    defaultJobSet(
      jobSet(name, ns)
        .replicatedJob(
          rjob("w")
            .replicas(2)
            .podAnnotations(sim({ duration: "300ms" })),
        )
        .obj(),
    );

  test("every connection cut and refused for a while: JobSets created during and after the cut complete", async (t) => {
    const ns = await testNamespace(t, cluster);
    const dir = await mkdtemp(join(tmpdir(), "jobset-proxy-"));
    const proxy = await TcpProxy.start(new URL(cluster.server));
    const kubeconfig = await proxy.kubeconfig(cluster.kubeconfigPath, dir);
    const running = await startControllerManager({ client: { kubeconfig }, namespace: ns });
    t.after(async () => {
      await running.stop();
      await proxy.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await cluster.client.create(jobSetsPath(ns), pinned(quick(ns, "before")));
    await waitJobSetCondition(cluster.client, ns, "before", "Completed");

    proxy.blackhole();
    await cluster.client.create(jobSetsPath(ns), pinned(quick(ns, "during")));
    // the controller keeps trying: several reconnections refused (backoff grows meanwhile)
    await waitFor(() => proxy.dropped >= 4, { message: "4 refused reconnections", timeoutMs: 30_000 });
    assert.deepEqual(await listJobs(cluster.client, ns, "during"), [], "nothing reconciled while cut off");
    const acceptedBefore = proxy.accepted;
    proxy.restore();

    await waitJobSetCondition(cluster.client, ns, "during", "Completed", 60_000);
    await cluster.client.create(jobSetsPath(ns), pinned(quick(ns, "after")));
    await waitJobSetCondition(cluster.client, ns, "after", "Completed");
    assert.ok(proxy.accepted > acceptedBefore, "the controller reconnected through the proxy");
    // one more plain cut (no refusal): watches reconnect at once
    proxy.cut();
    await cluster.client.create(jobSetsPath(ns), pinned(quick(ns, "after-cut")));
    await waitJobSetCondition(cluster.client, ns, "after-cut", "Completed");
    for (const name of ["during", "after", "after-cut"]) {
      assert.equal((await listJobs(cluster.client, ns, name)).length, 2, name);
    }
  });

  /** Creates `js` once the API server answers again (AlreadyExists: an earlier attempt went through). */
  const createEventually = (client: KubeClient, ns: string, js: JobSet) =>
    waitFor(
      () =>
        client.create(jobSetsPath(ns), js).then(
          () => true,
          (e: unknown) => {
            if (isAlreadyExists(e)) return true;
            throw e;
          },
        ),
      { message: "the API server to accept the JobSet again", timeoutMs: 60_000 },
    );

  test("kube-apiserver restarts (graceful, then crash) on a private control plane: later JobSets complete", async (t) => {
    let cp: ControlPlane | undefined;
    let k: FakeKubelet | undefined;
    let running: RunningControllerManager | undefined;
    t.after(async () => {
      await running?.stop();
      await k?.stop();
      await cp?.stop();
    });
    const t0 = Date.now();
    const mark = (what: string) => t.diagnostic(`${what} at ${Date.now() - t0} ms`);
    cp = await startControlPlane({ profile: "full", unref: true, log: () => {} });
    mark("control plane up");
    const client = await cp.client();
    k = await startFakeKubelet({ kubeconfigPath: cp.kubeconfigPath, nodes: 2, log: () => {} });
    running = await startControllerManager({ client: { kubeconfig: cp.kubeconfigPath } });
    const ns = "restarts";
    await client.create("/api/v1/namespaces", { metadata: { name: ns } });
    await client.create(jobSetsPath(ns), quick(ns, "first"));
    await waitJobSetCondition(client, ns, "first", "Completed");
    mark("first completed");

    await cp.restartApiServer();
    mark("restarted");
    await createEventually(client, ns, quick(ns, "after-restart"));
    mark("created after-restart");
    await waitJobSetCondition(client, ns, "after-restart", "Completed", 60_000);
    mark("after-restart completed");

    await cp.restartApiServer({ crash: true });
    mark("crashed and restarted");
    await createEventually(client, ns, quick(ns, "after-crash"));
    const done = await waitJobSetCondition(client, ns, "after-crash", "Completed", 60_000);
    mark("after-crash completed");
    assert.ok(condition(done, "Completed"));
    for (const name of ["first", "after-restart", "after-crash"]) {
      assert.deepEqual(
        (await listJobs(client, ns, name)).map((j) => j.metadata?.name),
        [`${name}-w-0`, `${name}-w-1`],
      );
    }
  });
});
