import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Node, Pod } from "../../src/api/k8s.ts";
import { PodController, setupPodController } from "../../src/controllers/pod/controller.ts";
import { addPlacementIndexes, type PodCache } from "../../src/controllers/pods.ts";
import { ApiError } from "../../src/runtime/client.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { Manager } from "../../src/runtime/manager.ts";
import { Metrics } from "../../src/runtime/metrics.ts";
import { podWebhookLookups } from "../../src/webhooks/setup.ts";
import { K, node, pod } from "../support/pods.ts";

/** A pod cache over a list, with the same index semantics as the informer's store. */
class FakeCache implements PodCache {
  pods: Pod[];
  indexes = new Map<string, (p: Pod) => string[]>();
  constructor(pods: Pod[]) {
    this.pods = pods;
  }
  get(ns: string, name: string) {
    return this.pods.find((p) => p.metadata?.namespace === ns && p.metadata?.name === name);
  }
  addIndex(name: string, fn: (p: Pod) => string[]) {
    this.indexes.set(name, fn);
  }
  byIndex(name: string, value: string) {
    const fn = this.indexes.get(name);
    return fn ? this.pods.filter((p) => fn(p).includes(value)) : [];
  }
  handlers: { onAdd?(p: Pod): void }[] = [];
  addEventHandler(h: { onAdd?(p: Pod): void }) {
    this.handlers.push(h);
    return () => {};
  }
  /** Delivers an add of `p` to the handlers, as the informer does. */
  add(p: Pod) {
    for (const h of this.handlers) h.onAdd?.(p);
  }
}

function writer(fail: Record<string, ApiError> = {}) {
  const calls: string[] = [];
  return {
    calls,
    async update<T>(path: string, body: unknown): Promise<T> {
      calls.push(`PUT ${path} ${(body as Pod).status?.conditions?.at(-1)?.reason}`);
      if (fail[`PUT ${path}`]) throw fail[`PUT ${path}`];
      return body as T;
    },
    async delete<T>(path: string, opts?: { propagationPolicy?: string }): Promise<T> {
      calls.push(`DELETE ${path} ${opts?.propagationPolicy}`);
      if (fail[`DELETE ${path}`]) throw fail[`DELETE ${path}`];
      return {} as T;
    },
  };
}

const leader = pod("js-rj-0-0-aaaaa", { index: "0", owner: "u1", nodeName: "n1" });
const nodes: Record<string, Node> = { n1: node("n1", { [K]: "rack-a" }) };
const getNode = async (n: string) => nodes[n] ?? null;

