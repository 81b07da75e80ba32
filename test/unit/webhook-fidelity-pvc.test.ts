// Issue 15 item 6: the JobSet validating webhook checks volume claim templates against existing PVCs read
// from its PVC cache (an informer, as upstream's manager cache), never with an API GET. Rows are requests
// and upstream's complete answers, sent over TLS to the real webhook server whose getPVC reads a real
// Informer (pvc-cache.ts); the informer lists from an in-memory list-watcher holding the PVCs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { KubeObject, PersistentVolumeClaim } from "../../src/api/k8s.ts";
import type { ListResult, WatchEvent } from "../../src/runtime/client.ts";
import { Informer, type ListWatcher } from "../../src/runtime/informer.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import {
  PvcCacheNotSyncedMessage,
  pvcCacheGetter,
  pvcCacheTransform,
  pvcInformer,
} from "../../src/webhooks/pvc-cache.ts";
import { review, send } from "../support/admission-client.ts";
import { existingPvcs, pvc, pvcRows } from "../support/webhook-fidelity-pvc-rows.ts";
import { tlsWebhookServer } from "../support/webhook-server.ts";

/** Lists `items` once per LIST; watches stay open and silent until aborted. Counts the calls made. */
class ListOnly implements ListWatcher {
  readonly items: KubeObject[];
  readonly calls: string[] = [];
  /** When set, LIST waits for this promise first (a cache that has not synced yet). */
  hold: Promise<void> | undefined;
  constructor(items: KubeObject[]) {
    this.items = items;
  }
  async list<T>(path: string): Promise<ListResult<T>> {
    this.calls.push(`LIST ${path}`);
    if (this.hold) await this.hold;
    return { metadata: { resourceVersion: "5" }, items: this.items as T[] };
  }
  async *watch<T>(path: string, _q: unknown, signal?: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    this.calls.push(`WATCH ${path}`);
    await new Promise<void>((resolve) => {
      if (signal?.aborted) resolve();
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }
}

const api = new ListOnly(existingPvcs());
const cache = new Informer<PersistentVolumeClaim>({ client: api, path: "/api/v1/persistentvolumeclaims" });
// the same options as the controller process's PVC informer, over the in-memory list-watcher
const built = pvcInformer({ client: api });

const { server, caPem } = tlsWebhookServer("fidelity-pvc-ca", {
  gates: defaultFeatureGates,
  getPVC: pvcCacheGetter(cache),
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
});

describe("JobSet validating webhook: PVC look-ups from the cache (issue 15 item 6)", () => {
  before(async () => {
    cache.start();
    assert.equal(await cache.waitForSync(), true);
    await server.start();
  });
  after(async () => {
    await server.stop();
    await cache.stop();
  });

  for (const row of pvcRows) {
    test(row.name, async () => {
      const calls = api.calls.length;
      const r = await send(`${server.url}${Paths.ValidateJobSet}`, review(row.request), { ca: caPem });
      const { uid: _uid, ...got } = r.response ?? { uid: "" };
      assert.deepEqual(got, row.want);
      assert.deepEqual(api.calls.slice(calls), [], "answered from the cache: no API call");
    });
  }
});

describe("the PVC cache", () => {
  test("keeps what rule 9 reads: identity and spec", () => {
    assert.deepEqual(pvcCacheTransform(pvc("data-js", "ns", "1Gi")), {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-js", namespace: "ns", uid: "uid-data-js", resourceVersion: "3" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" },
    });
  });

  test("the process's informer lists PVCs of every namespace (or one) and caches them transformed", async () => {
    built.start();
    try {
      assert.equal(await built.waitForSync(), true);
      assert.deepEqual(built.get("ns", "data-js"), pvcCacheTransform(pvc("data-js", "ns", "1Gi")));
      assert.ok(api.calls.includes("LIST /api/v1/persistentvolumeclaims"));
    } finally {
      await built.stop();
    }
    const one = pvcInformer({ client: api }, { namespace: "ns" });
    one.start();
    try {
      assert.equal(await one.waitForSync(), true);
      assert.ok(api.calls.includes("LIST /api/v1/namespaces/ns/persistentvolumeclaims"));
    } finally {
      await one.stop();
    }
  });

  test("a look-up waits for the first LIST, and gives up with upstream's timeout error when the request does", async () => {
    const slow = new ListOnly([pvc("data-js", "ns", "1Gi")]);
    let release: () => void = () => {};
    slow.hold = new Promise((r) => {
      release = r;
    });
    const inf = new Informer<PersistentVolumeClaim>({ client: slow, path: "/api/v1/persistentvolumeclaims" });
    const get = pvcCacheGetter(inf);
    inf.start();
    try {
      const given = new AbortController();
      const gaveUp = get("ns", "data-js", given.signal);
      given.abort();
      await assert.rejects(gaveUp, new Error(PvcCacheNotSyncedMessage));
      const waiting = get("ns", "data-js");
      release();
      assert.equal((await waiting)?.metadata?.name, "data-js");
      assert.equal(await get("ns", "absent"), undefined);
    } finally {
      await inf.stop();
    }
  });
});
