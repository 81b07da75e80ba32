import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import type { JobSetEvent } from "../../src/controller/conditions.ts";
import { emptyPlan, JobCreateBatch, type Plan } from "../../src/controller/plan.ts";
import { type ExecutorClient, execute } from "../../src/controllers/jobset/executor.ts";
import { ApiError } from "../../src/runtime/client.ts";
import { mapSettled, pLimit } from "../../src/runtime/parallel.ts";
import { childJob, jobSet, rjob } from "../builders.ts";

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

type Responder = (c: Call) => unknown;

/** A fake API: records every call; `on(method, pathRegex, fn)` decides answers (default: echo body). */
class FakeApi {
  calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly rules: { method: string; re: RegExp; fn: Responder }[] = [];
  on(method: string, re: RegExp, fn: Responder): this {
    this.rules.push({ method, re, fn });
    return this;
  }
  private async answer(c: Call): Promise<never> {
    this.calls.push(c);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    this.inFlight--;
    for (const rule of this.rules) {
      if (rule.method === c.method && rule.re.test(c.path)) return rule.fn(c) as never;
    }
    return (c.body ?? {}) as never;
  }
  client(): ExecutorClient {
    return {
      get: (path: string) => this.answer({ method: "GET", path }),
      create: (path: string, body: unknown) => this.answer({ method: "POST", path, body }),
      update: (path: string, body: unknown) => this.answer({ method: "PUT", path, body }),
      patch: (path: string, body: unknown) => this.answer({ method: "PATCH", path, body }),
      delete: (path: string, opts?: unknown) => this.answer({ method: "DELETE", path, body: opts }),
    } as ExecutorClient;
  }
  writes(): string[] {
    return this.calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path}`);
  }
}

const fail = (code: number, reason: string, message: string) => () => {
  throw new ApiError(code, reason, message);
};

const planWith = (over: Partial<Plan> = {}): Plan => ({ ...emptyPlan(), ...over });

const js = (): JobSet =>
  jobSet("js", "ns").uid("js-uid").replicatedJob(rjob("w").replicas(3)).obj() as JobSet & {
    metadata: { resourceVersion: string };
  };

function deps(api: FakeApi) {
  const events: JobSetEvent[] = [];
  const metrics: string[] = [];
  return {
    events,
    metrics,
    d: {
      client: api.client(),
      events: { emit: (_js: JobSet, e: JobSetEvent) => events.push(e) },
      metrics: {
        jobsetCompletedInc: (n: string, ns: string) => metrics.push(`completed ${ns}/${n}`),
        jobsetFailedInc: (n: string, ns: string) => metrics.push(`failed ${ns}/${n}`),
      },
    },
  };
}

const JOBS = "/apis/batch/v1/namespaces/ns/jobs";
const STATUS = "/apis/jobset.x-k8s.io/v1alpha2/namespaces/ns/jobsets/js/status";

describe("parallel helpers", () => {
  test("mapSettled keeps input order, never exceeds the limit, and attempts every item", async () => {
    let active = 0;
    let max = 0;
    const r = await mapSettled([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      active++;
      max = Math.max(max, active);
      await new Promise((res) => setTimeout(res, 8 - n));
      active--;
      if (n === 4) throw new Error("four");
      return n * 10;
    });
    assert.equal(max, 3);
    assert.deepEqual(
      r.map((x) => (x.status === "fulfilled" ? x.value : (x.reason as Error).message)),
      [10, 20, 30, "four", 50, 60, 70],
    );
    assert.deepEqual(await mapSettled([], 5, async () => 1), []);
  });
  test("pLimit runs at most n at a time and propagates results and errors", async () => {
    const limit = pLimit(2);
    let active = 0;
    let max = 0;
    const task = (v: number) =>
      limit(async () => {
        active++;
        max = Math.max(max, active);
        await new Promise((res) => setImmediate(res));
        active--;
        if (v < 0) throw new Error("neg");
        return v;
      });
    const out = await Promise.allSettled([task(1), task(-1), task(3), task(4)]);
    assert.equal(max, 2);
    assert.deepEqual(
      out.map((o) => (o.status === "fulfilled" ? o.value : "err")),
      [1, "err", 3, 4],
    );
  });
});

describe("execute(plan)", () => {
  test("a skipped plan and an empty plan make no requests", async () => {
    const api = new FakeApi();
    const { d } = deps(api);
    assert.deepEqual(await execute({ ...planWith(), skip: "NotFound" }, undefined, d), { writes: 0 });
    const r = await execute(planWith(), js(), d);
    assert.equal(r.error, undefined);
    assert.equal(api.calls.length, 0);
  });

  test("steps run in the documented order; status write then events; requeueAfter returned", async () => {
    const api = new FakeApi();
    const { d, events, metrics } = deps(api);
    const owner = js();
    const job = childJob(owner, "w", 0).obj();
    const plan = planWith({
      deletes: { jobs: [{ name: "old", namespace: "ns", uid: "old-uid" }] },
      creates: {
        service: { apiVersion: "v1", kind: "Service", metadata: { name: "js", namespace: "ns" } },
        pvcs: [{ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data-js", namespace: "ns" } }],
        jobs: [JobCreateBatch.of("w", [job])],
      },
      updates: {
        scale: [{ name: "js-w-1", namespace: "ns", patch: { spec: { parallelism: 2, completions: 2 } } }],
        jobs: [
          { kind: "suspend", job: { ...job, metadata: { ...job.metadata, name: "js-w-2" } }, clearStartTime: true },
        ],
      },
      status: { restarts: 0 },
      events: [{ type: "Normal", reason: "AllJobsCompleted", message: "jobset completed successfully" }],
      metrics: { completed: true, failed: false },
      requeueAfterMs: 1234,
    });
    const created: Job[] = [];
    const r = await execute(plan, owner, { ...d, onCreated: (j) => created.push(j) });
    assert.equal(r.error, undefined);
    assert.equal(r.requeueAfterMs, 1234);
    assert.deepEqual(api.writes(), [
      `DELETE ${JOBS}/old`,
      "POST /api/v1/namespaces/ns/services",
      "POST /api/v1/namespaces/ns/persistentvolumeclaims",
      `PATCH ${JOBS}/js-w-1`,
      `POST ${JOBS}`,
      `PATCH ${JOBS}/js-w-2/status`,
      `PATCH ${JOBS}/js-w-2`,
      `PUT ${STATUS}`,
    ]);
    assert.equal(r.writes, 8);
    assert.deepEqual(api.calls[0]?.body, {
      propagationPolicy: "Foreground",
      preconditions: { uid: "old-uid" },
    });
    const statusBody = api.calls.at(-1)?.body as JobSet;
    assert.deepEqual(statusBody.status, { restarts: 0 });
    assert.equal(statusBody.metadata?.name, "js");
    assert.deepEqual(events, plan.events);
    assert.deepEqual(metrics, ["completed ns/js"]);
    assert.equal(created.length, 1, "each created Job reported as its create answers");
  });

  test("deletes: ≤ 50 in parallel; NotFound and UID-precondition conflicts are success; other errors joined", async () => {
    const api = new FakeApi()
      .on("DELETE", /gone$/, fail(404, "NotFound", 'jobs.batch "gone" not found'))
      .on("DELETE", /replaced$/, fail(409, "Conflict", "Precondition failed: UID in precondition"))
      .on("DELETE", /bad-1$/, fail(500, "InternalError", "boom 1"))
      .on("DELETE", /bad-2$/, fail(403, "Forbidden", "boom 2"));
    const { d, events } = deps(api);
    const many = Array.from({ length: 120 }, (_, i) => ({ name: `j${i}`, namespace: "ns", uid: `u${i}` }));
    let r = await execute(
      planWith({
        deletes: {
          jobs: [...many, { name: "gone", namespace: "ns" }, { name: "replaced", namespace: "ns", uid: "x" }],
        },
        status: {},
      }),
      js(),
      d,
    );
    assert.equal(r.error, undefined);
    assert.equal(api.maxInFlight, 50);
    api.calls = [];
    r = await execute(
      planWith({
        deletes: {
          jobs: [
            { name: "bad-1", namespace: "ns" },
            { name: "ok", namespace: "ns" },
            { name: "bad-2", namespace: "ns" },
          ],
        },
        status: {},
        events: [{ type: "Normal", reason: "X", message: "y" }],
      }),
      js(),
      d,
    );
    assert.equal(r.error?.message, "boom 1\nboom 2");
    assert.ok(!api.writes().some((w) => w.startsWith("PUT")), "no status write after a failed step");
    assert.equal(events.length, 0);
  });

  test("a conflict without a UID precondition is an error", async () => {
    const api = new FakeApi().on("DELETE", /.*/, fail(409, "Conflict", "conflict"));
    const { d } = deps(api);
    const r = await execute(planWith({ deletes: { jobs: [{ name: "a", namespace: "ns" }] } }), js(), d);
    assert.equal(r.error?.message, "conflict");
  });

  test("Job creates: AlreadyExists of our own Job is success, of a foreign Job an error with JobCreationFailed", async () => {
    const owner = js();
    const mine = childJob(owner, "w", 0).obj();
    const foreign = childJob(jobSet("other", "ns").uid("other-uid").replicatedJob(rjob("w")).obj(), "w", 0).obj();
    for (const tc of [
      { existing: mine, wantError: undefined },
      {
        existing: foreign,
        wantError: 'job "js-w-0" creation failed with error: jobs.batch "js-w-0" already exists',
      },
    ]) {
      const api = new FakeApi()
        .on("POST", /jobs$/, fail(409, "AlreadyExists", 'jobs.batch "js-w-0" already exists'))
        .on("GET", /jobs\/js-w-0$/, () => tc.existing);
      const { d, events } = deps(api);
      const r = await execute(
        planWith({
          creates: { pvcs: [], jobs: [JobCreateBatch.of("w", [mine])] },
          status: {},
          events: [{ type: "Normal", reason: "X", message: "y" }],
        }),
        owner,
        d,
      );
      assert.equal(r.error?.message, tc.wantError);
      if (tc.wantError) {
        assert.deepEqual(events, [{ type: "Warning", reason: "JobCreationFailed", message: tc.wantError }]);
        assert.ok(!api.writes().includes(`PUT ${STATUS}`));
      } else {
        assert.deepEqual(events, [{ type: "Normal", reason: "X", message: "y" }]);
        assert.ok(api.writes().includes(`PUT ${STATUS}`));
      }
    }
  });

  test("an AlreadyExists answer is checked against the cache before a GET", async () => {
    const owner = js();
    const mine = childJob(owner, "w", 0).obj();
    const api = new FakeApi().on("POST", /jobs$/, fail(409, "AlreadyExists", "exists"));
    const { d } = deps(api);
    const r = await execute(planWith({ creates: { pvcs: [], jobs: [JobCreateBatch.of("w", [mine])] } }), owner, {
      ...d,
      cachedJob: () => mine,
    });
    assert.equal(r.error, undefined);
    assert.equal(api.calls.filter((c) => c.method === "GET").length, 0);
  });

  test("a failing batch stops later batches; the message joins every failure of the batch", async () => {
    const owner = js();
    const jobs = [0, 1, 2].map((i) => childJob(owner, "w", i).obj());
    const api = new FakeApi().on("POST", /jobs$/, (c) => {
      const name = (c.body as Job).metadata?.name;
      if (name === "js-w-0" || name === "js-w-2") throw new ApiError(422, "Invalid", `bad ${name}`);
      return c.body;
    });
    const { d, events } = deps(api);
    const r = await execute(
      planWith({
        creates: {
          pvcs: [],
          jobs: [JobCreateBatch.of("w", jobs), JobCreateBatch.of("later", [childJob(owner, "w", 5).obj()])],
        },
      }),
      owner,
      d,
    );
    const msg =
      'job "js-w-0" creation failed with error: bad js-w-0\njob "js-w-2" creation failed with error: bad js-w-2';
    assert.equal(r.error?.message, msg);
    assert.deepEqual(events, [{ type: "Warning", reason: "JobCreationFailed", message: msg }]);
    assert.equal(api.calls.filter((c) => c.method === "POST").length, 3);
  });

  test("Service: AlreadyExists is success; other errors emit HeadlessServiceCreationFailed", async () => {
    const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "js", namespace: "ns" } };
    let api = new FakeApi().on("POST", /services$/, fail(409, "AlreadyExists", "exists"));
    let x = deps(api);
    let r = await execute(planWith({ creates: { service: svc, pvcs: [], jobs: [] } }), js(), x.d);
    assert.equal(r.error, undefined);
    api = new FakeApi().on("POST", /services$/, fail(403, "Forbidden", "services is forbidden"));
    x = deps(api);
    r = await execute(planWith({ creates: { service: svc, pvcs: [], jobs: [] } }), js(), x.d);
    assert.equal(r.error?.message, "services is forbidden");
    assert.deepEqual(x.events, [
      { type: "Warning", reason: "HeadlessServiceCreationFailed", message: "services is forbidden" },
    ]);
  });

  test("PVCs: every PVC attempted, AlreadyExists ignored, one event per failure, errors joined", async () => {
    const pvc = (n: string) => ({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: n, namespace: "ns" },
    });
    const api = new FakeApi().on("POST", /persistentvolumeclaims$/, (c) => {
      const n = (c.body as { metadata: { name: string } }).metadata.name;
      if (n === "a") throw new ApiError(409, "AlreadyExists", "exists");
      if (n !== "b") throw new ApiError(422, "Invalid", `invalid ${n}`);
      return c.body;
    });
    const { d, events } = deps(api);
    const r = await execute(
      planWith({ creates: { pvcs: [pvc("a"), pvc("b"), pvc("c"), pvc("d")], jobs: [] } }),
      js(),
      d,
    );
    assert.equal(r.error?.message, "invalid c\ninvalid d");
    assert.deepEqual(
      events.map((e) => `${e.reason}: ${e.message}`),
      ["PVCCreationFailed: invalid c", "PVCCreationFailed: invalid d"],
    );
  });

  test("plan.error fails the reconcile after the writes before it, with no status write or metrics", async () => {
    const api = new FakeApi();
    const { d, events, metrics } = deps(api);
    const r = await execute(
      planWith({
        deletes: { jobs: [{ name: "old", namespace: "ns" }] },
        error: "missing label",
        status: {},
        metrics: { completed: false, failed: true },
        events: [{ type: "Warning", reason: "FailedJobs", message: "m" }],
      }),
      js(),
      d,
    );
    assert.equal(r.error?.message, "missing label");
    assert.deepEqual(api.writes(), [`DELETE ${JOBS}/old`]);
    assert.deepEqual(events, []);
    assert.deepEqual(metrics, []);
  });

  test("a status-write conflict fails the reconcile: metrics were counted, events were not sent", async () => {
    const api = new FakeApi().on("PUT", /status$/, fail(409, "Conflict", "the object has been modified"));
    const { d, events, metrics } = deps(api);
    const r = await execute(
      planWith({
        status: {},
        metrics: { completed: false, failed: true },
        events: [{ type: "Warning", reason: "FailedJobs", message: "m" }],
        requeueAfterMs: 10,
      }),
      js(),
      d,
    );
    assert.equal(r.error?.message, "the object has been modified");
    assert.equal(r.requeueAfterMs, undefined);
    assert.deepEqual(events, []);
    assert.deepEqual(metrics, ["failed ns/js"]);
  });

  test("TTL: the JobSet is deleted in the foreground; a status write racing the deletion is not an error", async () => {
    const api = new FakeApi().on("PUT", /status$/, fail(409, "Conflict", "modified"));
    const { d, events } = deps(api);
    const r = await execute(
      planWith({
        deletes: { jobs: [], jobSet: { name: "js", namespace: "ns", uid: "js-uid" } },
        status: {},
        events: [{ type: "Normal", reason: "X", message: "y" }],
      }),
      js(),
      d,
    );
    assert.equal(r.error, undefined);
    assert.equal(api.calls[0]?.path, "/apis/jobset.x-k8s.io/v1alpha2/namespaces/ns/jobsets/js");
    assert.deepEqual(api.calls[0]?.body, { propagationPolicy: "Foreground", preconditions: { uid: "js-uid" } });
    assert.deepEqual(events, []);
  });

  test("resume with clearStartTime: status patch first, then the Job patch guarded by the returned resourceVersion", async () => {
    const owner = js();
    const job = {
      ...childJob(owner, "w", 0).obj(),
      metadata: { name: "js-w-0", namespace: "ns", resourceVersion: "5" },
    };
    const api = new FakeApi().on("PATCH", /status$/, () => ({ metadata: { resourceVersion: "6" } }));
    const { d } = deps(api);
    const r = await execute(
      planWith({ updates: { scale: [], jobs: [{ kind: "resume", job, clearStartTime: true }] } }),
      owner,
      d,
    );
    assert.equal(r.error, undefined);
    assert.deepEqual(api.calls[0]?.body, { metadata: { resourceVersion: "5" }, status: { startTime: null } });
    const patch = api.calls[1]?.body as Job | undefined;
    assert.equal(patch?.metadata?.resourceVersion, "6");
    assert.equal(patch?.spec?.suspend, false);
    assert.equal(patch?.spec?.template?.spec?.containers, undefined, "only what the resume changes is sent");
    assert.equal(job.metadata.resourceVersion, "5", "the planned object is not mutated");
  });
});
