// The informer's loop against an in-memory list-watcher and a fake clock: list → watch, 410 → relist
// and diff, errors and stream ends → reconnect with backoff from the last resourceVersion, resync,
// periodic relist, stall detection, stop.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "../../src/api/k8s.ts";
import {
  ApiError,
  type ListResult,
  type RequestOptions,
  type WatchEvent,
  type WatchOptions,
} from "../../src/runtime/client.ts";
import { FakeClock, flush } from "../../src/runtime/clock.ts";
import { Informer, type ListWatcher } from "../../src/runtime/informer.ts";
import { createLogger, type Logger } from "../../src/runtime/logger.ts";
import { controllerOwnerIndex } from "../../src/runtime/store.ts";

type Item = WatchEvent | { end: true } | { error: unknown };

class Stream {
  private readonly items: Item[] = [];
  private wake: (() => void) | undefined;
  closed = false;
  readonly query: Record<string, unknown>;
  constructor(query: Record<string, unknown>) {
    this.query = query;
  }
  push(i: Item): void {
    this.items.push(i);
    this.wake?.();
  }
  async *run(signal?: AbortSignal): AsyncGenerator<WatchEvent> {
    try {
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        const i = this.items.shift();
        if (!i) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            signal?.addEventListener("abort", () => resolve(), { once: true });
          });
          this.wake = undefined;
          continue;
        }
        if ("end" in i) return;
        if ("error" in i) throw i.error;
        yield i;
      }
    } finally {
      this.closed = true;
    }
  }
}

/** An in-memory API: objects with resourceVersions, LIST, and WATCH streams the test controls. */
class FakeApi implements ListWatcher {
  readonly objs = new Map<string, KubeObject>();
  rv = 10;
  lists: Record<string, unknown>[] = [];
  streams: Stream[] = [];
  failLists = 0;
  goneWatches = 0;
  failWatches = 0;

  async list<T>(_path: string, query?: RequestOptions["query"]): Promise<ListResult<T>> {
    this.lists.push({ ...query });
    if (this.failLists > 0) {
      this.failLists--;
      throw new ApiError(500, "InternalError", "list failed");
    }
    return { metadata: { resourceVersion: String(this.rv) }, items: [...this.objs.values()] as T[] };
  }

  watch<T>(
    _path: string,
    query: RequestOptions["query"],
    signal?: AbortSignal,
    opts?: WatchOptions,
  ): AsyncGenerator<WatchEvent<T>> {
    const s = new Stream({ ...query });
    this.streams.push(s);
    const gone = this.goneWatches > 0 ? this.goneWatches-- : 0;
    const fail = !gone && this.failWatches > 0 ? this.failWatches-- : 0;
    async function* gen(): AsyncGenerator<WatchEvent> {
      if (gone) throw new ApiError(410, "Expired", "too old resource version");
      if (fail) throw new ApiError(0, "ConnectionError", "connection refused");
      opts?.onConnect?.();
      yield* s.run(signal);
    }
    return gen() as AsyncGenerator<WatchEvent<T>>;
  }

  get current(): Stream {
    const s = this.streams.at(-1);
    assert.ok(s, "a watch is open");
    return s;
  }

  /** Changes the API state; `notify` also sends the event to the open watch. */
  put(name: string, notify = true, extra: Record<string, unknown> = {}): KubeObject {
    const type = this.objs.has(name) ? "MODIFIED" : "ADDED";
    const o: KubeObject = {
      metadata: { namespace: "ns", name, resourceVersion: String(++this.rv), ...extra },
    };
    this.objs.set(name, o);
    if (notify) this.current.push({ type, object: o });
    return o;
  }
  remove(name: string, notify = true): void {
    const o = this.objs.get(name);
    assert.ok(o);
    this.objs.delete(name);
    this.rv++;
    if (notify)
      this.current.push({
        type: "DELETED",
        object: { ...o, metadata: { ...o.metadata, resourceVersion: String(this.rv) } },
      });
  }
}

