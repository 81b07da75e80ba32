import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { JobSet, JobSetCondition } from "../../src/api/types.ts";
import { plan } from "../../src/controller/plan.ts";
import { finishTime, type TtlDecision, ttlDecision } from "../../src/controller/ttl.ts";
import { childJob, jobSet, rjob } from "../builders.ts";

const FINISHED = "2024-01-01T00:00:00Z";
const at = (s: number) => new Date(Date.parse(FINISHED) + s * 1000);
const cond = (type: string, status: "True" | "False", lastTransitionTime = FINISHED): JobSetCondition => ({
  type,
  status,
  reason: "R",
  message: "m",
  lastTransitionTime,
});
const js = (ttl: number | undefined, conditions: JobSetCondition[]): JobSet => {
  const b = jobSet("js", "ns").uid("u").replicatedJob(rjob("w").replicas(2));
  if (ttl !== undefined) b.ttlSecondsAfterFinished(ttl);
  const s = b.obj();
  s.status = { restarts: 0, conditions };
  return s;
};

describe("ttlDecision (§6.9)", () => {
  const cases: [string, JobSet, number, TtlDecision][] = [
    ["no ttl", js(undefined, [cond("Completed", "True")]), 100, { kind: "none" }],
    [
      "before expiry: requeue for the rest",
      js(60, [cond("Completed", "True")]),
      15,
      { kind: "requeue", afterMs: 45000 },
    ],
    ["at expiry: delete", js(60, [cond("Completed", "True")]), 60, { kind: "delete" }],
    ["after expiry: delete", js(60, [cond("Failed", "True")]), 61, { kind: "delete" }],
    ["ttl 0: delete immediately", js(0, [cond("Completed", "True")]), 0, { kind: "delete" }],
    [
      "first True finished condition gives the time",
      js(10, [
        cond("Completed", "False", "2023-01-01T00:00:00Z"),
        cond("Failed", "True"),
        cond("Completed", "True", "2030-01-01T00:00:00Z"),
      ]),
      5,
      { kind: "requeue", afterMs: 5000 },
    ],
    [
      "missing time is an error",
      js(10, [{ type: "Failed", status: "True", reason: "R", message: "m" } as JobSetCondition]),
      5,
      { kind: "error", error: "unable to find the time when the JobSet ns/js finished" },
    ],
  ];
  for (const [name, j, s, want] of cases) test(name, () => assert.deepEqual(ttlDecision(j, at(s)), want));
  test("finishTime", () => assert.equal(finishTime(js(1, [cond("Completed", "True")])), Date.parse(FINISHED)));
});

describe("finished JobSet in plan()", () => {
  const run = (j: JobSet, s: number, jobs = [] as ReturnType<typeof childJob>[]) =>
    plan(
      { jobSet: j, jobs: jobs.map((b) => b.obj()), serviceExists: false, now: at(s) },
      { gates: defaultFeatureGates },
    );

  test("active Jobs are deleted; succeeded/failed/previous are not; nothing is created", () => {
    const j = js(undefined, [cond("Completed", "True")]);
    const p = run(j, 1, [childJob(j, "w", 0), childJob(j, "w", 1).completed(), childJob(j, "w", 1).restartAttempt(-1)]);
    assert.deepEqual(p.deletes.jobs, [{ name: "js-w-0", namespace: "ns" }]);
    assert.deepEqual(p.creates, { pvcs: [], jobs: [] });
    assert.equal(p.deletes.jobSet, undefined);
    assert.equal(p.requeueAfterMs, undefined);
  });
  test("Jobs already being deleted are not deleted again", () => {
    const j = js(undefined, [cond("Failed", "True")]);
    assert.deepEqual(run(j, 1, [childJob(j, "w", 0).deletionTimestamp()]).deletes.jobs, []);
  });
  test("TTL requeue", () => {
    const p = run(js(30, [cond("Completed", "True")]), 10);
    assert.equal(p.requeueAfterMs, 20000);
    assert.equal(p.deletes.jobSet, undefined);
  });
  test("TTL expiry deletes the JobSet", () => {
    const p = run(js(30, [cond("Completed", "True")]), 30);
    assert.deepEqual(p.deletes.jobSet, { name: "js", namespace: "ns", uid: "u" });
    assert.equal(p.requeueAfterMs, undefined);
  });
  test("TTL error fails the reconcile", () => {
    const p = run(js(30, [{ type: "Completed", status: "True", reason: "R", message: "m" } as JobSetCondition]), 30);
    assert.equal(p.error, "unable to find the time when the JobSet ns/js finished");
  });
});
