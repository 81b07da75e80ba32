// The events.k8s.io/v1 recorder against a real API server: the Event is accepted as we build it, and a
// repeat becomes a series on the same Event.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { Event, KubeObject } from "../../src/api/k8s.ts";
import type { ListResult } from "../../src/runtime/client.ts";
import { EventRecorder } from "../../src/runtime/events.ts";
import { type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";

describe("event recorder (apiserver)", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await useCluster("apiserver");
  });

  test("creates an Event, then aggregates a repeat into its series", async (t) => {
    const ns = await testNamespace(t, cluster);
    const c = cluster.client;
    const regarding = await c.create<KubeObject>(`/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "subject" },
    });
    const r = new EventRecorder({
      client: c,
      reportingController: "jobset",
      action: "Reconciling",
      reportingInstance: "jobset-test",
    });
    await r.record(regarding, "Warning", "FailedJobs", "jobset failed due to one or more job failures (50% done)");
    assert.deepEqual(r.stats, { created: 1, patched: 0, failed: 0 });
    await r.record(regarding, "Warning", "FailedJobs", "jobset failed due to one or more job failures (50% done)");
    assert.deepEqual(r.stats, { created: 1, patched: 1, failed: 0 });
    const list = await waitFor(async () => {
      const l = await c.list<Event>(`/apis/events.k8s.io/v1/namespaces/${ns}/events`);
      return l.items.length === 1 && l.items[0]?.series ? l : undefined;
    });
    const ev = (list as ListResult<Event>).items[0] as Event;
    assert.equal(ev.reason, "FailedJobs");
    assert.equal(ev.type, "Warning");
    assert.equal(ev.action, "Reconciling");
    assert.equal(ev.reportingController, "jobset");
    assert.equal(ev.reportingInstance, "jobset-test");
    assert.equal(ev.note, "jobset failed due to one or more job failures (50% done)");
    assert.equal(ev.regarding?.uid, regarding.metadata?.uid);
    assert.equal(ev.regarding?.kind, "ConfigMap");
    assert.match(ev.eventTime ?? "", /\.\d{6}Z$/);
    assert.equal(ev.series?.count, 2);
    assert.match(ev.series?.lastObservedTime ?? "", /\.\d{6}Z$/);
  });
});
