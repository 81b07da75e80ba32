import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ApiError, type PatchType } from "../../src/runtime/client.ts";
import { FakeClock, microTime } from "../../src/runtime/clock.ts";
import { type EventClient, EventRecorder, type EventV1, truncateNote } from "../../src/runtime/events.ts";

class FakeEvents {
  created: { path: string; body: EventV1 }[] = [];
  patched: { path: string; body: unknown; type: PatchType }[] = [];
  failCreate = false;
  missing = new Set<string>();
  client: EventClient = {
    create: async <T>(path: string, body: unknown) => {
      if (this.failCreate) throw new ApiError(403, "Forbidden", "events is forbidden");
      this.created.push({ path, body: body as EventV1 });
      return body as T;
    },
    patch: async <T>(path: string, body: unknown, type: PatchType) => {
      if ([...this.missing].some((m) => path.endsWith(m))) throw new ApiError(404, "NotFound", "gone");
      this.patched.push({ path, body, type });
      return body as T;
    },
  };
}

const jobset = {
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { namespace: "ns", name: "js", uid: "uid-1", resourceVersion: "7" },
};

describe("EventRecorder", () => {
  test("creates an events.k8s.io/v1 Event regarding the object", async () => {
    const api = new FakeEvents();
    const clock = new FakeClock(Date.UTC(2026, 1, 3, 4, 5, 6, 789));
    const r = new EventRecorder({
      client: api.client,
      reportingController: "jobset",
      action: "Reconciling",
      clock,
      reportingInstance: "jobset-host",
    });
    await r.record(jobset, "Normal", "AllJobsCompleted", "jobset completed successfully");
    assert.equal(api.created.length, 1);
    const { path, body } = api.created[0] as { path: string; body: EventV1 };
    assert.equal(path, "/apis/events.k8s.io/v1/namespaces/ns/events");
    assert.equal(body.apiVersion, "events.k8s.io/v1");
    assert.equal(body.kind, "Event");
    assert.equal(body.eventTime, "2026-02-03T04:05:06.789000Z");
    assert.match(body.metadata.name, /^js\.[0-9a-f]+$/);
    assert.equal(body.metadata.namespace, "ns");
    assert.equal(body.reportingController, "jobset");
    assert.equal(body.reportingInstance, "jobset-host");
    assert.equal(body.action, "Reconciling");
    assert.equal(body.type, "Normal");
    assert.equal(body.reason, "AllJobsCompleted");
    assert.equal(body.note, "jobset completed successfully");
    assert.deepEqual(body.regarding, {
      apiVersion: "jobset.x-k8s.io/v1alpha2",
      kind: "JobSet",
      namespace: "ns",
      name: "js",
      uid: "uid-1",
      resourceVersion: "7",
    });
    assert.equal(body.series, undefined);
  });

  test("repeats are aggregated into a series on the first event by a merge patch", async () => {
    const api = new FakeEvents();
    const clock = new FakeClock();
    const r = new EventRecorder({ client: api.client, reportingController: "jobset", action: "Reconciling", clock });
    r.emit(jobset, { type: "Warning", reason: "FailedJobs", message: "m" });
    r.emit(
      { ...jobset, metadata: { ...jobset.metadata, resourceVersion: "8" } },
      { type: "Warning", reason: "FailedJobs", message: "m" },
    );
    clock.advance(1000);
    r.emit(jobset, { type: "Warning", reason: "FailedJobs", message: "m" });
    await r.flush();
    assert.equal(api.created.length, 1);
    const name = api.created[0]?.body.metadata.name as string;
    assert.deepEqual(
      api.patched.map((p) => [p.path, p.type, p.body]),
      [
        [
          `/apis/events.k8s.io/v1/namespaces/ns/events/${name}`,
          "merge",
          { series: { count: 2, lastObservedTime: microTime(clock.now() - 1000) } },
        ],
        [
          `/apis/events.k8s.io/v1/namespaces/ns/events/${name}`,
          "merge",
          { series: { count: 3, lastObservedTime: microTime(clock.now()) } },
        ],
      ],
    );
    assert.deepEqual(r.stats, { created: 1, patched: 2, failed: 0 });
  });

  test("different reason, note or type make different events", async () => {
    const api = new FakeEvents();
    const r = new EventRecorder({
      client: api.client,
      reportingController: "jobset",
      action: "Reconciling",
      clock: new FakeClock(),
    });
    await r.record(jobset, "Normal", "A", "x");
    await r.record(jobset, "Normal", "B", "x");
    await r.record(jobset, "Normal", "A", "y");
    await r.record(jobset, "Warning", "A", "x");
    assert.equal(api.created.length, 4);
    assert.equal(new Set(api.created.map((c) => c.body.metadata.name)).size, 4, "names are unique");
  });

  test("a repeat after the series window, or of a deleted event, creates a new event", async () => {
    const api = new FakeEvents();
    const clock = new FakeClock();
    const r = new EventRecorder({
      client: api.client,
      reportingController: "jobset",
      action: "Reconciling",
      clock,
      seriesWindowMs: 60_000,
    });
    await r.record(jobset, "Normal", "A", "x");
    clock.advance(60_001);
    await r.record(jobset, "Normal", "A", "x");
    assert.equal(api.created.length, 2);
    api.missing.add(api.created[1]?.body.metadata.name as string);
    await r.record(jobset, "Normal", "A", "x");
    assert.equal(api.created.length, 3);
    assert.equal(api.patched.length, 0);
  });

  test("failures are swallowed (best effort) and counted", async () => {
    const api = new FakeEvents();
    api.failCreate = true;
    const r = new EventRecorder({
      client: api.client,
      reportingController: "jobset",
      action: "Reconciling",
      clock: new FakeClock(),
    });
    await r.record(jobset, "Warning", "JobCreationFailed", "x");
    assert.equal(r.stats.failed, 1);
  });

  test("the cache is bounded: the least recently used key is forgotten", async () => {
    const api = new FakeEvents();
    const r = new EventRecorder({
      client: api.client,
      reportingController: "jobset",
      action: "Reconciling",
      clock: new FakeClock(),
      maxCacheEntries: 2,
    });
    await r.record(jobset, "Normal", "A", "x");
    await r.record(jobset, "Normal", "B", "x");
    await r.record(jobset, "Normal", "A", "x"); // A is now the most recent
    await r.record(jobset, "Normal", "C", "x"); // evicts B
    await r.record(jobset, "Normal", "B", "x"); // new event
    await r.record(jobset, "Normal", "A", "x"); // still cached? evicted by B's re-entry (size 2: C, B)
    assert.deepEqual(
      api.created.map((c) => c.body.reason),
      ["A", "B", "C", "B", "A"],
    );
    assert.equal(api.patched.length, 1);
  });

  test("cluster-scoped objects' events go to the default namespace", async () => {
    const api = new FakeEvents();
    const r = new EventRecorder({
      client: api.client,
      reportingController: "jobset",
      action: "Reconciling",
      clock: new FakeClock(),
    });
    await r.record({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" } }, "Normal", "A", "x");
    assert.equal(api.created[0]?.path, "/apis/events.k8s.io/v1/namespaces/default/events");
  });

  test("notes are cut to 1 kB at a character boundary", () => {
    assert.equal(truncateNote("abc"), "abc");
    const long = "é".repeat(600); // 1200 bytes
    const cut = truncateNote(long);
    assert.ok(Buffer.byteLength(cut) <= 1024);
    assert.equal(cut, "é".repeat(512));
  });
});
