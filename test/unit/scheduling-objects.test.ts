// runtime/scheduling-objects.ts with a recording fake client: discovery caching, lookups by name,
// and the order and error handling of the scheduling step of a Plan.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JobSet } from "../../src/api/types.ts";
import { desiredScheduling } from "../../src/controller/scheduling.ts";
import {
  executeScheduling,
  SchedulingObjects,
  schedulingPath,
} from "../../src/controllers/jobset/scheduling-objects.ts";
import { ApiError } from "../../src/runtime/client.ts";
import { jobSet, rjob } from "../builders.ts";

type Handler = (method: string, path: string, body?: unknown) => unknown;
function fakeClient(handler: Handler) {
  const calls: string[] = [];
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    calls.push(`${method} ${path}`);
    return handler(method, path, body) as T;
  };
  return {
    calls,
    get: <T>(path: string) => call<T>("GET", path),
    create: <T>(path: string, body: unknown) => call<T>("POST", path, body),
    delete: <T>(path: string, opts?: unknown) => call<T>("DELETE", path, opts),
  };
}
const notFound = () => {
  throw new ApiError(404, "NotFound", "not found");
};
const gang = (): JobSet => {
  const js = jobSet("js", "ns").uid("u").replicatedJob(rjob("w").replicas(2).parallelism(2)).obj();
  if (js.spec) js.spec.scheduling = { schedulingPolicy: { gang: {} } };
  return js;
};
const discovery = { resources: [{ name: "workloads" }, { name: "podgroups" }, { name: "podgroups/status" }] };

describe("SchedulingObjects", () => {
  test("not served (404 discovery): one request, cached for 30 s, then asked again", async () => {
    let now = 0;
    const c = fakeClient(notFound);
    const so = new SchedulingObjects(c, () => now);
    assert.deepEqual(await so.observe(gang()), { served: false, podGroups: [] });
    now = 29_000;
    assert.equal(await so.apiServed(), false);
    assert.deepEqual(c.calls, ["GET /apis/scheduling.k8s.io/v1alpha2"]);
    now = 31_000;
    await so.apiServed();
    assert.equal(c.calls.length, 2);
  });
  test("served: discovery once, then the Workload and each PodGroup by name (missing ones left out)", async () => {
    const js = gang();
    const d = desiredScheduling(js);
    const wl = d?.workload.metadata?.name ?? "";
    const c = fakeClient((_m, path) => {
      if (path === "/apis/scheduling.k8s.io/v1alpha2") return discovery;
      if (path === schedulingPath("Workload", "ns", wl)) return { metadata: { name: wl } };
      return notFound();
    });
    const so = new SchedulingObjects(c);
    assert.deepEqual(await so.observe(js), { served: true, workload: { metadata: { name: wl } }, podGroups: [] });
    await so.observe(js);
    assert.deepEqual(c.calls, [
      "GET /apis/scheduling.k8s.io/v1alpha2",
      `GET /apis/scheduling.k8s.io/v1alpha2/namespaces/ns/workloads/${wl}`,
      `GET /apis/scheduling.k8s.io/v1alpha2/namespaces/ns/podgroups/${wl}`,
      `GET /apis/scheduling.k8s.io/v1alpha2/namespaces/ns/workloads/${wl}`,
      `GET /apis/scheduling.k8s.io/v1alpha2/namespaces/ns/podgroups/${wl}`,
    ]);
  });
  test("a discovery document without podgroups counts as not served", async () => {
    const so = new SchedulingObjects(fakeClient(() => ({ resources: [{ name: "workloads" }] })));
    assert.equal(await so.apiServed(), false);
  });
});

describe("executeScheduling", () => {
  const d = desiredScheduling(gang());
  assert.ok(d);
  const creates = [d.workload, ...d.podGroups];
  test("deletes (NotFound and UID conflicts are fine), then creates in order", async () => {
    const c = fakeClient((m, path) => {
      if (m === "DELETE" && path.endsWith("/gone")) notFound();
      if (m === "DELETE" && path.endsWith("/replaced")) throw new ApiError(409, "Conflict", "uid mismatch");
      return {};
    });
    let writes = 0;
    await executeScheduling(
      {
        deletes: [
          { kind: "PodGroup", name: "gone", namespace: "ns", uid: "1" },
          { kind: "Workload", name: "replaced", namespace: "ns", uid: "2" },
        ],
        creates,
      },
      c,
      { onWrite: () => writes++ },
    );
    assert.deepEqual(c.calls, [
      "DELETE /apis/scheduling.k8s.io/v1alpha2/namespaces/ns/podgroups/gone",
      "DELETE /apis/scheduling.k8s.io/v1alpha2/namespaces/ns/workloads/replaced",
      "POST /apis/scheduling.k8s.io/v1alpha2/namespaces/ns/workloads",
      "POST /apis/scheduling.k8s.io/v1alpha2/namespaces/ns/podgroups",
    ]);
    assert.equal(writes, 4);
  });
  test("a failed create stops the step: later objects are not created; only non-AlreadyExists errors make an event", async () => {
    for (const [err, events] of [
      [new ApiError(403, "Forbidden", 'PodGroup rejected: Workload "x" is being deleted'), 1],
      [new ApiError(409, "AlreadyExists", "exists"), 0],
    ] as const) {
      const c = fakeClient((m) => {
        if (m === "POST") throw err;
        return {};
      });
      const messages: string[] = [];
      await assert.rejects(
        executeScheduling({ deletes: [], creates }, c, { onCreateFailed: (m) => messages.push(m) }),
        (e: unknown) => e === err,
      );
      assert.equal(c.calls.length, 1);
      assert.equal(messages.length, events);
      if (events) assert.match(messages[0] ?? "", /^Workload js-[0-9a-f]{10} creation failed: PodGroup rejected/);
    }
  });
});
