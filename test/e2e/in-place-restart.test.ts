// In-place restart end to end (behavior spec §8): the full control plane (real Job controller,
// scheduler, garbage collector), our controller and webhooks with gate InPlaceRestart on, and the fake
// kubelet's exec runtime, where every pod runs the real agent — `jobset agent`, a local process with the
// pod's service-account token (jobset-in-place-restart, with the shipped Role and admission policy) —
// as its only container wrapping a shell worker (main container mode), or as a native sidecar whose
// startup probe holds the worker container back, with RestartAllContainers rules (sidecar mode). The test steers the workers with
// files: `fail-<pod>` makes that worker exit 7 once, `finish` makes every worker exit 0; each worker
// start appends its pod name to `starts`.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AgentPolicyName, AgentServiceAccountName } from "../../src/agent/rbac.ts";
import { Annotations, Labels } from "../../src/api/constants.ts";
import { parseFeatureGates } from "../../src/api/features.ts";
import type { Job, Pod } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { type FakeKubelet, startFakeKubelet } from "../../src/local/kubelet.ts";
import { agentContainer, fieldRef, SidecarRestartExitCode, sidecarModePod } from "../support/agent.ts";
import { kubectl, type TestCluster, useCluster, waitFor } from "../support/cluster.ts";
import { condition, getJobSet, jobSetsPath, listJobs, listPods, waitJobSetCondition } from "../support/e2e.ts";
import { type Stack, startStack } from "../support/stack.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ATTEMPT = Annotations.InPlaceRestartAttempt;
const POOL = "e2e.jobset-ts/in-place-pool";
const suffix = Math.random().toString(36).slice(2, 7);
const MaxInt32 = 2147483647;

/** The worker: records its start, fails once when told, finishes when told. */
const workerScript = (dir: string) =>
  [
    `D=${dir}`,
    'echo "$POD_NAME" >> "$D/starts"',
    'echo "worker $POD_NAME attempt $RESTART_ATTEMPT started"',
    'if [ -n "$FAIL_ON_ATTEMPT" ] && [ "$RESTART_ATTEMPT" = "$FAIL_ON_ATTEMPT" ]; then echo "failing the Job"; exit 3; fi',
    "while :; do",
    '  if [ -f "$D/fail-$POD_NAME" ]; then rm -f "$D/fail-$POD_NAME"; echo "worker failing"; exit 7; fi',
    '  if [ -f "$D/finish" ]; then echo "worker done"; exit 0; fi',
    "  sleep 0.1",
    "done",
  ].join("\n");

interface Options {
  name: string;
  replicas?: number;
  parallelism?: number;
  maxRestarts?: number;
  disable?: boolean;
  /** The Job fails (podFailurePolicy FailJob on exit 3, restartPolicy Never) when the worker runs at this JobSet restart attempt. */
  failJobOnAttempt?: number;
  /** Sidecar mode: the agent is a native sidecar, the worker its own container (restart rules, startup probe). */
  sidecar?: boolean;
}

/** The pod spec's containers: the agent wrapping the worker (main container mode), or both side by side. */
function podContainers(dir: string, o: Options, failJob: boolean) {
  const attemptEnv = [
    { name: "RESTART_ATTEMPT", ...fieldRef(`metadata.labels['${Labels.RestartAttempt}']`) },
    ...(failJob ? [{ name: "FAIL_ON_ATTEMPT", value: String(o.failJobOnAttempt) }] : []),
  ];
  if (!o.sidecar)
    return {
      restartPolicy: failJob ? "Never" : "OnFailure",
      containers: [agentContainer(workerScript(dir), attemptEnv)],
    };
  return sidecarModePod(workerScript(dir), attemptEnv);
}

function inPlaceJobSet(ns: string, dir: string, o: Options): JobSet {
  const parallelism = o.parallelism ?? 2;
  const failJob = o.failJobOnAttempt !== undefined;
  return {
    apiVersion: "jobset.x-k8s.io/v1alpha2",
    kind: "JobSet",
    metadata: {
      name: o.name,
      namespace: ns,
      ...(o.disable ? { annotations: { [Annotations.DisableInPlaceRestart]: "true" } } : {}),
    },
    spec: {
      failurePolicy: { maxRestarts: o.maxRestarts ?? 3, restartStrategy: "InPlaceRestart" },
      replicatedJobs: [
        {
          name: "workers",
          replicas: o.replicas ?? 2,
          template: {
            spec: {
              completions: parallelism,
              parallelism,
              backoffLimit: MaxInt32,
              podReplacementPolicy: "Failed",
              ...(failJob
                ? { podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { operator: "In", values: [3] } }] } }
                : {}),
              template: {
                spec: {
                  serviceAccountName: AgentServiceAccountName,
                  terminationGracePeriodSeconds: 1,
                  nodeSelector: { [POOL]: suffix },
                  ...podContainers(dir, o, failJob),
                },
              },
            },
          },
        },
      ],
    },
  } as JobSet;
}

