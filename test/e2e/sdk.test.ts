// The SDK against the local stack of `jobset run` (control plane, controller, webhooks, fake kubelet
// running containers as local processes): the example of docs/sdk.md (examples/sdk/pytorch.ts) runs
// unchanged in a child process, and the client's calls behave as documented.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalCluster, startLocalCluster } from "../../src/cli/local-cluster.ts";
import { nodeSpecs } from "../../src/cli/node-flags.ts";
import {
  container,
  isNotFound,
  type JobSet,
  JobSetClient,
  jobSet,
  type Progress,
  replicatedJob,
  WaitError,
  type WatchEvent,
} from "../../src/sdk/index.ts";
import { runCommand } from "../support/run.ts";

const ROOT = join(import.meta.dirname, "../..");

function runExample(kubeconfig: string, env: Record<string, string> = {}) {
  return runCommand(process.execPath, ["--conditions=jobset-ts-source", join(ROOT, "examples/sdk/pytorch.ts")], {
    env: { ...process.env, KUBECONFIG: kubeconfig, ...env },
  });
}

const shell = (script: string) => ({ containers: [container("main", "busybox", ["/bin/sh", "-c", script])] });

describe("SDK on the local stack", () => {
  let cluster: LocalCluster;
  let client: JobSetClient;
  before(async () => {
    cluster = await startLocalCluster({
      nodes: nodeSpecs(4, []),
      runtime: "exec",
      log: (l) => process.stderr.write(`[local cluster] ${l}\n`),
    });
    client = await JobSetClient.connect({ kubeconfig: cluster.kubeconfigPath });
  });
  after(async () => {
    await client?.close();
    await cluster?.stop();
  });

  test("docs/sdk.md's example runs unchanged: builds, submits, follows, prints every rank's log", async () => {
    const r = await runExample(cluster.kubeconfigPath);
    assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.match(r.stdout, /^created JobSet default\/pytorch$/m);
    assert.match(r.stdout, /Completed: 4\/4 pods succeeded/);
    assert.match(r.stdout, /^JobSet pytorch completed$/m);
    for (let rank = 0; rank < 4; rank++) {
      assert.match(
        r.stdout,
        new RegExp(
          `^\\[pytorch-workers-0-${rank}-\\w+\\] rank ${rank} of 4: torchrun --nnodes=4 --node_rank=${rank} --master_addr=pytorch-workers-0-0\\.pytorch --master_port=3389 train\\.py$`,
          "m",
        ),
      );
      assert.match(r.stdout, new RegExp(`^\\[pytorch-workers-0-${rank}-\\w+\\] rank ${rank}: done$`, "m"));
    }
  });

  test("waitFor: a failing JobSet rejects a wait for Completed with its reason, resolves a wait for Failed", async () => {
    const js = jobSet("fails", {
      replicatedJobs: [replicatedJob({ name: "w", job: { backoffLimit: 0 }, pod: shell("echo failing; exit 3") })],
    });
    const created = await client.create(js);
    const seen: Progress[] = [];
    await assert.rejects(
      client.waitFor(created, "Completed", { timeout: 120_000, onProgress: (p) => seen.push(p) }),
      (e: unknown) => {
        assert.ok(e instanceof WaitError);
        assert.equal(e.reason, "OtherState");
        assert.match(e.message, /^JobSet default\/fails failed: FailedJobs: /);
        return true;
      },
    );
    assert.ok(seen.length >= 1);
    assert.equal(seen.at(-1)?.state, "Failed");
    const failed = await client.waitFor("fails", "Failed", { timeout: 10_000 });
    assert.equal(failed.status?.terminalState, "Failed");
  });

  test("waitFor: the timeout and the signal end a wait on a JobSet that keeps running", async () => {
    const created = await client.create(
      jobSet("sleeps", { replicatedJobs: [replicatedJob({ name: "w", pod: shell("sleep 600") })] }),
    );
    await assert.rejects(client.waitFor(created, "Completed", { timeout: 1000 }), { reason: "Timeout" });
    const abort = new AbortController();
    const waiting = client.waitFor(created, "Completed", { signal: abort.signal });
    abort.abort();
    await assert.rejects(waiting, { reason: "Aborted" });
    await client.delete("sleeps", { wait: true });
    await assert.rejects(client.get("sleeps"), (e: unknown) => isNotFound(e));
  });

  test("apply, get, list, watch and delete", async () => {
    const spec = { replicatedJobs: [replicatedJob({ name: "w", pod: shell("sleep 600") })], suspend: true };
    const applied = await client.apply(jobSet("applied", spec, { labels: { team: "a" } }));
    assert.ok(applied.metadata?.uid);
    // Watching from the applied version: every later change is seen, whenever the watch connects.
    const abort = new AbortController();
    const events: WatchEvent<JobSet>[] = [];
    const watching = (async () => {
      const from = { name: "applied", signal: abort.signal, resourceVersion: applied.metadata?.resourceVersion ?? "" };
      for await (const ev of client.watch(from)) {
        events.push(ev);
        if (ev.type === "DELETED") return;
      }
    })();
    const again = await client.apply(jobSet("applied", spec, { labels: { team: "b" } }));
    assert.equal(again.metadata?.uid, applied.metadata?.uid);
    assert.equal((await client.get("applied")).metadata?.labels?.team, "b");
    assert.deepEqual(
      (await client.list({ labelSelector: "team=b" })).map((j) => j.metadata?.name),
      ["applied"],
    );
    await client.delete("applied", { wait: true });
    await watching;
    abort.abort();
    assert.ok(events.some((e) => e.type === "MODIFIED" && e.object.metadata?.labels?.team === "b"));
    assert.equal(events.at(-1)?.type, "DELETED");
    await client.delete("applied"); // already gone: not an error
  });
});