describe("pod controller", () => {
  test("misplaced followers: status update with DisruptionTarget, then background delete", async () => {
    const cache = new FakeCache([
      leader,
      pod("js-rj-0-1-bbbbb", { index: "1", owner: "u1", nodeSelector: { [K]: "rack-b" } }),
      pod("js-rj-0-2-ccccc", { index: "2", owner: "u1", nodeSelector: { [K]: "rack-a" } }),
    ]);
    addPlacementIndexes(cache);
    const w = writer();
    await new PodController({ pods: cache, client: w, getNode }).reconcile("default/js-rj-0-0-aaaaa");
    assert.deepEqual(w.calls.sort(), [
      "DELETE /api/v1/namespaces/default/pods/js-rj-0-1-bbbbb Background",
      "DELETE /api/v1/namespaces/default/pods/js-rj-0-2-ccccc Background",
      "PUT /api/v1/namespaces/default/pods/js-rj-0-1-bbbbb/status ExclusivePlacementViolation",
      "PUT /api/v1/namespaces/default/pods/js-rj-0-2-ccccc/status ExclusivePlacementViolation",
    ]);
  });
  test("valid placement writes nothing; pods of other namespaces are not the Job's", async () => {
    const other = pod("js-rj-0-1-zzzzz", { index: "1", owner: "u1", nodeSelector: { [K]: "rack-z" } });
    if (other.metadata) other.metadata.namespace = "other";
    const cache = new FakeCache([
      leader,
      pod("js-rj-0-1-b", { index: "1", owner: "u1", nodeSelector: { [K]: "rack-a" } }),
      other,
    ]);
    addPlacementIndexes(cache);
    const w = writer();
    await new PodController({ pods: cache, client: w, getNode }).reconcile("default/js-rj-0-0-aaaaa");
    assert.deepEqual(w.calls, []);
  });
  test("errors are joined and thrown (requeue); NotFound on delete is success", async () => {
    const cache = new FakeCache([
      leader,
      pod("js-rj-0-1-bbbbb", { index: "1", owner: "u1" }),
      pod("js-rj-0-2-ccccc", { index: "2", owner: "u1" }),
    ]);
    addPlacementIndexes(cache);
    const w = writer({
      "PUT /api/v1/namespaces/default/pods/js-rj-0-1-bbbbb/status": new ApiError(
        403,
        "Forbidden",
        "pods/status forbidden",
      ),
      "DELETE /api/v1/namespaces/default/pods/js-rj-0-2-ccccc": new ApiError(404, "NotFound", "gone"),
    });
    await assert.rejects(
      new PodController({ pods: cache, client: w, getNode }).reconcile("default/js-rj-0-0-aaaaa"),
      /pods\/status forbidden/,
    );
  });
  test("plan errors are thrown; missing leaders are ignored", async () => {
    const cache = new FakeCache([
      pod("js-rj-0-0-aaaaa", { index: "0", owner: "u1", nodeName: "n2" }),
      pod("js-rj-0-1-b", { index: "1", owner: "u1" }),
    ]);
    addPlacementIndexes(cache);
    const c = new PodController({ pods: cache, client: writer(), getNode });
    await assert.rejects(c.reconcile("default/js-rj-0-0-aaaaa"), /leader topology is unknown \(node not found\)/);
    await c.reconcile("default/nope");
  });
  test("webhook lookups over the cache: per-namespace podName index, Node NotFound text", async () => {
    const cache = new FakeCache([leader]);
    addPlacementIndexes(cache);
    const l = podWebhookLookups(cache, getNode);
    assert.equal((await l.podsByName("default", "js-rj-0-0")).length, 1);
    assert.equal((await l.podsByName("other", "js-rj-0-0")).length, 0);
    await assert.rejects(l.getNode("n9"), /^ApiError: Node "n9" not found$/);
  });

  test('registered with a Manager: a reconcile error is logged and counted under controller="pod"', async () => {
    const orphanLeader = pod("js-rj-0-0-aaaaa", { index: "0", owner: "u1", nodeName: "n2" }); // n2: no such Node
    const cache = new FakeCache([orphanLeader, pod("js-rj-0-1-b", { index: "1", owner: "u1" })]);
    addPlacementIndexes(cache);
    const metrics = new Metrics();
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: "info",
      destination: { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) },
    });
    const manager = new Manager({ metrics, logger, gracefulShutdownMs: 1_000 });
    const client = {
      ...writer(),
      get: async <T>(path: string): Promise<T> => {
        throw new ApiError(404, "NotFound", `${path} not found`);
      },
    };
    setupPodController(manager, { client }, cache);
    const done = manager.start();
    cache.add(orphanLeader);
    const errors = async () =>
      Number(/controller_runtime_reconcile_errors_total\{controller="pod"\} (\d+)/.exec(await metrics.text())?.[1]);
    for (let i = 0; i < 500 && (await errors()) < 1; i++) await new Promise((r) => setTimeout(r, 10));
    manager.stop();
    await done;
    assert.ok((await errors()) >= 1, 'controller_runtime_reconcile_errors_total{controller="pod"} counts the error');
    const logged = lines.find((l) => l.msg === "Reconciler error");
    assert.equal(logged?.controller, "pod");
    assert.equal(logged?.namespace, "default");
    assert.equal(logged?.name, "js-rj-0-0-aaaaa");
    assert.match(String((logged?.err as { message?: string } | undefined)?.message), /leader topology is unknown/);
  });
});
