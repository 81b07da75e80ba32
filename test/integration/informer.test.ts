// The informer against a real kube-apiserver: add/update/delete, indexes, a cut watch, and a 410 Gone
// (a watch from a too-old resourceVersion) with relist + diff.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { KubeObject } from "../../src/api/k8s.ts";
import type { KubeClient, RequestOptions, WatchOptions } from "../../src/runtime/client.ts";
import { Informer, type ListWatcher } from "../../src/runtime/informer.ts";
import { Metrics } from "../../src/runtime/metrics.ts";
import { namespacedLabelIndex } from "../../src/runtime/store.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";

const cmPath = (ns: string, name?: string) => `/api/v1/namespaces/${ns}/configmaps${name ? `/${name}` : ""}`;
const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels: { app: "informer-test", ...labels } },
  data,
});

// JobSets: a CRD's watch cache starts at the resourceVersion of the CRD's establishment, so a watch
// from resourceVersion "1" is answered with 410 Gone ("too old resource version") — a real 410.
const jsPath = (ns: string, name?: string) =>
  `/apis/jobset.x-k8s.io/v1alpha2/namespaces/${ns}/jobsets${name ? `/${name}` : ""}`;
const jobset = (name: string) => ({
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { name, labels: { app: "informer-test" } },
  spec: {
    replicatedJobs: [
      {
        name: "workers",
        replicas: 1,
        template: {
          spec: {
            template: {
              spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox", command: ["true"] }] },
            },
          },
        },
      },
    ],
  },
});

/** Records handler calls as strings. */
function recorder(inf: Informer) {
  const log: string[] = [];
  inf.addEventHandler({
    onAdd: (o) => log.push(`add ${o.metadata?.name}`),
    onUpdate: (a, b) => {
      if (a.metadata?.resourceVersion !== b.metadata?.resourceVersion) log.push(`update ${b.metadata?.name}`);
    },
    onDelete: (o) => log.push(`delete ${o.metadata?.name}`),
  });
  return log;
}

/**
 * A list-watcher that can hold watch reconnects at a gate, and can make the next watch start from a
 * resourceVersion the server no longer has (so the server answers 410 Gone).
 */
class GatedClient implements ListWatcher {
  private readonly c: KubeClient;
  gate: Promise<void> | undefined;
  tooOld = false;
  watchRvs: (string | undefined)[] = [];
  constructor(c: KubeClient) {
    this.c = c;
  }
  list<T>(path: string, query?: RequestOptions["query"], pageSize?: number, signal?: AbortSignal) {
    return this.c.list<T>(path, query, pageSize, signal);
  }
  async *watch<T>(path: string, query: RequestOptions["query"], signal?: AbortSignal, opts?: WatchOptions) {
    if (this.gate) await this.gate;
    let q = query;
    if (this.tooOld) {
      this.tooOld = false;
      q = { ...query, resourceVersion: "1" };
    }
    this.watchRvs.push(String(q?.resourceVersion));
    yield* this.c.watch<T>(path, q, signal, opts);
  }
}

