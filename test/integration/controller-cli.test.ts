// `jobset controller` as a process against the apiserver profile: configuration file + flags, leader
// election Lease, health probes, reconciling, and a graceful SIGTERM that releases the Lease.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { defaultJobSet } from "../../src/api/defaults.ts";
import type { Lease } from "../../src/api/k8s.ts";
import { freePort } from "../../src/local/controlplane.ts";
import { jobSet, rjob } from "../builders.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";
import { jobSetsPath, ScenarioContext } from "./scenario.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (p.exitCode !== null) resolve(p.exitCode);
    else p.on("exit", (code) => resolve(code));
  });
}

describe("jobset controller (process)", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await useCluster("apiserver");
  });

  test("leads via its Lease, serves probes, reconciles, and releases the Lease on SIGTERM", async (t) => {
    const ns = await testNamespace(t, cluster);
    const dir = await mkdtemp(join(tmpdir(), "jobset-cli-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const cfg = join(dir, "config.yaml");
    await writeFile(
      cfg,
      [
        "apiVersion: config.jobset.x-k8s.io/v1alpha1",
        "kind: Configuration",
        "leaderElection:",
        "  leaderElect: true",
        `  resourceNamespace: ${ns}`,
        "metrics:",
        "  bindAddress: '0'",
        "clientConnection:",
        "  qps: 50",
        "",
      ].join("\n"),
    );
    let output = "";
    const child = spawn(
      process.execPath,
      [
        "bin/jobset.js",
        "controller",
        `--config=${cfg}`,
        `--kubeconfig=${cluster.kubeconfigPath}`,
        `--health-probe-bind-address=127.0.0.1:${port}`,
        "--webhooks=false",
        "--zap-devel=false",
        `--namespace=${ns}`,
      ],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (d) => {
      output += String(d);
    });
    child.stderr?.on("data", (d) => {
      output += String(d);
    });
    t.after(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });

    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/6d4f6a47.jobset.x-k8s.io`;
    const lease = await waitFor(
      async () => {
        const l = await cluster.client.get<Lease>(leasePath);
        return l.spec?.holderIdentity ? l : undefined;
      },
      { message: `the Lease to be held (output: ${output})` },
    );
    assert.equal(lease.spec?.leaseDurationSeconds, 15);
    await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        return r.status === 200 && (await r.text()) === "ok";
      },
      { message: "readyz" },
    );
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);

    const js = defaultJobSet(jobSet("cli", ns).replicatedJob(rjob("w").replicas(2)).obj());
    const created = await cluster.client.create<typeof js>(jobSetsPath(ns), js);
    const ctx = new ScenarioContext(cluster.client, ns, js);
    ctx.uid = created.metadata?.uid ?? "";
    await waitFor(async () => (await ctx.jobs()).length === 2, { message: "Jobs created by the process" });

    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited(child),
      new Promise<"timeout">((r) => {
        timer = setTimeout(() => r("timeout"), 20_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(code, 0, `exit code (output: ${output})`);
    const released = await cluster.client.get<Lease>(leasePath);
    assert.ok(!released.spec?.holderIdentity, `Lease released: ${JSON.stringify(released.spec)}`);
    // structured JSON logs
    const first = output.split("\n").find((l) => l.startsWith("{"));
    assert.ok(first, output);
    assert.equal(JSON.parse(first).msg, "starting jobset controller");
  });

  test("a bad configuration file exits 1 with the strict-decoding message", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "jobset-cli-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const cfg = join(dir, "config.yaml");
    await writeFile(cfg, "apiVersion: config.jobset.x-k8s.io/v1alpha1\nkind: Configuration\nwebhook:\n  prot: 1\n");
    const child = spawn(process.execPath, ["bin/jobset.js", "controller", "--config", cfg, "--zap-devel=false"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr?.on("data", (d) => {
      err += String(d);
    });
    assert.equal(await exited(child), 1);
    assert.match(err, /strict decoding error: unknown field \\"webhook.prot\\"/);
  });
});
