import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { Job, KubeObject } from "../../src/api/k8s.ts";
import { PlaceholderUID, planObjects } from "../../src/cli/plan.ts";
import { jobSet, rjob } from "../builders.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/jobsets/${name}`, import.meta.url));
const example = fixture("two-replicated-jobs.yaml");
const gatedExample = fixture("restart-job-action.yaml");
/** The job-key label (spec §4.1): SHA-1 of `<namespace>/<job name>`, in lowercase hex. */
const jobKey = (namespace: string, job: string) => createHash("sha1").update(`${namespace}/${job}`).digest("hex");

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/jobset.js", "plan", ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function docs(yaml: string): KubeObject[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject);
}

const managed = (over: Record<string, string>) => ({
  "jobset.sigs.k8s.io/jobset-name": "pipeline",
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
  test("two-replicated-jobs.yaml: JobSet, Service, then the Jobs with the managed keys of §4.1", () => {
    const r = cli(example);
    assert.equal(r.code, 0, r.stderr);
    const out = docs(r.stdout);
    assert.deepEqual(
      out.map((o) => `${o.kind}/${o.metadata?.name}`),
      ["JobSet/pipeline", "Service/pipeline", "Job/pipeline-loaders-0", "Job/pipeline-trainer-0"],
    );
    const expected: Record<string, Record<string, string>> = {
      "pipeline-loaders-0": managed({
        "jobset.sigs.k8s.io/replicatedjob-name": "loaders",
        "jobset.sigs.k8s.io/job-key": jobKey("default", "pipeline-loaders-0"),
        "jobset.sigs.k8s.io/job-global-index": "0",
        "jobset.sigs.k8s.io/job-group-index": "0",
      }),
      "pipeline-trainer-0": managed({
        "jobset.sigs.k8s.io/replicatedjob-name": "trainer",
        "jobset.sigs.k8s.io/job-key": jobKey("default", "pipeline-trainer-0"),
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
      assert.equal(job.spec?.template.spec?.subdomain, "pipeline");
      assert.equal(job.spec?.template.spec?.restartPolicy, "OnFailure");
      assert.deepEqual(job.metadata?.ownerReferences, [
        {
          apiVersion: "jobset.x-k8s.io/v1alpha2",
          kind: "JobSet",
          name: "pipeline",
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
    assert.equal(job.metadata?.labels?.["jobset.sigs.k8s.io/job-key"], jobKey("team", "pipeline-loaders-0"));
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
    const r = cli(gatedExample);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /JobSet.jobset.x-k8s.io "shards" is invalid: .*RestartJob feature gate is disabled/);
    const ok = cli("--feature-gates", "RestartJob=true", gatedExample);
    assert.equal(ok.code, 0, ok.stderr);
    const jobs = docs(ok.stdout).filter((o) => o.kind === "Job");
    assert.equal(jobs.length, 4);
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
