// Which run of a container the kubelet API serves (logTarget), including a container waiting in
// CrashLoopBackOff, which serves the run that just ended, as a kubelet does.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { Pod } from "../../src/api/k8s.ts";
import { newKubeletStats } from "../../src/local/kubelet-context.ts";
import { PodRun } from "../../src/local/kubelet-pod-run.ts";
import { simPlan } from "../../src/local/kubelet-sim.ts";
import { newPodModel, runAgain, waitToRestart } from "../../src/local/kubelet-status.ts";
import type { KubeClient } from "../../src/runtime/client.ts";

const T0 = "2026-01-01T00:00:00.000Z";
const T1 = "2026-01-01T00:00:05.000Z";
const T2 = "2026-01-01T00:00:09.000Z";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function podRun(): Promise<PodRun> {
  const dataDir = await mkdtemp(join(tmpdir(), "pod-run-"));
  dirs.push(dataDir);
  const pod: Pod = {
    metadata: { name: "p", namespace: "ns", uid: "uid-1" },
    spec: { restartPolicy: "OnFailure", containers: [{ name: "main", image: "x" }] },
  };
  return new PodRun({
    pod,
    model: newPodModel(pod, { podIP: "127.244.0.9", hostIP: "127.0.0.1" }, T0),
    plan: simPlan(pod),
    adopted: false,
    dataDir,
    // Never called: nothing here publishes a status.
    client: {} as KubeClient,
    log: () => {},
    stats: newKubeletStats(),
    stopped: () => false,
  });
}

/** The run index a target serves, or the error status. */
const served = (t: ReturnType<PodRun["logTarget"]>) => ("run" in t ? t.run : t.status);

describe("PodRun.logTarget", () => {
  test("running: the current run; previous: the one before, or 400 when there is none", async () => {
    const run = await podRun();
    const c = run.model.containers[0]!;
    assert.equal(served(run.logTarget("main", false)), 0);
    assert.equal(served(run.logTarget("main", true)), 400);
    assert.equal(served(run.logTarget("nope", false)), 404);
    waitToRestart(c, 1, T1, "");
    runAgain(c, T1);
    assert.equal(served(run.logTarget("main", false)), 1);
    assert.equal(served(run.logTarget("main", true)), 0);
  });

  test("waiting in CrashLoopBackOff: both the default and previous serve the run that just ended", async () => {
    const run = await podRun();
    const c = run.model.containers[0]!;
    waitToRestart(c, 1, T1, "");
    runAgain(c, T1);
    waitToRestart(c, 1, T2, "back-off 200ms restarting failed container=main pod=p_ns(uid-1)");
    assert.equal(c.restartCount, 1);
    assert.equal(served(run.logTarget("main", false)), 1);
    assert.equal(served(run.logTarget("main", true)), 1);
  });

  test("waiting before any run: 400 with the reason", async () => {
    const run = await podRun();
    run.model.containers[0]!.state = { waiting: { reason: "CreateContainerConfigError" } };
    const t = run.logTarget("main", false);
    assert.ok("status" in t);
    assert.equal(t.status, 400);
    assert.equal(t.message, 'container "main" in pod "p_ns" is waiting to start: CreateContainerConfigError');
  });
});
