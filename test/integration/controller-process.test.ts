// `jobset controller` as a process with the webhooks ON and internal certificate management, against a
// private kube-apiserver (this file starts its own: the controller registers cluster-wide webhook
// configurations under their upstream names, which must not reach the JobSets of other test files).
// The webhooks are reached by URL (--webhook-url=https://127.0.0.1:PORT, the local-cluster mode).
//
// In order: /readyz fails with the certs check until the certificate manager could write its Secret
// (the operator namespace `jobset-system` is created only after the first failures are seen), then turns
// ready with the certificates on disk, in the Secret and injected into both configurations; the
// validating webhook refuses an invalid JobSet with upstream's message; the mutating webhook's defaults
// are stored and the controller creates the Jobs; the pod webhooks (exclusive placement: leader affinities,
// follower refusal) answer through the process; HTTPS /metrics refuses an anonymous caller (401) and a
// ServiceAccount without the metrics-reader role (403) and serves one with it; SIGTERM exits 0, releases
// the Lease and leaves the Secret, the configurations, the certificates and the JobSet's Jobs in place.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Annotations, JobCompletionIndexAnnotation, Labels } from "../../src/api/constants.ts";
import type { Job, Lease, Pod, Secret } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { type ControlPlane, startControlPlane } from "../../src/local/controlplane.ts";
import { ApiError, type KubeClient } from "../../src/runtime/client.ts";
import type { WebhookConfiguration } from "../../src/webhooks/configurations.ts";
import { jobSet, rjob } from "../builders.ts";
import { waitFor } from "../support/cluster.ts";
import {
  type ControllerProcess,
  freePort,
  httpsGet,
  metricSum,
  serviceAccountToken,
  spawnController,
} from "../support/controller-process.ts";

