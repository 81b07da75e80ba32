import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { Pod } from "../../src/api/k8s.ts";
import type { JobSet, JobSetStatus } from "../../src/api/types.ts";
import { newStatusUpdate } from "../../src/controller/conditions.ts";
import { InvalidAttemptAnnotationError, reconcileInPlaceRestart } from "../../src/controller/in-place-restart.ts";
import { plan } from "../../src/controller/plan.ts";
import { childJob, jobSet, rjob } from "../builders.ts";

const build = (status: Partial<JobSetStatus> = {}, pc: [number | undefined, number | undefined] = [2, 2]): JobSet => {
  const r = rjob("w").replicas(1);
  if (pc[0] !== undefined) r.parallelism(pc[0]);
  if (pc[1] !== undefined) r.completions(pc[1]);
  const js = jobSet("js")
    .uid("u")
    .replicatedJob(r)
    .failurePolicy({ maxRestarts: 3, restartStrategy: "InPlaceRestart" })
    .obj();
  js.status = { restarts: 0, ...status };
  return js;
};
const pod = (attempt?: string, opts: { restarts?: number; phase?: string } = {}): Pod => ({
  metadata: {
    name: "p",
    annotations: attempt === undefined ? {} : { "jobset.sigs.k8s.io/in-place-restart-attempt": attempt },
  },
  status: {
    phase: opts.phase ?? "Running",
    containerStatuses: [{ name: "main", image: "i", imageID: "", ready: true, restartCount: opts.restarts ?? 0 }],
  },
});

describe("reconcileInPlaceRestart (§8.1)", () => {
  const cases: {
    name: string;
    js: JobSet;
    pods: Pod[];
    error?: string;
    failed?: boolean;
    current?: number;
    previous?: number;
    update: boolean;
  }[] = [
    {
      name: "container restarts above maxRestarts fail",
      js: build(),
      pods: [pod("0", { restarts: 4 })],
      failed: true,
      update: true,
    },
    {
      name: "container restarts at maxRestarts are fine",
      js: build(),
      pods: [pod("0", { restarts: 3 }), pod("0")],
      current: 0,
      update: true,
    },
    { name: "invalid annotation", js: build(), pods: [pod("x")], error: InvalidAttemptAnnotationError, update: false },
    {
      name: "negative annotation",
      js: build(),
      pods: [pod("-1")],
      error: InvalidAttemptAnnotationError,
      update: false,
    },
    { name: "failed pods are ignored", js: build(), pods: [pod("x", { phase: "Failed" })], update: false },
    { name: "attempts beyond the budget fail", js: build(), pods: [pod("4"), pod("0")], failed: true, update: true },
    {
      name: "uncounted restarts extend the budget",
      js: build({ restarts: 2, restartsCountTowardsMax: 1, currentInPlaceRestartAttempt: 4 }),
      pods: [pod("4"), pod("4")],
      update: false,
      current: 4,
    },
    {
      name: "P != C is an error",
      js: build({}, [2, 3]),
      pods: [pod("1")],
      error: "w: in-place restart requires jobTemplate.spec.completions == jobTemplate.spec.parallelism != nil",
      update: false,
    },
    { name: "all pods agree: current attempt set", js: build(), pods: [pod("1"), pod("1")], current: 1, update: true },
    {
      name: "all pods agree, already current: no write",
      js: build({ currentInPlaceRestartAttempt: 1 }),
      pods: [pod("1"), pod("1")],
      current: 1,
      update: false,
    },
    { name: "no attempts: nothing", js: build(), pods: [pod(), pod()], update: false },
    { name: "max attempt 0: nothing", js: build(), pods: [pod("0")], update: false },
    { name: "a pod ahead: previous = max - 1", js: build(), pods: [pod("2"), pod("1")], previous: 1, update: true },
    {
      name: "previous is monotonic",
      js: build({ previousInPlaceRestartAttempt: 1 }),
      pods: [pod("2"), pod("1")],
      previous: 1,
      update: false,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const u = newStatusUpdate(c.js.status, new Date(0));
      const r = reconcileInPlaceRestart(c.js, c.pods, u);
      if (c.error) assert.deepEqual(r, { ok: false, error: c.error });
      else assert.deepEqual(r, { ok: true });
      assert.equal(u.shouldUpdate, c.update);
      if (c.failed) {
        const f = u.status.conditions?.find((x) => x.type === "Failed");
        assert.deepEqual(
          [f?.reason, f?.message],
          ["ReachedMaxRestarts", "jobset failed due to reaching max number of restarts"],
        );
        assert.equal(u.status.terminalState, "Failed");
      }
      if (c.current !== undefined) assert.equal(u.status.currentInPlaceRestartAttempt, c.current);
      if (c.previous !== undefined) assert.equal(u.status.previousInPlaceRestartAttempt, c.previous);
    });
  }
});

describe("in-place restart in plan()", () => {
  const js = build();
  const jobs = [childJob(js, "w", 0).parallelism(2).ready(2).obj()];
  const run = (gate: boolean, pods?: Pod[]) =>
    plan(
      { jobSet: js, jobs, serviceExists: true, now: new Date(0), ...(pods ? { pods } : {}) },
      { gates: { ...defaultFeatureGates, InPlaceRestart: gate } },
    );
  test("gate off: log only", () => {
    const p = run(false, [pod("1"), pod("1")]);
    assert.equal(p.status?.currentInPlaceRestartAttempt, undefined);
    assert.ok(p.log.some((l) => l.includes("feature gate InPlaceRestart is disabled")));
  });
  test("gate on: status from pods", () =>
    assert.equal(run(true, [pod("1"), pod("1")]).status?.currentInPlaceRestartAttempt, 1));
  test("gate on, error: reconcile error", () =>
    assert.equal(run(true, [pod("x")]).error, InvalidAttemptAnnotationError));
  test("gate on, pods not observed: log only", () => {
    assert.ok(run(true).log.some((l) => l.includes("not observed")));
  });
});
