// The JobSet controller loop against a real kube-apiserver (profile `apiserver`): Jobs and the headless
// Service are created with the names and labels of spec §4, Job completion (written as the Job
// controller would) completes the JobSet with its event, and a steady JobSet costs no writes on resync.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Labels } from "../../src/api/constants.ts";
import { defaultJobSet } from "../../src/api/defaults.ts";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { Job, Service } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { startControllerManager } from "../../src/app/controller-manager.ts";
import { KubeClient } from "../../src/runtime/client.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { Metrics } from "../../src/runtime/metrics.ts";
import { jobSet, rjob } from "../builders.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";
import { expectEventually, jobSetsPath, jobsPath, runScenarios, ScenarioContext } from "./scenario.ts";

const logger = () => createLogger({ level: process.env.JOBSET_TEST_LOG_LEVEL ?? "silent", name: "controller-basic" });

describe("JobSet controller (apiserver profile)", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await useCluster("apiserver");
  });

  test("creates Jobs and the Service, then completes the JobSet when its Jobs complete", async (t) => {
    const ns = await testNamespace(t, cluster);
    const client = await KubeClient.create({ kubeconfig: cluster.kubeconfigPath, userAgent: "jobset-test-controller" });
    const metrics = new Metrics();
    const running = await startControllerManager({ client, namespace: ns, telemetry: { logger: logger(), metrics } });
    t.after(async () => {
      await running.stop();
      await client.close();
    });

    const js = defaultJobSet(
      jobSet("basic", ns)
        .replicatedJob(rjob("leader").replicas(1))
        .replicatedJob(rjob("workers").replicas(2).parallelism(2).completions(2))
        .obj(),
    );
    const ctx = new ScenarioContext(cluster.client, ns, js);
    const created = await ctx.create();
    const uid = created.metadata?.uid ?? "";

    const jobs = await waitFor(
      async () => {
        const list = await ctx.jobs();
        return list.length === 3 ? list : undefined;
      },
      { message: "3 Jobs" },
    );
    assert.deepEqual(
      jobs.map((j) => j.metadata?.name),
      ["basic-leader-0", "basic-workers-0", "basic-workers-1"],
    );
    const w1 = jobs[2] as Job;
    assert.deepEqual(
      {
        jobSetName: w1.metadata?.labels?.[Labels.JobSetName],
        uid: w1.metadata?.labels?.[Labels.JobSetUID],
        rjob: w1.metadata?.labels?.[Labels.ReplicatedJobName],
        index: w1.metadata?.labels?.[Labels.JobIndex],
        attempt: w1.metadata?.labels?.[Labels.RestartAttempt],
        owner: w1.metadata?.ownerReferences?.map((r) => `${r.apiVersion}/${r.kind}/${r.name}/${r.uid}/${r.controller}`),
        subdomain: w1.spec?.template.spec?.subdomain,
        parallelism: w1.spec?.parallelism,
      },
      {
        jobSetName: "basic",
        uid,
        rjob: "workers",
        index: "1",
        attempt: "0",
        owner: [`jobset.x-k8s.io/v1alpha2/JobSet/basic/${uid}/true`],
        subdomain: "basic",
        parallelism: 2,
      },
    );
    const svc = await cluster.client.get<Service>(`/api/v1/namespaces/${ns}/services/basic`);
    assert.equal(svc.spec?.clusterIP, "None");
    assert.deepEqual(svc.spec?.selector, { [Labels.JobSetName]: "basic" });
    assert.equal(svc.spec?.publishNotReadyAddresses, true);
    assert.equal(svc.metadata?.ownerReferences?.[0]?.uid, uid);

    // Status reflects the Jobs: all active, none ready.
    await expectEventually(ctx, {
      status: {
        restarts: 0,
        replicatedJobsStatus: [
          { name: "leader", active: 0, ready: 0, succeeded: 0, failed: 0, suspended: 0 },
          { name: "workers", active: 0, ready: 0, succeeded: 0, failed: 0, suspended: 0 },
        ],
      },
    });
    await ctx.readyJobs();
    await expectEventually(ctx, {
      status: {
        replicatedJobsStatus: [
          { name: "leader", active: 1, ready: 1 },
          { name: "workers", active: 2, ready: 2 },
        ],
      },
    });

    await ctx.completeJobs();
    await expectEventually(ctx, {
      status: {
        terminalState: "Completed",
        replicatedJobsStatus: [
          { name: "leader", succeeded: 1, active: 0, ready: 0 },
          { name: "workers", succeeded: 2, active: 0, ready: 0 },
        ],
      },
      conditions: [
        { type: "Completed", status: "True", reason: "AllJobsCompleted", message: "jobset completed successfully" },
      ],
      events: [{ reason: "AllJobsCompleted", type: "Normal", message: "jobset completed successfully" }],
    });
    const text = await metrics.text();
    assert.match(text, new RegExp(`jobset_completed_total\\{jobset_name="basic",namespace="${ns}"\\} 1`));
    assert.equal(running.controller.stats.errors, 0, "no reconcile errors (no 409 loops, no AlreadyExists)");
  });

  test("a steady JobSet costs zero writes per resync", async (t) => {
    const ns = await testNamespace(t, cluster);
    const client = await KubeClient.create({ kubeconfig: cluster.kubeconfigPath, userAgent: "jobset-test-controller" });
    const running = await startControllerManager({
      client,
      namespace: ns,
      telemetry: { logger: logger() },
      gates: defaultFeatureGates,
      jobset: { resyncPeriodMs: 300 },
    });
    t.after(async () => {
      await running.stop();
      await client.close();
    });
    const js: JobSet = defaultJobSet(jobSet("steady", ns).replicatedJob(rjob("w").replicas(3)).obj());
    await cluster.client.create(jobSetsPath(ns), js);
    const ctx = new ScenarioContext(cluster.client, ns, js);
    ctx.uid = (await ctx.jobSet()).metadata?.uid ?? "";
    await expectEventually(ctx, {
      jobs: 3,
      service: true,
      status: { replicatedJobsStatus: [{ name: "w", active: 0 }] },
    });
    // Let the last status write echo back, then count.
    const c = running.controller;
    await waitFor(() => c.queue.len === 0 && c.queue.inFlight === 0, { message: "idle queue" });
    const writes = () =>
      Object.entries(client.requestCounts)
        .filter(([m]) => m !== "GET")
        .reduce((s, [, n]) => s + n, 0);
    const before = { writes: writes(), reconciles: c.stats.reconciles };
    // Several resync periods: each re-delivers the JobSet, its 3 Jobs and the Service → reconciles.
    await waitFor(() => c.stats.reconciles >= before.reconciles + 12, { message: "resync reconciles" });
    await waitFor(() => c.queue.len === 0 && c.queue.inFlight === 0, { message: "idle queue" });
    assert.ok(c.stats.reconciles >= before.reconciles + 12);
    assert.equal(writes(), before.writes, `writes during resyncs: ${JSON.stringify(client.requestCounts)}`);
    const list = await cluster.client.list<Job>(jobsPath(ns));
    assert.equal(list.items.length, 3);
  });

  test("a Job seen and deleted before its create's answer is handled is re-created at once, not held as pending", async (t) => {
    const ns = await testNamespace(t, cluster);
    const client = await KubeClient.create({ kubeconfig: cluster.kubeconfigPath, userAgent: "jobset-test-race" });
    // The controller's first Job create answers only once the test lets it: by then the Job was created,
    // shown by the informer, deleted, and shown deleted.
    let release!: () => void;
    let hold: Promise<void> | undefined = new Promise((r) => {
      release = r;
    });
    const create = client.create.bind(client);
    client.create = (async (path: string, body: unknown, query?: Parameters<KubeClient["create"]>[2]) => {
      const out = await create(path, body, query);
      if (/\/jobs$/.test(path) && hold) {
        const h = hold;
        hold = undefined;
        await h;
      }
      return out;
    }) as KubeClient["create"];
    const running = await startControllerManager({ client, namespace: ns, telemetry: { logger: logger() } });
    t.after(async () => {
      release();
      await running.stop();
      await client.close();
    });
    const ctx = new ScenarioContext(
      cluster.client,
      ns,
      defaultJobSet(jobSet("race", ns).replicatedJob(rjob("w").replicas(1)).obj()),
    );
    await ctx.create();
    const first = await waitFor(async () => (await ctx.jobs())[0], { message: "the Job created" });
    await waitFor(() => running.controller.jobs.get(ns, "race-w-0") !== undefined, {
      message: "the informer shows it",
    });
    await ctx.deleteJob("race-w-0");
    await waitFor(() => running.controller.jobs.get(ns, "race-w-0") === undefined, {
      message: "the informer shows it deleted",
    });
    release();
    const again = await waitFor(
      async () => {
        const j = (await ctx.jobs()).find((x) => x.metadata?.name === "race-w-0");
        return j && j.metadata?.uid !== first.metadata?.uid ? j : undefined;
      },
      { timeoutMs: 15_000, message: "race-w-0 re-created (well before the 60 s a pending create is kept)" },
    );
    assert.equal(again.metadata?.labels?.[Labels.RestartAttempt], "0");
  });
});

