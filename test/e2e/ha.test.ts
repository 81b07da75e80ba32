// High availability: `jobset controller` processes with leader election (Lease 6d4f6a47.jobset.x-k8s.io,
// 15 s / 10 s / 2 s) against the full control plane, pods driven by the fake kubelet (simulate mode).
// The processes watch only this file's namespace (--namespace) and run with --webhooks=false (a URL
// webhook registration would point at one replica; the JobSets are created already defaulted), plain
// HTTP /metrics (an authorized HTTPS scrape makes TokenReview/SubjectAccessReview POSTs, which would
// blur the "the follower writes nothing" check; HTTPS /metrics is covered by the integration test
// controller-process.test.ts).
//
// 1. A leads, B follows: only A reconciles (A's reconcile counters move, B's stay at zero and B makes no
//    API request but GETs).
// 2. SIGKILL A while JobSets are in flight (pods running; one JobSet waiting on dependsOn; one created
//    while nobody leads): B takes over once the Lease expired, and every JobSet completes with exactly
//    the expected Jobs (names, one controller owner, attempt 0; nothing else in the namespace).
//    client-go's election (which we follow) bounds the takeover by leaseDuration plus two jittered
//    retry intervals (2 s × (1 + 1.2) each): the follower notices the last renewal up to one interval
//    late and notices the expiry up to one interval late. The expected value is ~17 s.
// 3. Graceful: C follows B; SIGTERM B releases the Lease and C acquires it within one jittered retry
//    interval; a JobSet in flight completes under C.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { defaultJobSet } from "../../src/api/defaults.ts";
import type { Lease, Pod } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { type FakeKubelet, SimAnnotations, startFakeKubelet } from "../../src/local/kubelet.ts";
import { type JobSetBuilder, jobSet, rjob } from "../builders.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";
import { type ControllerProcess, freePort, metricSum, spawnController } from "../support/controller-process.ts";
import {
  assertJobs,
  condition,
  getJobSet,
  jobNames,
  jobSetsPath,
  listJobs,
  listPods,
  waitJobSetCondition,
} from "../support/e2e.ts";

const LEASE_NAME = "6d4f6a47.jobset.x-k8s.io";
const LEASE_DURATION_MS = 15_000;
const RETRY_PERIOD_MS = 2_000;
const JITTER_FACTOR = 1.2;
const MAX_RETRY_INTERVAL_MS = RETRY_PERIOD_MS * (1 + JITTER_FACTOR);
/** Slack for API round trips and process scheduling on a loaded 2-core machine. */
const SLACK_MS = 1_500;

const micro = (t: string | undefined): number => (t ? Date.parse(t) : Number.NaN);

interface Replica {
  name: string;
  proc: ControllerProcess;
  metricsPort: number;
  /** The leader-election identity (logged when it starts campaigning). */
  identity: string;
}

