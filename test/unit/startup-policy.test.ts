import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { plan } from "../../src/controller/plan.ts";
import { inOrderStartup, replicatedJobStarted } from "../../src/controller/startup-policy.ts";
import { childJob, jobSet, rjob } from "../builders.ts";

const NOW = new Date("2024-01-01T00:00:10Z");
const build = (suspend = false): JobSet =>
  jobSet("js")
    .uid("u")
    .startupPolicy("InOrder")
    .replicatedJob(rjob("a").replicas(1))
    .replicatedJob(rjob("b").replicas(2))
    .replicatedJob(rjob("c").replicas(1))
    .suspend(suspend)
    .obj();
const run = (js: JobSet, jobs: Job[]) =>
  plan({ jobSet: js, jobs, serviceExists: true, now: NOW }, { gates: defaultFeatureGates });
const created = (p: ReturnType<typeof plan>) => p.creates.jobs.flatMap((b) => b.jobs.map((j) => j.metadata?.name));
const conds = (p: ReturnType<typeof plan>) => p.status?.conditions?.map((c) => [c.type, c.status, c.reason]);
const ready = (js: JobSet, rj: string, i: number) => childJob(js, rj, i).parallelism(1).ready(1).obj();
const pending = (js: JobSet, rj: string, i: number) => childJob(js, rj, i).parallelism(1).obj();

describe("startup policy helpers", () => {
  test("inOrderStartup", () => {
    assert.equal(inOrderStartup(build()), true);
    assert.equal(inOrderStartup(jobSet("x").startupPolicy("AnyOrder").obj()), false);
    assert.equal(inOrderStartup(jobSet("x").obj()), false);
  });
  const cases: [string, number, { ready: number; succeeded: number; failed: number } | undefined, boolean][] = [
    ["all ready", 2, { ready: 2, succeeded: 0, failed: 0 }, true],
    ["ready + succeeded + failed", 3, { ready: 1, succeeded: 1, failed: 1 }, true],
    ["not yet", 2, { ready: 1, succeeded: 0, failed: 0 }, false],
    ["no status entry", 1, undefined, false],
    ["zero replicas", 0, undefined, true],
  ];
  for (const [name, replicas, s, want] of cases) {
    test(`replicatedJobStarted: ${name}`, () => {
      const statuses = s ? [{ name: "a", active: 0, suspended: 0, ...s }] : [];
      assert.equal(replicatedJobStarted(rjob("a").replicas(replicas).obj(), statuses), want);
    });
  }
});

describe("InOrder progression (§6.5)", () => {
  test("step 1: only the first rjob is created, InProgress set", () => {
    const p = run(build(), []);
    assert.deepEqual(created(p), ["js-a-0"]);
    assert.deepEqual(conds(p), [["StartupPolicyInProgress", "True", "InOrderStartupPolicyInProgress"]]);
    assert.deepEqual(p.events, [
      { type: "Normal", reason: "InOrderStartupPolicyInProgress", message: "in order startup policy is in progress" },
    ]);
  });
  test("step 2: first rjob not ready yet: nothing created", () => {
    const js = build();
    assert.deepEqual(created(run(js, [pending(js, "a", 0)])), []);
  });
  test("step 3: first rjob ready → second created", () => {
    const js = build();
    assert.deepEqual(created(run(js, [ready(js, "a", 0)])), ["js-b-0", "js-b-1"]);
  });
  test("step 4: all rjobs started → Completed flips InProgress to False", () => {
    const js = build();
    js.status = {
      restarts: 0,
      conditions: [
        {
          type: "StartupPolicyInProgress",
          status: "True",
          reason: "InOrderStartupPolicyInProgress",
          message: "in order startup policy is in progress",
          lastTransitionTime: "2024-01-01T00:00:00Z",
        },
      ],
    };
    const p = run(js, [ready(js, "a", 0), ready(js, "b", 0), ready(js, "b", 1), ready(js, "c", 0)]);
    assert.deepEqual(created(p), []);
    assert.deepEqual(conds(p), [
      ["StartupPolicyInProgress", "False", "InOrderStartupPolicyInProgress"],
      ["StartupPolicyCompleted", "True", "InOrderStartupPolicyCompleted"],
    ]);
  });
  test("a succeeded Job counts as started", () => {
    const js = jobSet("js")
      .uid("u")
      .startupPolicy("InOrder")
      .replicatedJob(rjob("a").replicas(1))
      .replicatedJob(rjob("b").replicas(1))
      .obj();
    assert.deepEqual(created(run(js, [childJob(js, "a", 0).completed().obj()])), ["js-b-0"]);
  });
  test("suspended: every Job created at once, no startup conditions", () => {
    const p = run(build(true), []);
    assert.deepEqual(created(p), ["js-a-0", "js-b-0", "js-b-1", "js-c-0"]);
    assert.ok(p.creates.jobs.every((b) => b.jobs.every((j) => j.spec?.suspend === true)));
    assert.deepEqual(conds(p), [["Suspended", "True", "SuspendedJobs"]]);
  });
  test("resume: one rjob at a time; Suspended flips only at the end", () => {
    const js = build(false);
    js.status = {
      restarts: 0,
      conditions: [
        {
          type: "Suspended",
          status: "True",
          reason: "SuspendedJobs",
          message: "jobset is suspended",
          lastTransitionTime: "2024-01-01T00:00:00Z",
        },
      ],
    };
    const all = (aReady: boolean, bReady: boolean) => [
      aReady ? ready(js, "a", 0) : childJob(js, "a", 0).parallelism(1).suspend(true).obj(),
      bReady ? ready(js, "b", 0) : childJob(js, "b", 0).parallelism(1).suspend(true).obj(),
      bReady ? ready(js, "b", 1) : childJob(js, "b", 1).parallelism(1).suspend(true).obj(),
      childJob(js, "c", 0).parallelism(1).suspend(true).obj(),
    ];
    const p1 = run(js, all(false, false));
    assert.deepEqual(
      p1.updates.jobs.map((u) => u.job.metadata?.name),
      ["js-a-0"],
    );
    assert.equal(p1.status?.conditions?.find((c) => c.type === "Suspended")?.status, "True");
    const p2 = run(js, all(true, false));
    assert.deepEqual(
      p2.updates.jobs.map((u) => u.job.metadata?.name),
      ["js-b-0", "js-b-1"],
    );
    const p3 = run(js, all(true, true));
    assert.deepEqual(
      p3.updates.jobs.map((u) => u.job.metadata?.name),
      ["js-c-0"],
    );
    assert.equal(p3.status?.conditions?.find((c) => c.type === "Suspended")?.status, "True");
    const p4 = run(js, [ready(js, "a", 0), ready(js, "b", 0), ready(js, "b", 1), ready(js, "c", 0)]);
    assert.deepEqual(p4.updates.jobs, []);
    const suspendedCond = p4.status?.conditions?.find((c) => c.type === "Suspended");
    assert.deepEqual([suspendedCond?.status, suspendedCond?.reason], ["False", "ResumeJobs"]);
  });
  test("AnyOrder: everything created, no startup conditions", () => {
    const js = jobSet("js").uid("u").replicatedJob(rjob("a")).replicatedJob(rjob("b")).obj();
    const p = run(js, []);
    assert.deepEqual(created(p), ["js-a-0", "js-b-0"]);
    assert.equal(p.status?.conditions, undefined);
  });
});