// The scenario framework itself, on the two basic failure paths.
runScenarios("scenario framework", [
  {
    name: "a failed Job fails the JobSet (no failure policy)",
    jobSet: jobSet("fail").replicatedJob(rjob("w").replicas(2)),
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.failJob(ctx.jobName("w", 1)),
        expect: {
          status: { terminalState: "Failed", replicatedJobsStatus: [{ name: "w", failed: 1 }] },
          conditions: [{ type: "Failed", status: "True", reason: "FailedJobs" }],
          events: [
            {
              reason: "FailedJobs",
              type: "Warning",
              message: "jobset failed due to one or more job failures (first failed job: fail-w-1)",
            },
          ],
          // the remaining active Job is deleted in the foreground
          jobs: (jobs) =>
            jobs.find((j) => j.metadata?.name === "fail-w-0")?.metadata?.deletionTimestamp
              ? true
              : "fail-w-0 not deleting",
        },
      },
    ],
  },
  {
    name: "maxRestarts 1: a failure restarts every Job with restart-attempt 1",
    jobSet: jobSet("restart").replicatedJob(rjob("w").replicas(2)).failurePolicy({ maxRestarts: 1 }),
    finalizeDeleted: true,
    steps: [
      { expect: { jobs: 2 } },
      {
        do: (ctx) => ctx.failJob(ctx.jobName("w", 0)),
        expect: {
          status: { restarts: 1, restartsCountTowardsMax: 1 },
          conditions: [{ type: "RestartingJobSet", status: "True" }],
          jobs: (jobs) =>
            jobs.length === 2 &&
            jobs.every((j) => j.metadata?.labels?.[Labels.RestartAttempt] === "1" && !j.metadata.deletionTimestamp)
              ? true
              : jobs.map((j) => `${j.metadata?.name}@${j.metadata?.labels?.[Labels.RestartAttempt]}`).join(","),
        },
      },
      {
        do: (ctx) => ctx.readyJobs(),
        expect: { conditions: [{ type: "RestartingJobSet", status: "False", reason: "JobsReady" }] },
      },
      {
        do: (ctx) => ctx.completeJobs(),
        expect: { status: { terminalState: "Completed" }, events: [{ reason: "AllJobsCompleted" }] },
      },
    ],
  },
]);