describe("HA: jobset controller replicas with leader election", () => {
  let cluster: TestCluster;
  let kubelet: FakeKubelet;
  let dir: string;
  const id = randomBytes(3).toString("hex");
  const nodeLabel = { "jobset-ts.test/ha": id };
  const taint = { key: "jobset-ts.test/ha", value: id, effect: "NoSchedule" as const };

  before(async () => {
    cluster = await useCluster("full");
    // Own tainted nodes: our pods run there only, other files' pods never do.
    kubelet = await startFakeKubelet({
      client: cluster.client,
      namePrefix: `ha-${id}`,
      nodes: [
        { labels: nodeLabel, taints: [taint] },
        { labels: nodeLabel, taints: [taint] },
      ],
      defaultDurationMs: 1000,
    });
    dir = await mkdtemp(join(tmpdir(), "jobset-ha-"));
  });
  after(async () => {
    await kubelet?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("one leader reconciles; SIGKILL hands over within the lease bound; SIGTERM hands over at once", async (t) => {
    const c = cluster.client;
    const ns = await testNamespace(t, cluster);
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${LEASE_NAME}`;
    const lease = () => c.get<Lease>(leasePath);
    const cfg = join(dir, "config.yaml");
    await writeFile(
      cfg,
      [
        "apiVersion: config.jobset.x-k8s.io/v1alpha1",
        "kind: Configuration",
        "leaderElection:",
        "  leaderElect: true",
        `  resourceNamespace: ${ns}`,
        "",
      ].join("\n"),
    );

    const start = async (name: string): Promise<Replica> => {
      const metricsPort = await freePort();
      const healthPort = await freePort();
      const proc = spawnController(t, [
        `--config=${cfg}`,
        `--kubeconfig=${cluster.kubeconfigPath}`,
        `--namespace=${ns}`,
        "--webhooks=false",
        "--metrics-secure=false",
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        `--health-probe-bind-address=127.0.0.1:${healthPort}`,
        "--zap-devel=false",
      ]);
      const identity = await waitFor(
        () => proc.findLog("attempting to acquire leader lease")?.identity as string | undefined,
        { message: `replica ${name} to campaign (output: ${proc.output().slice(-2000)})` },
      );
      t.diagnostic(`replica ${name}: pid ${proc.pid}, identity ${identity}`);
      return { name, proc, metricsPort, identity };
    };
    const metrics = async (r: Replica) => (await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`)).text();
    const reconciles = async (r: Replica) =>
      metricSum(await metrics(r), "controller_runtime_reconcile_total", { controller: "jobset" });
    const writes = async (r: Replica) => metricSum(await metrics(r), "rest_client_requests_total", { method: "!GET" });
    const holder = async () => (await lease()).spec?.holderIdentity ?? "";
    const waitHolder = (r: Replica, timeoutMs: number) =>
      waitFor(async () => ((await holder()) === r.identity ? Date.now() : undefined), {
        timeoutMs,
        intervalMs: 50,
        message: `replica ${r.name} to hold the Lease`,
      });

    // Pods on our nodes only, running `duration` in the fake kubelet.
    const onOurNodes = (b: ReturnType<typeof rjob>, duration: string) =>
      b
        .nodeSelector(nodeLabel)
        .tolerations(taint)
        .podAnnotations({ [SimAnnotations.Duration]: duration });
    const create = async (b: JobSetBuilder): Promise<JobSet> => {
      const js = defaultJobSet(b.obj());
      return c.create<JobSet>(jobSetsPath(ns), js);
    };

    // ------------------------------------------------------------------ 1. A leads, B follows
    const a = await start("A");
    await waitHolder(a, 30_000);
    const b = await start("B");
    await waitFor(() => b.proc.findLog("new leader elected", { leader: a.identity }), {
      message: "B to observe A as the leader",
    });

    const jsA = await create(
      jobSet("ha-a", ns)
        .replicatedJob(onOurNodes(rjob("driver"), "3s"))
        .replicatedJob(onOurNodes(rjob("workers").replicas(2), "3s")),
    );
    const jsB = await create(
      jobSet("ha-b", ns)
        .replicatedJob(onOurNodes(rjob("first"), "2s"))
        .replicatedJob(onOurNodes(rjob("second").replicas(2), "1s").dependsOn("first", "Complete")),
    );
    // In flight: every Job of ha-a exists and its pods run; ha-b's second rjob waits on the first.
    await waitFor(
      async () => {
        const pods = await listPods(c, ns, "jobset.sigs.k8s.io/jobset-name=ha-a");
        return pods.length === 3 && pods.every((p: Pod) => p.status?.phase === "Running");
      },
      { timeoutMs: 30_000, message: "ha-a's 3 pods to run" },
    );
    await waitFor(async () => (await listJobs(c, ns, "ha-b")).length === 1, { message: "ha-b's first Job" });

    assert.equal(await holder(), a.identity);
    assert.ok((await reconciles(a)) > 0, "the leader reconciles");
    assert.equal(await reconciles(b), 0, "the follower does not reconcile");
    assert.equal(await writes(b), 0, `the follower makes no write requests:\n${await metrics(b)}`);
    assert.equal(metricSum(await metrics(a), "leader_election_master_status"), 1);
    assert.equal(metricSum(await metrics(b), "leader_election_master_status"), 0);
    assert.equal(b.proc.findLog("successfully acquired lease"), undefined);

    // ------------------------------------------------------------------ 2. SIGKILL the leader
    const killedAt = Date.now();
    const killed = await a.proc.stop("SIGKILL", 10_000);
    assert.equal(killed.signal, "SIGKILL");
    const last = await lease(); // A's final renewal
    assert.equal(last.spec?.holderIdentity, a.identity);
    assert.equal(condition(await getJobSet(c, ns, "ha-a"), "Completed"), undefined, "ha-a still in flight");
    // ha-b normally is too (its dependent rjob runs after its first); count it if A finished it in time.
    const completedByA = condition(await getJobSet(c, ns, "ha-b"), "Completed") ? 1 : 0;
    // Created while nobody leads.
    const jsC = await create(jobSet("ha-c", ns).replicatedJob(onOurNodes(rjob("w").replicas(2), "1s")));

    const boundMs = LEASE_DURATION_MS + 2 * MAX_RETRY_INTERVAL_MS + SLACK_MS;
    const tookOverAt = await waitHolder(b, boundMs + 5_000);
    const takeoverMs = tookOverAt - killedAt;
    const acquired = await lease();
    const sinceLastRenewMs = micro(acquired.spec?.acquireTime) - micro(last.spec?.renewTime);
    t.diagnostic(
      `SIGKILL takeover: ${takeoverMs} ms after the kill, Lease acquired ${sinceLastRenewMs} ms after A's last renewal`,
    );
    assert.ok(takeoverMs < boundMs, `takeover ${takeoverMs} ms < ${boundMs} ms`);
    // B never steals a live Lease: it waits a full lease duration from the last renewal it saw.
    assert.ok(sinceLastRenewMs >= LEASE_DURATION_MS, `acquired ${sinceLastRenewMs} ms after the last renewal`);
    assert.equal((acquired.spec?.leaseTransitions ?? 0) - (last.spec?.leaseTransitions ?? 0), 1);

    for (const js of ["ha-a", "ha-b", "ha-c"]) await waitJobSetCondition(c, ns, js, "Completed", 60_000);
    assertJobs(
      await listJobs(c, ns, "ha-a"),
      jsA.metadata?.uid ?? "",
      jobNames("ha-a", [
        ["driver", 1],
        ["workers", 2],
      ]),
      0,
    );
    assertJobs(
      await listJobs(c, ns, "ha-b"),
      jsB.metadata?.uid ?? "",
      jobNames("ha-b", [
        ["first", 1],
        ["second", 2],
      ]),
      0,
    );
    assertJobs(await listJobs(c, ns, "ha-c"), jsC.metadata?.uid ?? "", jobNames("ha-c", [["w", 2]]), 0);
    assert.equal((await listJobs(c, ns)).length, 8, "no other Jobs in the namespace");
    for (const name of ["ha-a", "ha-b", "ha-c"]) {
      const js = await getJobSet(c, ns, name);
      assert.equal(js.status?.restarts ?? 0, 0, name);
      assert.equal(js.status?.terminalState, "Completed", name);
    }
    assert.equal(metricSum(await metrics(b), "jobset_completed_total"), 3 - completedByA, "B completed the JobSets");
    assert.equal(metricSum(await metrics(b), "leader_election_master_status"), 1);

    // ------------------------------------------------------------------ 3. graceful handover
    const cRep = await start("C");
    await waitFor(() => cRep.proc.findLog("new leader elected", { leader: b.identity }), {
      message: "C to observe B as the leader",
    });
    const jsD = await create(jobSet("ha-d", ns).replicatedJob(onOurNodes(rjob("w").replicas(2), "3s")));
    await waitFor(async () => (await listJobs(c, ns, "ha-d")).length === 2, { message: "ha-d's Jobs (by B)" });
    assert.equal(await reconciles(cRep), 0);
    assert.equal(await writes(cRep), 0);

    const termAt = Date.now();
    const stopping = b.proc.stop("SIGTERM", 20_000);
    const handedAt = await waitHolder(cRep, 15_000);
    const exit = await stopping;
    assert.deepEqual(exit, { code: 0, signal: null }, b.proc.output().slice(-2000));
    assert.ok(b.proc.findLog("released the lease"));
    const handoverMs = handedAt - termAt;
    t.diagnostic(`SIGTERM handover: ${handoverMs} ms after the signal`);
    const graceBoundMs = MAX_RETRY_INTERVAL_MS + SLACK_MS;
    assert.ok(handoverMs < graceBoundMs, `graceful handover ${handoverMs} ms < ${graceBoundMs} ms`);

    await waitJobSetCondition(c, ns, "ha-d", "Completed", 30_000);
    assertJobs(await listJobs(c, ns, "ha-d"), jsD.metadata?.uid ?? "", jobNames("ha-d", [["w", 2]]), 0);
    assert.equal((await listJobs(c, ns)).length, 10, "no other Jobs in the namespace");
    assert.ok((await reconciles(cRep)) > 0, "C reconciles once it leads");
    await cRep.proc.stop("SIGTERM", 20_000);
  });
});
