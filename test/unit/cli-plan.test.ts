import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { Job, KubeObject } from "../../src/api/k8s.ts";
import { PlaceholderUID, planObjects } from "../../src/cli/plan.ts";
import { jobSet, rjob } from "../builders.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
// upstream example, from the shared references beside the project (../shared)
const example = fileURLToPath(new URL("../../../shared/reference/examples/simple/paralleljobs.yaml", import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/jobset.js", "plan", ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function docs(yaml: string): KubeObject[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject);
}

const managed = (over: Record<string, string>) => ({
  "jobset.sigs.k8s.io/jobset-name": "paralleljobs",
  "jobset.sigs.k8s.io/jobset-uid": PlaceholderUID,
  "jobset.sigs.k8s.io/restart-attempt": "0",
  "jobset.sigs.k8s.io/replicatedjob-replicas": "1",
  "jobset.sigs.k8s.io/global-replicas": "2",
  "jobset.sigs.k8s.io/group-name": "default",
  "jobset.sigs.k8s.io/group-replicas": "2",
  "jobset.sigs.k8s.io/job-index": "0",
  ...over,
});

describe("jobset plan (CLI)", () => {
  test("paralleljobs.yaml: JobSet, Service, then the Jobs with the managed keys of §4.1", () => {
    const r = cli(example);
    assert.equal(r.code, 0, r.stderr);
    const out = docs(r.stdout);
    assert.deepEqual(
      out.map((o) => `${o.kind}/${o.metadata?.name}`),
      ["JobSet/paralleljobs", "Service/paralleljobs", "Job/paralleljobs-workers-0", "Job/paralleljobs-driver-0"],
    );
    const expected: Record<string, Record<string, string>> = {
      "paralleljobs-workers-0": managed({
        "jobset.sigs.k8s.io/replicatedjob-name": "workers",
        "jobset.sigs.k8s.io/job-key": "32d672edc82776df1fbf3120a8fc54a9192afa69",
        "jobset.sigs.k8s.io/job-global-index": "0",
        "jobset.sigs.k8s.io/job-group-index": "0",
      }),
      "paralleljobs-driver-0": managed({
        "jobset.sigs.k8s.io/replicatedjob-name": "driver",
        "jobset.sigs.k8s.io/job-key": "23fe3a038fecdfc71532aaef1d942c435e6293b7",
        "jobset.sigs.k8s.io/job-global-index": "1",
        "jobset.sigs.k8s.io/job-group-index": "1",
      }),
    };
    for (const o of out.slice(2)) {
      const job = o as Job;
      const want = expected[job.metadata?.name ?? ""];
      assert.ok(want);
      assert.equal(job.metadata?.namespace, "default");
      for (const m of [job.metadata, job.spec?.template.metadata]) {
        assert.deepEqual(m?.labels, want);
        assert.deepEqual(m?.annotations, want);
      }
      assert.equal(job.spec?.suspend, false);
      assert.equal(job.spec?.completionMode, "Indexed");
      assert.equal(job.spec?.template.spec?.subdomain, "paralleljobs");
      assert.equal(job.spec?.template.spec?.restartPolicy, "OnFailure");
      assert.deepEqual(job.metadata?.ownerReferences, [
        {
          apiVersion: "jobset.x-k8s.io/v1alpha2",
          kind: "JobSet",
          name: "paralleljobs",
          uid: PlaceholderUID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    const spec = out[0]?.spec as { network?: unknown } | undefined;
    assert.deepEqual(spec?.network, {
      enableDNSHostnames: true,
      publishNotReadyAddresses: true,
    });
  });
  test("--uid and --namespace", () => {
    const r = cli("--uid", "u-9", "-n", "team", example);
    assert.equal(r.code, 0, r.stderr);
    const job = docs(r.stdout)[2] as Job;
    assert.equal(job.metadata?.namespace, "team");
    assert.equal(job.metadata?.labels?.["jobset.sigs.k8s.io/jobset-uid"], "u-9");
    assert.equal(job.metadata?.labels?.["jobset.sigs.k8s.io/job-key"], "f79cbe66c23350a1cb70a11ed8c40fec198b1ec2");
  });
  test("usage and read errors exit 2", () => {
    assert.equal(cli().code, 2);
    assert.equal(cli("a", "b").code, 2);
    assert.equal(cli("--bogus", example).code, 2);
    assert.equal(cli("--feature-gates", "Nope=true", example).code, 2);
    const missing = cli("/nonexistent/file.yaml");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^\/nonexistent\/file.yaml: /);
  });
  test("a rejected JobSet exits 1 with the webhook's message", () => {
    const r = cli("/work/shared/reference/examples/failure-policy/restartjob-action.yaml");
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /JobSet.jobset.x-k8s.io "js" is invalid: .*RestartJob feature gate is disabled/);
    const ok = cli(
      "--feature-gates",
      "RestartJob=true",
      "/work/shared/reference/examples/failure-policy/restartjob-action.yaml",
    );
    assert.equal(ok.code, 0, ok.stderr);
    const jobs = docs(ok.stdout).filter((o) => o.kind === "Job");
    assert.ok(jobs.length > 0);
    for (const j of jobs) assert.equal(j.metadata?.labels?.["jobset.sigs.k8s.io/job-restart-attempt"], "0");
  });
});

describe("first reconcile (spec §5.8 with no Jobs)", () => {
  const gates = defaultFeatureGates;
  const opts = { uid: "u", namespace: "default", gates };
  const a = rjob("a").replicas(2).completionMode("Indexed").completions(1);
  const b = rjob("b").completionMode("Indexed");
  const cases: [string, ReturnType<typeof jobSet>, string[]][] = [
    ["AnyOrder: all", jobSet("js").replicatedJob(a).replicatedJob(b), ["a", "b"]],
    ["InOrder: first rjob only", jobSet("js").startupPolicy("InOrder").replicatedJob(a).replicatedJob(b), ["a"]],
    [
      "InOrder: rjobs with 0 replicas count as started",
      jobSet("js").startupPolicy("InOrder").replicatedJob(rjob("z").replicas(0)).replicatedJob(b).replicatedJob(a),
      ["b"],
    ],
    [
      "InOrder suspended: all",
      jobSet("js").startupPolicy("InOrder").suspend(true).replicatedJob(a).replicatedJob(b),
      ["a", "b"],
    ],
    [
      "dependsOn: only rjobs without dependencies",
      jobSet("js").replicatedJob(a).replicatedJob(rjob("b").dependsOn("a", "Ready")),
      ["a"],
    ],
    [
      "dependsOn while suspended still gates",
      jobSet("js").suspend(true).replicatedJob(a).replicatedJob(rjob("b").dependsOn("a", "Complete")),
      ["a"],
    ],
    [
      "dependsOn a 0-replica rjob is reached at once",
      jobSet("js").replicatedJob(rjob("z").replicas(0)).replicatedJob(rjob("b").dependsOn("z", "Complete")),
      ["b"],
    ],
  ];
  /** The replicated jobs whose Jobs the first reconcile creates, in creation order. */
  const createdRjobs = (js: KubeObject): string[] => [
    ...new Set(
      planObjects(js, opts)
        .filter((o) => o.kind === "Job")
        .map((o) => o.metadata?.labels?.["jobset.sigs.k8s.io/replicatedjob-name"] ?? ""),
    ),
  ];
  for (const [name, b, want] of cases) {
    test(name, () => assert.deepEqual(createdRjobs(b.obj() as KubeObject), want));
  }
  test("suspended JobSet ⇒ suspended Jobs", () => {
    const doc = jobSet("js").suspend(true).replicatedJob(a).obj() as KubeObject;
    const jobs = planObjects(doc, opts).filter((o) => o.kind === "Job") as Job[];
    assert.equal(jobs.length, 2);
    for (const j of jobs) assert.equal(j.spec?.suspend, true);
  });
  test("namespace of the document wins; status is dropped; no Service without DNS hostnames", () => {
    const doc = jobSet("js", "ns")
      .network({ enableDNSHostnames: false })
      .replicatedJob(b)
      .restarts(4)
      .obj() as KubeObject;
    const out = planObjects(doc, opts);
    assert.deepEqual(
      out.map((o) => o.kind),
      ["JobSet", "Job"],
    );
    assert.equal(out[0]?.status, undefined);
    assert.equal(out[1]?.metadata?.namespace, "ns");
    assert.equal(out[1]?.metadata?.labels?.["jobset.sigs.k8s.io/restart-attempt"], "0");
  });
  test("PVCs come between Service and Jobs", () => {
    const doc = jobSet("js")
      .volumeClaimPolicy([{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }])
      .replicatedJob(rjob("w").volumeMount("data"))
      .obj() as KubeObject;
    assert.deepEqual(
      planObjects(doc, opts).map((o) => `${o.kind}/${o.metadata?.name}`),
      ["JobSet/js", "Service/js", "PersistentVolumeClaim/data-js", "Job/js-w-0"],
    );
  });
  test("invalid JobSets and other kinds are rejected", () => {
    assert.throws(() => planObjects({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } }, opts), /not a JobSet/);
    const bad = jobSet("js").network({ subdomain: "Not_Valid" }).replicatedJob(b).obj() as KubeObject;
    assert.throws(() => planObjects(bad, opts), /JobSet.jobset.x-k8s.io "js" is invalid: /);
  });
});