const OPERATOR_NS = "jobset-system";
const NS = "controller-process";
const LEASE = `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NS}/leases/6d4f6a47.jobset.x-k8s.io`;
const SECRET = `/api/v1/namespaces/${OPERATOR_NS}/secrets/jobset-webhook-server-cert`;
const ADMISSION = "/apis/admissionregistration.k8s.io/v1";
const MUTATING = `${ADMISSION}/mutatingwebhookconfigurations/jobset-mutating-webhook-configuration`;
const VALIDATING = `${ADMISSION}/validatingwebhookconfigurations/jobset-validating-webhook-configuration`;
const JOBSETS = `/apis/jobset.x-k8s.io/v1alpha2/namespaces/${NS}/jobsets`;
const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`;
const PODS = `/api/v1/namespaces/${NS}/pods`;

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected the API server to refuse the request");
}

const createNamespace = (c: KubeClient, name: string) =>
  c.create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });

describe("jobset controller process with webhooks and certificate management", () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let dir: string;
  let certDir: string;
  let proc: ControllerProcess;
  const ports = { webhook: 0, metrics: 0, health: 0 };
  const health = (path: string) => fetch(`http://127.0.0.1:${ports.health}${path}`);
  const log = () => proc.output().slice(-4000);

  before(async () => {
    cp = await startControlPlane({
      profile: "apiserver",
      unref: true,
      log: (l) => process.stderr.write(`[private control plane] ${l}\n`),
    });
    client = await cp.client();
    await createNamespace(client, NS);
    dir = await mkdtemp(join(tmpdir(), "jobset-controller-process-"));
    certDir = join(dir, "webhook-certs");
    ports.webhook = await freePort();
    ports.metrics = await freePort();
    ports.health = await freePort();
  });
  after(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("/readyz fails with the certs check until certificates exist, then turns ready", async (t) => {
    const cfg = join(dir, "config.yaml");
    await writeFile(
      cfg,
      [
        "apiVersion: config.jobset.x-k8s.io/v1alpha1",
        "kind: Configuration",
        "leaderElection:",
        "  leaderElect: true",
        `  resourceNamespace: ${OPERATOR_NS}`,
        "webhook:",
        "  host: 127.0.0.1",
        `  port: ${ports.webhook}`,
        `  certDir: ${certDir}`,
        "metrics:",
        `  bindAddress: 127.0.0.1:${ports.metrics}`,
        "health:",
        `  healthProbeBindAddress: 127.0.0.1:${ports.health}`,
        "",
      ].join("\n"),
    );
    proc = spawnController(undefined, [
      `--config=${cfg}`,
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--webhook-url=https://127.0.0.1:${ports.webhook}`,
      "--zap-devel=false",
    ]);
    t.diagnostic(`controller pid ${proc.pid}`);

    // The operator namespace does not exist yet: the Secret cannot be written, so no certificates.
    await waitFor(() => proc.findLog("certificate setup failed; retrying"), {
      message: `a failed certificate pass (output: ${log()})`,
    });
    const notReady = await waitFor(
      async () => {
        const r = await health("/readyz");
        return r.status === 500 ? r.text() : undefined;
      },
      { message: "/readyz to answer 500" },
    );
    assert.match(notReady, /^\[-\]certs failed: reason withheld$/m);
    assert.match(notReady, /readyz check failed/);
    const certsCheck = await health("/readyz/certs");
    assert.equal(certsCheck.status, 500);
    assert.equal(await certsCheck.text(), "internal server error: certificates are not ready\n");
    assert.ok(
      proc
        .logs()
        .some(
          (l) =>
            l.msg === "readyz check failed" &&
            l.check === "certs" &&
            (l.err as { message?: string } | undefined)?.message === "certificates are not ready",
        ),
      log(),
    );
    assert.equal((await health("/healthz")).status, 200);
    assert.equal(existsSync(join(certDir, "tls.crt")), false, "no certificate on disk yet");

    await createNamespace(client, OPERATOR_NS);
    await waitFor(async () => (await health("/readyz")).status === 200, {
      timeoutMs: 30_000,
      message: `/readyz to turn ready (output: ${log()})`,
    });
    // Ready implies: certificates on disk, in the Secret, and the CA injected into both configurations.
    const onDisk = {
      ca: await readFile(join(certDir, "ca.crt"), "utf8"),
      cert: await readFile(join(certDir, "tls.crt"), "utf8"),
      key: await readFile(join(certDir, "tls.key"), "utf8"),
    };
    const secret = await client.get<Secret>(SECRET);
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    assert.equal(secret.data?.["ca.crt"], b64(onDisk.ca));
    assert.equal(secret.data?.["tls.crt"], b64(onDisk.cert));
    assert.equal(secret.data?.["tls.key"], b64(onDisk.key));
    assert.ok(secret.data?.["ca.key"], "the CA key is kept in the Secret");
    for (const [path, paths] of [
      [MUTATING, ["/mutate-jobset-x-k8s-io-v1alpha2-jobset", "/mutate--v1-pod"]],
      [VALIDATING, ["/validate-jobset-x-k8s-io-v1alpha2-jobset", "/validate--v1-pod"]],
    ] as const) {
      const wc = await client.get<WebhookConfiguration>(path);
      assert.deepEqual(
        wc.webhooks.map((w) => [w.clientConfig.url, w.clientConfig.caBundle]),
        paths.map((p) => [`https://127.0.0.1:${ports.webhook}${p}`, b64(onDisk.ca)]),
      );
    }
    const verbose = await (await health("/readyz?verbose")).text();
    assert.match(verbose, /^\[\+\]certs ok$/m);
    assert.match(verbose, /^\[\+\]webhook ok$/m);
  });

  test("the validating webhook refuses an invalid JobSet with upstream's message", async () => {
    const bad = jobSet("bad", NS)
      .replicatedJob(rjob("rj"))
      .successPolicy({ operator: "All", targetReplicatedJobs: ["nope"] });
    const e = await waitFor(
      async () => {
        const err = await apiError(client.create(JOBSETS, bad.obj(), { dryRun: "All" }));
        return err.message.includes("admission webhook") ? err : undefined;
      },
      { message: "the API server to call the validating webhook" },
    );
    assert.equal(e.code, 422);
    assert.equal(e.reason, "Invalid");
    assert.equal(
      e.message,
      `admission webhook "vjobset.kb.io" denied the request: JobSet.jobset.x-k8s.io "bad" is invalid: ` +
        "<nil>: Internal error: invalid replicatedJob name 'nope' does not appear in .spec.ReplicatedJobs",
    );
    assert.equal(e.status?.details?.kind, "JobSet");
    assert.equal(e.status?.details?.name, "bad");
  });

  test("the mutating webhook's defaults are stored and the controller creates the Jobs", async () => {
    const js = jobSet("defaults", NS)
      .replicatedJob(rjob("w").replicas(2))
      // a rule without a name (the type requires one; the webhook names it)
      .failurePolicy({ maxRestarts: 1, rules: [{ action: "FailJobSet" } as { name: string; action: "FailJobSet" }] })
      .obj();
    const created = await client.create<JobSet>(JOBSETS, js);
    const stored = await client.get<JobSet>(`${JOBSETS}/defaults`);
    assert.equal(stored.metadata?.uid, created.metadata?.uid);
    const rj = stored.spec?.replicatedJobs?.[0];
    assert.equal(rj?.template.spec?.completionMode, "Indexed");
    assert.equal(rj?.template.spec?.template?.spec?.restartPolicy, "OnFailure");
    assert.deepEqual(stored.spec?.successPolicy, { operator: "All" });
    assert.deepEqual(stored.spec?.startupPolicy, { startupPolicyOrder: "AnyOrder" });
    assert.equal(stored.spec?.network?.enableDNSHostnames, true);
    assert.equal(stored.spec?.network?.publishNotReadyAddresses, true);
    assert.equal(stored.spec?.failurePolicy?.rules?.[0]?.name, "failurePolicyRule0");

    const jobs = await waitFor(
      async () => {
        const list = await client.list<Job>(JOBS);
        return list.items.length === 2 ? list.items : undefined;
      },
      { message: `the controller to create 2 Jobs (output: ${log()})` },
    );
    assert.deepEqual(jobs.map((j) => j.metadata?.name).sort(), ["defaults-w-0", "defaults-w-1"]);
    for (const j of jobs) assert.equal(j.metadata?.ownerReferences?.[0]?.uid, created.metadata?.uid);
  });

  test("the pod webhooks: a leader pod gets exclusive-placement affinities, a follower without a selector is refused", async () => {
    const pod = (index: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `excl-w-0-${index}-abcde`,
        labels: {
          [Labels.JobSetName]: "excl",
          [Labels.ReplicatedJobName]: "w",
          [Labels.JobIndex]: "0",
          [Labels.JobKey]: "k1",
        },
        annotations: {
          [Labels.JobSetName]: "excl",
          [Annotations.ExclusiveTopology]: "topology.kubernetes.io/zone",
          [JobCompletionIndexAnnotation]: index,
        },
      },
      spec: { containers: [{ name: "main", image: "busybox" }] },
    });
    const leader = await client.create<Pod>(PODS, pod("0"), { dryRun: "All" });
    assert.equal(leader.metadata?.labels?.[Labels.Priority], "0");
    assert.deepEqual(leader.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution, [
      {
        labelSelector: { matchExpressions: [{ key: Labels.JobKey, operator: "In", values: ["k1"] }] },
        topologyKey: "topology.kubernetes.io/zone",
        namespaceSelector: {},
      },
    ]);
    assert.equal(leader.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length, 1);
    const e = await apiError(client.create(PODS, pod("1"), { dryRun: "All" }));
    assert.equal(e.code, 403);
    assert.equal(e.message, 'admission webhook "vpod.kb.io" denied the request: follower pod node selector not set');
  });

  test("HTTPS /metrics: 401 anonymous, 403 without the metrics-reader role, 200 with it", async (t) => {
    const url = `https://127.0.0.1:${ports.metrics}/metrics`;
    const anonymous = await httpsGet(url);
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(anonymous.body, /controller_runtime/);
    const garbage = await httpsGet(url, "not-a-token");
    assert.equal(garbage.status, 401);

    const unbound = await serviceAccountToken(t, client, NS, "no-metrics", false);
    const refused = await httpsGet(url, unbound);
    assert.equal(refused.status, 403);
    assert.doesNotMatch(refused.body, /controller_runtime/);

    const reader = await serviceAccountToken(t, client, NS, "metrics-reader", true);
    // The controller caches an answer for 10 s; RBAC bindings reach the authorizer asynchronously.
    const ok = await waitFor(
      async () => {
        const r = await httpsGet(url, reader);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 25_000, message: "an authorized scrape" },
    );
    assert.ok(metricSum(ok.body, "controller_runtime_reconcile_total", { controller: "jobset" }) > 0, ok.body);
    assert.equal(metricSum(ok.body, "leader_election_master_status"), 1);
    assert.ok(metricSum(ok.body, "rest_client_requests_total", { method: "POST" }) > 0);
  });

  test("SIGTERM: exits 0, releases the Lease, removes nothing", async () => {
    const before = {
      secret: await client.get<Secret>(SECRET),
      mutating: await client.get<WebhookConfiguration>(MUTATING),
      validating: await client.get<WebhookConfiguration>(VALIDATING),
    };
    const lease = await client.get<Lease>(LEASE);
    assert.ok(lease.spec?.holderIdentity, "the process holds the Lease");
    const exit = await proc.stop("SIGTERM", 30_000);
    assert.deepEqual(exit, { code: 0, signal: null }, log());
    const released = await client.get<Lease>(LEASE);
    assert.equal(released.spec?.holderIdentity ?? "", "", JSON.stringify(released.spec));
    assert.ok(proc.findLog("released the lease"), log());

    const secret = await client.get<Secret>(SECRET);
    assert.equal(secret.metadata?.resourceVersion, before.secret.metadata?.resourceVersion);
    const mutating = await client.get<WebhookConfiguration>(MUTATING);
    const validating = await client.get<WebhookConfiguration>(VALIDATING);
    assert.deepEqual(mutating.webhooks, before.mutating.webhooks);
    assert.deepEqual(validating.webhooks, before.validating.webhooks);
    for (const f of ["ca.crt", "tls.crt", "tls.key"]) assert.ok(existsSync(join(certDir, f)), f);
    assert.ok(await client.get<JobSet>(`${JOBSETS}/defaults`));
    const jobs = await client.list<Job>(JOBS);
    assert.deepEqual(jobs.items.map((j) => j.metadata?.name).sort(), ["defaults-w-0", "defaults-w-1"]);
    // JSON log lines: one "logger" key each (named child loggers).
    const lines = proc
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"));
    assert.ok(lines.length > 5);
    assert.deepEqual(
      lines.filter((l) => (l.match(/"logger":/g) ?? []).length > 1),
      [],
    );
    assert.ok(proc.findLog("serving webhooks", { logger: "setup" }), log());
    assert.ok(proc.findLog("issuing webhook certificates", { logger: "cert-rotation" }), log());
    assert.equal(
      proc.logs().filter((l) => l.level === "error" || (typeof l.level === "number" && l.level >= 50)).length,
      // the certificate passes that failed before the operator namespace existed
      proc.logs().filter((l) => l.msg === "certificate setup failed; retrying").length,
      log(),
    );
  });
});