function setup(
  opts: { resyncPeriodMs?: number; relistPeriodMs?: number; stallTimeoutMs?: number; logger?: Logger } = {},
) {
  const api = new FakeApi();
  const clock = new FakeClock();
  const events: string[] = [];
  const informer = new Informer({
    client: api,
    path: "/api/v1/things",
    clock,
    random: () => 0,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    relistPeriodMs: opts.relistPeriodMs ?? 0,
    stallTimeoutMs: opts.stallTimeoutMs ?? 3_600_000,
    labelSelector: "app=x",
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  informer.addEventHandler({
    onAdd: (o) => events.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
    onUpdate: (a, b) =>
      events.push(`update ${b.metadata?.name}@${a.metadata?.resourceVersion}->${b.metadata?.resourceVersion}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  const take = () => events.splice(0);
  return { api, clock, informer, take };
}

async function until(cond: () => boolean, clock?: FakeClock): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    if (clock) await clock.advanceAsync(0);
    else await flush();
  }
  assert.fail("condition not reached");
}

describe("Informer", () => {
  test("lists, becomes synced, then watches from the list's resourceVersion with bookmarks", async () => {
    const { api, informer, take } = setup();
    api.put("a", false);
    api.put("b", false);
    assert.equal(informer.hasSynced(), false);
    informer.start();
    assert.equal(await informer.waitForSync(), true);
    assert.deepEqual(take(), ["add a@11", "add b@12"]);
    await until(() => api.streams.length === 1);
    const q = api.current.query;
    assert.equal(q.resourceVersion, "12");
    assert.equal(q.allowWatchBookmarks, true);
    assert.equal(q.labelSelector, "app=x");
    assert.equal(typeof q.timeoutSeconds, "number");
    assert.equal(api.lists[0]?.labelSelector, "app=x");
    await informer.stop();
  });

  test("delivers add, update (old and new) and delete; the cache and indexes follow", async () => {
    const { api, informer, take } = setup();
    informer.addIndex("owner", controllerOwnerIndex());
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    api.put("a", true, { ownerReferences: [{ apiVersion: "v1", kind: "X", name: "o", uid: "u1", controller: true }] });
    await until(() => informer.get("ns", "a") !== undefined);
    assert.deepEqual(
      informer.byIndex("owner", "u1").map((o) => o.metadata?.name),
      ["a"],
    );
    api.put("a");
    api.remove("a");
    api.put("b");
    await until(() => informer.get("ns", "b") !== undefined);
    assert.deepEqual(take(), ["add a@11", "update a@11->12", "delete a", "add b@14"]);
    assert.equal(informer.get("ns", "a"), undefined);
    assert.equal(informer.list("ns").length, 1);
    assert.deepEqual(informer.byIndex("owner", "u1"), []);
    await informer.stop();
  });

  test("a BOOKMARK moves the resourceVersion without notifying handlers", async () => {
    const { api, informer, take } = setup();
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    api.current.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: "99" } } });
    await until(() => informer.resourceVersion === "99");
    assert.deepEqual(take(), []);
    await informer.stop();
  });

  test("410 Gone in the stream: relists at once and diffs (deletes vanished, updates changed, adds new)", async () => {
    const { api, informer, take } = setup();
    api.put("keep", false);
    api.put("change", false);
    api.put("vanish", false);
    informer.start();
    await informer.waitForSync();
    take();
    await until(() => api.streams.length === 1);
    // changes the informer never hears about
    api.put("change", false);
    api.remove("vanish", false);
    api.put("new", false);
    api.current.push({ error: new ApiError(410, "Expired", "too old resource version") });
    await until(() => api.lists.length === 2 && api.streams.length === 2);
    assert.deepEqual(take(), ["delete vanish", "add new@16", "update change@12->14"]);
    assert.equal(api.current.query.resourceVersion, "16");
    await informer.stop();
  });

  test("410 Gone as the watch's HTTP answer also relists", async () => {
    const { api, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    api.goneWatches = 1;
    informer.cutWatch();
    await until(() => api.lists.length === 2 && api.streams.length === 3);
    await informer.stop();
  });

  test("an error reconnects after a backoff, from the last resourceVersion, without relisting", async () => {
    const { api, clock, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    api.put("a");
    api.current.push({ error: new ApiError(0, "ConnectionError", "reset") });
    await flush();
    await flush();
    assert.equal(api.streams.length, 1, "waits for the backoff");
    await clock.advanceAsync(200);
    await until(() => api.streams.length === 2, clock);
    assert.equal(api.current.query.resourceVersion, "11");
    assert.equal(api.lists.length, 1);
    await informer.stop();
  });

  test("backoff grows across failed connects and resets after a successful connect", async () => {
    const { api, clock, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    api.failWatches = 3;
    api.current.push({ error: new Error("boom") });
    // delays 200, 400, 800, then a connect succeeds
    const times: number[] = [];
    const t0 = clock.now();
    while (api.streams.length < 5) {
      const n = api.streams.length;
      await clock.advanceAsync(10);
      if (api.streams.length > n) times.push(clock.now() - t0);
    }
    assert.deepEqual(times, [200, 600, 1400, 3000]);
    // connected: the next failure waits the initial delay again
    api.current.push({ error: new Error("boom") });
    const t1 = clock.now();
    while (api.streams.length < 6) await clock.advanceAsync(10);
    assert.equal(clock.now() - t1, 200);
    await informer.stop();
  });

  test("the initial list is retried until it succeeds", async () => {
    const { api, clock, informer } = setup();
    api.failLists = 3;
    informer.start();
    for (let i = 0; i < 100 && !informer.hasSynced(); i++) await clock.advanceAsync(100);
    assert.equal(informer.hasSynced(), true);
    assert.equal(api.lists.length, 4);
    await informer.stop();
  });

  test("a watch the server closes after a while is renewed at once", async () => {
    const { api, clock, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    await clock.advanceAsync(60_000);
    api.current.push({ end: true });
    await until(() => api.streams.length === 2);
    assert.equal(informer.stats.reconnects, 1);
    await informer.stop();
  });

  test("resync re-delivers every cached object as update(old = new) without API calls", async () => {
    const { api, clock, informer, take } = setup({ resyncPeriodMs: 1000 });
    api.put("a", false);
    api.put("b", false);
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    take();
    await clock.advanceAsync(1000);
    assert.deepEqual(take().sort(), ["update a@11->11", "update b@12->12"]);
    assert.equal(api.lists.length, 1);
    assert.equal(api.streams.length, 1);
    await clock.advanceAsync(1000);
    assert.equal(take().length, 2);
    await informer.stop();
  });

  test("periodic relist lists again and diffs", async () => {
    const { api, clock, informer, take } = setup({ relistPeriodMs: 10_000 });
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    api.put("missed", false);
    await clock.advanceAsync(9_000); // jitter 0.9 with random() = 0
    await until(() => api.lists.length === 2 && api.streams.length === 2, clock);
    assert.deepEqual(take(), ["add missed@11"]);
    await informer.stop();
  });

  test("a stalled watch (no data) is cut and reconnected", async () => {
    const { api, clock, informer } = setup({ stallTimeoutMs: 5_000 });
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    await clock.advanceAsync(4_000);
    api.current.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: "10" } } });
    await clock.advanceAsync(4_000);
    assert.equal(api.streams.length, 1, "data within the window keeps it alive");
    await clock.advanceAsync(1_000);
    await clock.advanceAsync(200); // backoff
    await until(() => api.streams.length === 2, clock);
    assert.equal(api.streams[0]?.closed, true);
    await informer.stop();
  });

  test("a throwing handler does not stop delivery to others", async () => {
    const { api, informer, take } = setup();
    informer.onAdd(() => {
      throw new Error("handler bug");
    });
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    api.put("a");
    api.put("b");
    await until(() => informer.list().length === 2);
    assert.deepEqual(take(), ["add a@11", "add b@12"]);
    await informer.stop();
  });

  test("an index function that throws is logged with the index and the object's key", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: "info",
      destination: { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) },
    });
    const { api, informer } = setup({ logger });
    informer.addIndex("picky", (o) => {
      if (o.metadata?.name === "bad") throw new Error("no label");
      return ["ok"];
    });
    informer.start();
    await informer.waitForSync();
    await until(() => api.streams.length === 1);
    api.put("bad");
    api.put("good");
    await until(() => informer.list().length === 2);
    assert.deepEqual(
      informer.byIndex("picky", "ok").map((o) => o.metadata?.name),
      ["good"],
    );
    const logged = lines.filter((l) => l.msg === "index function failed: object left out of the index");
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.level, "error");
    assert.equal(logged[0]?.index, "picky");
    assert.equal(logged[0]?.key, "ns/bad");
    assert.match(String((logged[0]?.err as { message?: string } | undefined)?.message), /no label/);
    await informer.stop();
  });

  test("a handler added after sync gets adds for the cached objects", async () => {
    const { api, informer } = setup();
    api.put("a", false);
    informer.start();
    await informer.waitForSync();
    const seen: string[] = [];
    informer.onAdd((o) => seen.push(o.metadata?.name ?? ""));
    assert.deepEqual(seen, ["a"]);
    await informer.stop();
  });

  test("stop() closes the watch; waitForSync on a stopped informer gives false", async () => {
    const { api, informer } = setup();
    api.failLists = 1000;
    informer.start();
    const p = informer.waitForSync();
    await informer.stop();
    assert.equal(await p, false);

    const s2 = setup();
    s2.informer.start();
    await s2.informer.waitForSync();
    await until(() => s2.api.streams.length === 1);
    await s2.informer.stop();
    assert.equal(s2.api.current.closed, true);
  });

  test("waitForSync gives false when its signal aborts", async () => {
    const { api, informer } = setup();
    api.failLists = 1000;
    informer.start();
    const ac = new AbortController();
    const p = informer.waitForSync(ac.signal);
    ac.abort();
    assert.equal(await p, false);
    await informer.stop();
  });
});

describe("Informer cache transforms", () => {
  const mf = [{ manager: "kubectl", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: {} }];

  test("managedFields are dropped from listed and watched objects unless kept; a transform trims the rest", async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    api.put("listed", false, { managedFields: mf, labels: { a: "1" } });
    const seen: KubeObject[] = [];
    const trimmed = new Informer({
      client: api,
      path: "/api/v1/things",
      clock,
      random: () => 0,
      resyncPeriodMs: 0,
      transform: (o) => ({ ...o, metadata: { ...o.metadata, annotations: { trimmed: "yes" } } }),
    });
    trimmed.onAdd((o) => seen.push(o));
    trimmed.onUpdate((_old, o) => seen.push(o));
    trimmed.start();
    await trimmed.waitForSync();
    await until(() => api.streams.length === 1);
    api.put("watched", true, { managedFields: mf });
    await until(() => trimmed.get("ns", "watched") !== undefined);
    for (const name of ["listed", "watched"]) {
      const o = trimmed.get("ns", name);
      assert.equal(o?.metadata?.managedFields, undefined, `${name}: managedFields dropped`);
      assert.deepEqual(o?.metadata?.annotations, { trimmed: "yes" }, `${name}: transformed`);
    }
    assert.equal(trimmed.get("ns", "listed")?.metadata?.labels?.a, "1");
    assert.deepEqual(
      seen.map((o) => [o.metadata?.name, o.metadata?.managedFields, o.metadata?.annotations?.trimmed]),
      [
        ["listed", undefined, "yes"],
        ["watched", undefined, "yes"],
      ],
      "handlers see the transformed objects",
    );
    await trimmed.stop();

    const keeping = new Informer({ client: api, path: "/x", clock, random: () => 0, keepManagedFields: true });
    keeping.start();
    await keeping.waitForSync();
    assert.deepEqual(keeping.get("ns", "listed")?.metadata?.managedFields, mf);
    await keeping.stop();
  });
});