describe("informer (apiserver)", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await useCluster("apiserver");
  });

  test("lists, then sees adds, updates and deletes; label selector and index apply", async (t) => {
    const ns = await testNamespace(t, cluster);
    const c = cluster.client;
    await c.create(cmPath(ns), cm("pre", { v: "0" }, { group: "g1" }));
    await c.create(cmPath(ns), cm("unselected", {}, { app: "other" }));
    const metrics = new Metrics();
    const inf = new Informer({
      client: c,
      path: cmPath(ns),
      labelSelector: "app=informer-test",
      metrics: metrics.informerSink("configmaps"),
    });
    inf.addIndex("group", namespacedLabelIndex("group"));
    const log = recorder(inf);
    inf.start();
    t.after(() => inf.stop());
    assert.equal(await inf.waitForSync(AbortSignal.timeout(30_000)), true);
    assert.deepEqual(log, ["add pre"]);

    await c.create(cmPath(ns), cm("a", { v: "1" }, { group: "g1" }));
    await waitFor(() => inf.get(ns, "a"), { message: "a in the cache" });
    await c.patch(cmPath(ns, "a"), { data: { v: "2" } }, "merge");
    await waitFor(() => (inf.get(ns, "a")?.data as { v?: string } | undefined)?.v === "2", {
      message: "a updated in the cache",
    });
    assert.deepEqual(
      inf
        .byIndex("group", `${ns}/g1`)
        .map((o) => o.metadata?.name)
        .sort(),
      ["a", "pre"],
    );
    await c.delete(cmPath(ns, "a"));
    await waitFor(() => inf.get(ns, "a") === undefined, { message: "a gone from the cache" });
    assert.deepEqual(log, ["add pre", "add a", "update a", "delete a"]);
    assert.equal(inf.get(ns, "unselected"), undefined);
    const text = await metrics.text();
    assert.match(text, /informer_relists_total\{resource="configmaps",reason="initial"\} 1/);
    assert.match(text, /informer_watch_events_total\{resource="configmaps",type="ADDED"\} 1/);
  });

  test("survives a cut watch: changes made while disconnected arrive after reconnecting", async (t) => {
    const ns = await testNamespace(t, cluster);
    const c = cluster.client;
    const gated = new GatedClient(c);
    const inf = new Informer({ client: gated, path: cmPath(ns), labelSelector: "app=informer-test" });
    const log = recorder(inf);
    inf.start();
    t.after(() => inf.stop());
    await inf.waitForSync(AbortSignal.timeout(30_000));
    await waitFor(() => gated.watchRvs.length === 1, { message: "first watch" });
    let open: () => void = () => {};
    gated.gate = new Promise<void>((r) => {
      open = r;
    });
    inf.cutWatch();
    await c.create(cmPath(ns), cm("while-cut"));
    open();
    gated.gate = undefined;
    await waitFor(() => inf.get(ns, "while-cut"), { message: "object created during the cut" });
    assert.equal(inf.stats.lists, 1, "resumed from the resourceVersion, no relist");
    assert.equal(gated.watchRvs.length, 2);
    assert.deepEqual(log, ["add while-cut"]);
  });

  test("a JobSet watch answered with 410 Gone relists and diffs: vanished → delete, changed → update, new → add", async (t) => {
    const ns = await testNamespace(t, cluster);
    const c = cluster.client;
    for (const n of ["keep", "change", "vanish"]) await c.create(jsPath(ns), jobset(n));
    const gated = new GatedClient(c);
    const metrics = new Metrics();
    const inf = new Informer({
      client: gated,
      path: jsPath(ns),
      labelSelector: "app=informer-test",
      metrics: metrics.informerSink("jobsets"),
    });
    inf.start();
    t.after(() => inf.stop());
    await inf.waitForSync(AbortSignal.timeout(30_000));
    await waitFor(() => gated.watchRvs.length === 1, { message: "first watch" });
    const log = recorder(inf);
    log.length = 0; // drop the replayed adds of the late handler

    // disconnect, change the world, then come back with a resourceVersion the server has forgotten
    let open: () => void = () => {};
    gated.gate = new Promise<void>((r) => {
      open = r;
    });
    gated.tooOld = true;
    inf.cutWatch();
    await c.delete(jsPath(ns, "vanish"));
    await c.patch(jsPath(ns, "change"), { metadata: { labels: { changed: "yes" } } }, "merge");
    await c.create(jsPath(ns), jobset("new"));
    open();
    gated.gate = undefined;

    await waitFor(() => inf.stats.lists === 2, { message: "a relist after 410" });
    await waitFor(() => log.length >= 3, { message: "the diff's notifications" });
    assert.deepEqual(log, ["delete vanish", "add new", "update change"]);
    assert.equal(gated.watchRvs[1], "1", "the second watch asked for a too-old resourceVersion");
    assert.match(await metrics.text(), /informer_relists_total\{resource="jobsets",reason="expired"\} 1/);
    assert.deepEqual(
      inf
        .list(ns)
        .map((o: KubeObject) => o.metadata?.name)
        .sort(),
      ["change", "keep", "new"],
    );
    // and it keeps watching afterwards
    await c.create(jsPath(ns), jobset("after"));
    await waitFor(() => inf.get(ns, "after"), { message: "events after the relist" });
  });
});
