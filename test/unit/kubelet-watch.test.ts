// The fake kubelet's watch loop and pod handling against a scripted in-memory API (no I/O):
// relist on 410, reconnect on errors, deletion → Failed(137) → DELETE with uid precondition.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "../../src/api/k8s.ts";
import { startFakeKubelet } from "../../src/local/kubelet.ts";
import { ApiError, type KubeClient, type WatchEvent } from "../../src/runtime/client.ts";

interface Call {
  method: string;
  path: string;
  body?: unknown;
  type?: string;
}

const pod = (name: string, uid: string, extra: Partial<NonNullable<Pod["metadata"]>> = {}): Pod => ({
  metadata: { name, namespace: "ns", uid, resourceVersion: "1", ...extra },
  spec: { nodeName: "n0", restartPolicy: "Never", containers: [{ name: "main", image: "x" }] },
  status: { phase: "Pending" },
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("watch: relist after 410, reconnect after errors, deletion is finalized once", async () => {
  const calls: Call[] = [];
  const lists: Pod[][] = [[pod("a", "uid-a")], [pod("a", "uid-a"), pod("b", "uid-b")]];
  type Step = "gone" | "error" | WatchEvent<Pod>[];
  const watches: Step[] = [
    "gone",
    "error",
    [
      {
        type: "MODIFIED",
        object: pod("b", "uid-b", { deletionTimestamp: "2026-01-01T00:00:00Z", resourceVersion: "9" }),
      },
    ],
  ];
  const fake = {
    create: async (path: string, body: unknown) => {
      calls.push({ method: "POST", path, body });
      return { metadata: { uid: "node-uid" } };
    },
    patch: async (path: string, body: unknown, type: string) => {
      calls.push({ method: "PATCH", path, body, type });
      return {};
    },
    delete: async (path: string, body: unknown) => {
      calls.push({ method: "DELETE", path, body });
      return {};
    },
    list: async (path: string) => {
      calls.push({ method: "LIST", path });
      return { metadata: { resourceVersion: "5" }, items: lists.shift() ?? [] };
    },
    async *watch(path: string, query: Record<string, unknown>, signal: AbortSignal) {
      calls.push({ method: "WATCH", path, body: query });
      const step = watches.shift();
      if (step === "gone") throw new ApiError(410, "Expired", "too old resource version");
      if (step === "error") throw new ApiError(0, "ConnectionError", "connection refused");
      for (const ev of step ?? []) yield ev;
      await new Promise((r) => signal.addEventListener("abort", r));
    },
    close: async () => {},
  };
  const k = await startFakeKubelet({
    client: fake as unknown as KubeClient,
    nodes: [{ name: "n0" }],
    runForever: true,
    leases: false,
    log: () => {},
  });
  try {
    await until(() => calls.some((c) => c.method === "DELETE" && c.path.endsWith("/pods/b")), "the DELETE of b");
    assert.equal(k.stats.relists, 1);
    assert.ok(k.stats.watchRestarts >= 1);
    const watchQueries = calls.filter((c) => c.method === "WATCH").map((c) => c.body as Record<string, unknown>);
    assert.equal(watchQueries.length, 3);
    for (const q of watchQueries) {
      assert.equal(q.fieldSelector, "spec.nodeName!=");
      assert.equal(q.allowWatchBookmarks, true);
      assert.equal(q.resourceVersion, "5");
    }
    // a: started once (the relist sees it again, still tracked: no second start).
    assert.equal(k.stats.podsStarted, 2);
    const statusPatches = (name: string) =>
      calls.filter((c) => c.method === "PATCH" && c.path === `/api/v1/namespaces/ns/pods/${name}/status`);
    const first = statusPatches("a")[0];
    assert.equal(first?.type, "strategic");
    assert.equal((first?.body as { status?: { phase?: string } } | undefined)?.status?.phase, "Running");
    // b: Failed with 137 before the DELETE, which carries grace 0 and the uid precondition.
    const bCalls = calls.filter((c) => c.path.startsWith("/api/v1/namespaces/ns/pods/b"));
    const del = bCalls.findIndex((c) => c.method === "DELETE");
    const lastPatch = bCalls
      .slice(0, del)
      .filter((c) => c.method === "PATCH")
      .at(-1)?.body as
      | { status?: { phase?: string; containerStatuses?: { state: { terminated?: { exitCode: number } } }[] } }
      | undefined;
    assert.equal(lastPatch?.status?.phase, "Failed");
    assert.equal(lastPatch?.status?.containerStatuses?.[0]?.state.terminated?.exitCode, 137);
    assert.deepEqual(bCalls[del]?.body, { gracePeriodSeconds: 0, preconditions: { uid: "uid-b" } });
    assert.equal(k.stats.podsDeleted, 1);
  } finally {
    await k.stop();
  }
  // Nodes are removed on stop.
  assert.ok(calls.some((c) => c.method === "DELETE" && c.path === "/api/v1/nodes/n0"));
});