describe("in-place restart (gate InPlaceRestart, the agent in main container and sidecar mode, exec kubelet)", () => {
  let cluster: TestCluster;
  let kubelet: FakeKubelet;
  let stack: Stack;
  let scratch = "";

  before(async () => {
    cluster = await useCluster("full");
    scratch = mkdtempSync(join(tmpdir(), "jobset-in-place-"));
    kubelet = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `ipr-${suffix}`,
      nodes: Array.from({ length: 4 }, () => ({ labels: { [POOL]: suffix } })),
      runtime: "exec",
      log: (level, msg, fields) => {
        if (process.env.E2E_KUBELET_LOG)
          process.stderr.write(`kubelet ${level}: ${msg} ${JSON.stringify(fields ?? {})}\n`);
      },
    });
    stack = await startStack(cluster, { webhooks: true, gates: parseFeatureGates({ InPlaceRestart: true }) });
  });
  after(async () => {
    await stack?.stop();
    await kubelet?.stop();
    for (const kind of ["validatingadmissionpolicybindings", "validatingadmissionpolicies"])
      await cluster?.client
        .delete(`/apis/admissionregistration.k8s.io/v1/${kind}/${AgentPolicyName}`)
        .catch(() => undefined);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** A namespace with the agent's ServiceAccount, Role and admission policy (the shipped component). */
  async function agentNamespace(t: Parameters<Stack["namespace"]>[0]): Promise<string> {
    const ns = await stack.namespace(t);
    const top = mkdtempSync(join(scratch, "kustomize-"));
    const component = relative(top, join(root, "config", "components", "in-place-restart-agent"));
    writeFileSync(
      join(top, "kustomization.yaml"),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${ns}\ncomponents:\n  - ${component}\n`,
    );
    await kubectl(cluster, ["apply", "--server-side", "-f", "-"], await kubectl(cluster, ["kustomize", top]));
    return ns;
  }

  /** A directory the workers of one test watch. */
  const controlDir = () => mkdtempSync(join(scratch, "ctl-"));
  const starts = (dir: string): Map<string, number> => {
    const m = new Map<string, number>();
    const f = join(dir, "starts");
    if (!existsSync(f)) return m;
    for (const line of readFileSync(f, "utf8").split("\n").filter(Boolean)) m.set(line, (m.get(line) ?? 0) + 1);
    return m;
  };
  const restartCount = (p: Pod) => p.status?.containerStatuses?.[0]?.restartCount ?? 0;
  const running = (p: Pod) => p.status?.phase === "Running" && !!p.status?.containerStatuses?.[0]?.state?.running;
  const podsOf = (ns: string, name: string) => listPods(cluster.client, ns, `${Labels.JobSetName}=${name}`);
  const agentLogs = async (ns: string, pods: Pod[]) =>
    (
      await Promise.all(
        pods.map(
          async (p) => `--- ${p.metadata?.name}\n${await kubelet.readLogs(ns, p.metadata?.name ?? "", "agent")}`,
        ),
      )
    ).join("\n");

  /** Waits until every pod's worker has started `n` times and every pod is running. */
  async function waitWorkersStarted(ns: string, name: string, dir: string, pods: number, n: number): Promise<Pod[]> {
    return waitFor(
      async () => {
        const list = (await podsOf(ns, name)).filter(
          (p) => p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded",
        );
        const s = starts(dir);
        const ok = list.length === pods && list.every((p) => running(p) && s.get(p.metadata?.name ?? "") === n);
        return ok ? list : undefined;
      },
      { timeoutMs: 90_000, message: `${pods} workers of ${ns}/${name} started ${n} time(s)` },
    ).catch(async (e) => {
      throw new Error(
        `${(e as Error).message}\nstarts: ${JSON.stringify([...starts(dir)])}\n${await agentLogs(ns, await podsOf(ns, name))}\n` +
          JSON.stringify(
            (await podsOf(ns, name)).map((p) => [p.metadata?.name, p.status]),
            null,
            1,
          ),
      );
    });
  }

  test("one worker fails: every pod restarts in place, the attempts move as §8.3, the barrier lifts, the JobSet completes", async (t) => {
    const ns = await agentNamespace(t);
    const dir = controlDir();
    const name = "ipr";
    const created = await cluster.client.create<JobSet>(jobSetsPath(ns), inPlaceJobSet(ns, dir, { name }));

    const first = await waitWorkersStarted(ns, name, dir, 4, 1);
    let js = await getJobSet(cluster.client, ns, name);
    assert.equal(js.status?.currentInPlaceRestartAttempt, 0, "all agents annotated 0: the barrier lifted at 0");
    assert.equal(js.status?.previousInPlaceRestartAttempt, undefined);
    assert.deepEqual(
      first.map((p) => p.metadata?.annotations?.[ATTEMPT]),
      ["0", "0", "0", "0"],
    );
    assert.deepEqual(first.map(restartCount), [0, 0, 0, 0]);
    const jobsBefore = await listJobs(cluster.client, ns, name);
    assert.equal(jobsBefore.length, 2);

    // worker of the second pod fails
    const victim = first[1] as Pod;
    writeFileSync(join(dir, `fail-${victim.metadata?.name}`), "");
    const second = await waitWorkersStarted(ns, name, dir, 4, 2);

    js = await getJobSet(cluster.client, ns, name);
    assert.equal(js.status?.currentInPlaceRestartAttempt, 1);
    assert.equal(js.status?.previousInPlaceRestartAttempt, 0);
    assert.equal(js.status?.restarts, 0, "no JobSet-level restart");
    // the same pods (UID, node), each container restarted exactly once
    const key = (p: Pod) => `${p.metadata?.name} ${p.metadata?.uid} ${p.spec?.nodeName}`;
    assert.deepEqual(second.map(key), first.map(key));
    assert.deepEqual(second.map(restartCount), [1, 1, 1, 1]);
    assert.deepEqual(
      second.map((p) => p.metadata?.annotations?.[ATTEMPT]),
      ["1", "1", "1", "1"],
    );
    const victimNow = second.find((p) => p.metadata?.uid === victim.metadata?.uid);
    assert.equal(victimNow?.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 7, "the worker's code");
    for (const p of second.filter((x) => x !== victimNow))
      assert.equal(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 1, "IN_PLACE_RESTART_EXIT_CODE");
    // no new Job
    const jobsAfter = await listJobs(cluster.client, ns, name);
    assert.deepEqual(
      jobsAfter.map((j: Job) => j.metadata?.uid),
      jobsBefore.map((j: Job) => j.metadata?.uid),
    );

    writeFileSync(join(dir, "finish"), "");
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed", 90_000);
    assert.equal(condition(done, "Completed")?.reason, "AllJobsCompleted");
    assert.equal(done.metadata?.uid, created.metadata?.uid);
    assert.equal(done.status?.restarts, 0);
  });

  test("repeated failures exhaust maxRestarts: the JobSet fails with ReachedMaxRestarts", async (t) => {
    const ns = await agentNamespace(t);
    const dir = controlDir();
    const name = "ipr-max";
    await cluster.client.create<JobSet>(jobSetsPath(ns), inPlaceJobSet(ns, dir, { name, replicas: 1, maxRestarts: 1 }));
    const first = await waitWorkersStarted(ns, name, dir, 2, 1);
    writeFileSync(join(dir, `fail-${first[0]?.metadata?.name}`), "");
    const second = await waitWorkersStarted(ns, name, dir, 2, 2);
    assert.deepEqual(second.map(restartCount), [1, 1]);
    assert.equal(condition(await getJobSet(cluster.client, ns, name), "Failed"), undefined, "1 restart is allowed");

    writeFileSync(join(dir, `fail-${second[0]?.metadata?.name}`), "");
    const failed = await waitJobSetCondition(cluster.client, ns, name, "Failed", 90_000);
    const c = condition(failed, "Failed");
    assert.equal(c?.reason, "ReachedMaxRestarts");
    assert.equal(c?.message, "jobset failed due to reaching max number of restarts");
    assert.equal(failed.status?.restarts, 0, "never recreated");
    writeFileSync(join(dir, "finish"), "");
  });

  test("disable-in-place-restart: the agents bypass the barrier and never annotate", async (t) => {
    const ns = await agentNamespace(t);
    const dir = controlDir();
    const name = "ipr-off";
    await cluster.client.create<JobSet>(jobSetsPath(ns), inPlaceJobSet(ns, dir, { name, replicas: 1, disable: true }));
    const pods = await waitWorkersStarted(ns, name, dir, 2, 1);
    assert.deepEqual(
      pods.map((p) => p.metadata?.annotations?.[ATTEMPT]),
      [undefined, undefined],
    );
    const js = await getJobSet(cluster.client, ns, name);
    assert.equal(js.status?.currentInPlaceRestartAttempt, undefined);
    writeFileSync(join(dir, "finish"), "");
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed", 90_000);
    assert.equal(done.status?.currentInPlaceRestartAttempt, undefined);
  });

  test("a failed Job is still handled as Recreate: new Jobs, restarts 1, the new pods pass the barrier", async (t) => {
    const ns = await agentNamespace(t);
    const dir = controlDir();
    const name = "ipr-fail";
    const created = await cluster.client.create<JobSet>(
      jobSetsPath(ns),
      inPlaceJobSet(ns, dir, { name, replicas: 1, failJobOnAttempt: 0 }),
    );
    // attempt 0: a worker exits 3 → podFailurePolicy FailJob → the JobSet recreates its Jobs (attempt 1)
    const jobs = await waitFor(
      async () => {
        const list = await listJobs(cluster.client, ns, name);
        return list.length === 1 && list[0]?.metadata?.labels?.[Labels.RestartAttempt] === "1" ? list : undefined;
      },
      { timeoutMs: 90_000, message: "the Job recreated at restart attempt 1" },
    );
    const owner = jobs[0]?.metadata?.ownerReferences?.find((r) => r.controller);
    assert.equal(owner?.uid, created.metadata?.uid);
    await waitFor(
      async () => {
        const pods = (await podsOf(ns, name)).filter((p) => p.metadata?.labels?.[Labels.RestartAttempt] === "1");
        const s = starts(dir);
        return pods.length === 2 && pods.every((p) => running(p) && (s.get(p.metadata?.name ?? "") ?? 0) >= 1);
      },
      { timeoutMs: 90_000, message: "the new pods' workers passed the barrier" },
    );
    const js = await getJobSet(cluster.client, ns, name);
    assert.equal(js.status?.restarts, 1);
    assert.equal(typeof js.status?.currentInPlaceRestartAttempt, "number");
    writeFileSync(join(dir, "finish"), "");
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed", 90_000);
    assert.equal(done.status?.restarts, 1);
  });

  test("sidecar mode: the agent is a native sidecar; one worker fails → RestartAllContainers restarts every pod in place, the startup probe holds the workers until the barrier lifts", async (t) => {
    const ns = await agentNamespace(t);
    const dir = controlDir();
    const name = "ipr-side";
    const created = await cluster.client.create<JobSet>(
      jobSetsPath(ns),
      inPlaceJobSet(ns, dir, { name, sidecar: true }),
    );

    const first = await waitWorkersStarted(ns, name, dir, 4, 1);
    assert.equal((await getJobSet(cluster.client, ns, name)).status?.currentInPlaceRestartAttempt, 0);
    assert.deepEqual(
      first.map((p) => p.metadata?.annotations?.[ATTEMPT]),
      ["0", "0", "0", "0"],
    );
    assert.ok(
      first.every((p) => p.status?.initContainerStatuses?.[0]?.started === true),
      "every agent passed its startup probe",
    );
    const jobsBefore = await listJobs(cluster.client, ns, name);

    const victim = first[2] as Pod;
    writeFileSync(join(dir, `fail-${victim.metadata?.name}`), "");
    const second = await waitWorkersStarted(ns, name, dir, 4, 2);

    const js = await getJobSet(cluster.client, ns, name);
    assert.equal(js.status?.currentInPlaceRestartAttempt, 1);
    assert.equal(js.status?.previousInPlaceRestartAttempt, 0);
    assert.equal(js.status?.restarts, 0, "no JobSet-level restart");
    const key = (p: Pod) => `${p.metadata?.name} ${p.metadata?.uid} ${p.spec?.nodeName}`;
    assert.deepEqual(second.map(key), first.map(key), "the same pods on the same nodes");
    const counts = (p: Pod) => [
      p.status?.initContainerStatuses?.[0]?.restartCount,
      p.status?.containerStatuses?.[0]?.restartCount,
    ];
    assert.deepEqual(second.map(counts), [
      [1, 1],
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    assert.deepEqual(
      second.map((p) => p.metadata?.annotations?.[ATTEMPT]),
      ["1", "1", "1", "1"],
    );
    const agentExit = (p: Pod) => p.status?.initContainerStatuses?.[0]?.lastState?.terminated?.exitCode;
    const workerExit = (p: Pod) => p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode;
    const victimNow = second.find((p) => p.metadata?.uid === victim.metadata?.uid) as Pod;
    assert.equal(workerExit(victimNow), 7, "the failing worker's code triggered its pod's restart");
    for (const p of second.filter((x) => x !== victimNow))
      assert.equal(agentExit(p), SidecarRestartExitCode, "a stale agent exited with the restart code");
    assert.deepEqual(
      (await listJobs(cluster.client, ns, name)).map((j: Job) => j.metadata?.uid),
      jobsBefore.map((j: Job) => j.metadata?.uid),
      "no new Job",
    );

    writeFileSync(join(dir, "finish"), "");
    const done = await waitJobSetCondition(cluster.client, ns, name, "Completed", 90_000);
    assert.equal(done.metadata?.uid, created.metadata?.uid);
    assert.equal(done.status?.restarts, 0);
  });
});
