// The SDK's offline half: the builder returns defaulted JobSets or JobSetInvalidError with the field
// paths of `jobset lint`; lint() and plan() are the CLI's judgement and first-reconcile plan.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import {
  ApiVersion,
  container,
  type JobSet,
  JobSetInvalidError,
  jobSet,
  Kind,
  lint,
  PlanError,
  plan,
  replicatedJob,
} from "../../src/sdk/index.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pod = { containers: [container("main", "busybox", ["sh", "-c", "echo hi"])] };

describe("jobSet(): defaulted and validated", () => {
  test("a valid JobSet comes back with the API server's defaults", () => {
    const js = jobSet("train", {
      replicatedJobs: [
        replicatedJob({ name: "leader", pod }),
        replicatedJob({ name: "workers", replicas: 3, job: { parallelism: 2, completions: 2 }, pod }),
      ],
    });
    assert.equal(js.apiVersion, ApiVersion);
    assert.equal(js.kind, Kind);
    assert.equal(js.metadata?.name, "train");
    const [leader, workers] = js.spec?.replicatedJobs ?? [];
    assert.equal(leader?.replicas, 1);
    assert.equal(leader?.groupName, "default");
    assert.equal(workers?.replicas, 3);
    assert.equal(workers?.template.spec?.template.spec?.restartPolicy, "Never");
    assert.equal(js.spec?.network?.enableDNSHostnames, true);
    assert.equal(js.spec?.successPolicy?.operator, "All");
    assert.equal(js.spec?.startupPolicy?.startupPolicyOrder, "AnyOrder");
  });

  test("an invalid JobSet throws JobSetInvalidError with the field paths", () => {
    const build = () =>
      jobSet("Bad_Name", {
        replicatedJobs: [replicatedJob({ name: "w", pod }), replicatedJob({ name: "w", pod })],
      });
    assert.throws(build, (e: unknown) => {
      assert.ok(e instanceof JobSetInvalidError);
      assert.match(e.message, /^JobSet\.jobset\.x-k8s\.io "Bad_Name" is invalid: /);
      assert.ok(
        e.errors.some((x) => x.field === "metadata.name"),
        e.message,
      );
      return true;
    });
  });

  test("the builder's errors are `jobset lint`'s errors for the same JobSet in a file", () => {
    const raw: JobSet = {
      apiVersion: ApiVersion,
      kind: Kind,
      metadata: { name: "js" },
      spec: {
        replicatedJobs: [replicatedJob({ name: "a", pod })],
        failurePolicy: { rules: [{ name: "r", action: "FailJobSet", targetReplicatedJobs: ["nope"] }] },
        startupPolicy: { startupPolicyOrder: "InOrder" },
      },
    };
    const result = lint(raw);
    assert.equal(result.valid, false);
    assert.ok(result.messages.length > 0);
    let thrown: JobSetInvalidError | undefined;
    try {
      jobSet("js", { ...(raw.spec as { replicatedJobs: [] }) });
    } catch (e) {
      if (e instanceof JobSetInvalidError) thrown = e;
    }
    assert.deepEqual(thrown?.errors, result.errors);
    assert.deepEqual(thrown?.messages, result.messages);

    const dir = mkdtempSync(join(tmpdir(), "jobset-sdk-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "js.yaml");
    writeFileSync(file, stringify(raw));
    const cli = spawnSync(process.execPath, [join(root, "bin/jobset.js"), "lint", file], { encoding: "utf8" });
    assert.equal(cli.status, 1, cli.stderr);
    // the same messages, each after the position of its field (here: no field, so the document's start)
    assert.deepEqual(
      cli.stdout.trim().split("\n"),
      result.messages.map((m) => `${file}:1:1: ${m}`),
    );
  });

  test("feature gates reach validation", () => {
    const spec = {
      replicatedJobs: [
        replicatedJob({
          name: "w",
          job: { backoffLimit: 2147483647, podReplacementPolicy: "Failed", completions: 2, parallelism: 2 },
          pod,
        }),
      ],
      failurePolicy: { restartStrategy: "InPlaceRestart" as const },
    };
    assert.throws(() => jobSet("ipr", spec), JobSetInvalidError);
    assert.equal(jobSet("ipr", spec, { featureGates: { InPlaceRestart: true } }).metadata?.name, "ipr");
  });
});

describe("lint() and plan()", () => {
  test("lint reports an unserved apiVersion like the CLI", () => {
    const r = lint({ apiVersion: "jobset.x-k8s.io/v1alpha1", kind: Kind, metadata: { name: "x" } });
    assert.deepEqual(r.messages, [
      'apiVersion: Unsupported value: "jobset.x-k8s.io/v1alpha1": supported values: "jobset.x-k8s.io/v1alpha2"',
    ]);
  });

  test("plan lists the JobSet, its Service and its Jobs in creation order", () => {
    const js = jobSet("p", { replicatedJobs: [replicatedJob({ name: "w", replicas: 2, pod })] }, { namespace: "ml" });
    const objects = plan(js);
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`),
      ["JobSet/ml/p", "Service/ml/p", "Job/ml/p-w-0", "Job/ml/p-w-1"],
    );
    assert.throws(() => plan({ apiVersion: ApiVersion, kind: Kind, metadata: {} }), PlanError);
  });
});

describe("docs/sdk.md", () => {
  test("shows examples/sdk/pytorch.ts verbatim", () => {
    const doc = readFileSync(join(root, "docs/sdk.md"), "utf8");
    const marker = doc.indexOf("<!-- examples/sdk/pytorch.ts");
    assert.ok(marker >= 0, "docs/sdk.md has no example marker");
    const block = /```ts\n([\s\S]*?)```/.exec(doc.slice(marker))?.[1];
    assert.equal(block, readFileSync(join(root, "examples/sdk/pytorch.ts"), "utf8"));
  });
});
