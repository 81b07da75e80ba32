import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { DependsOn, JobSet, ReplicatedJobStatus } from "../../src/api/types.ts";
import { dependenciesReached } from "../../src/controller/depends-on.ts";
import { plan } from "../../src/controller/plan.ts";
import { childJob, jobSet, rjob, rjobStatus } from "../builders.ts";

const entry = rjobStatus;

describe("dependenciesReached (§6.6)", () => {
  const dep = (status: DependsOn["status"], name = "a") => rjob("b").dependsOn(name, status).obj();
  const replicas = new Map([
    ["a", 2],
    ["b", 1],
  ]);
  const cases: {
    name: string;
    deps: ReturnType<typeof dep>;
    statuses: ReplicatedJobStatus[];
    want: boolean;
    map?: Map<string, number>;
  }[] = [
    { name: "no dependsOn", deps: rjob("b").obj(), statuses: [], want: true },
    { name: "dependency status entry missing", deps: dep("Ready"), statuses: [], want: false },
    {
      name: "Ready: ready + succeeded + failed == replicas",
      deps: dep("Ready"),
      statuses: [entry("a", { ready: 1, failed: 1 })],
      want: true,
    },
    { name: "Ready counts failed Jobs", deps: dep("Ready"), statuses: [entry("a", { failed: 2 })], want: true },
    { name: "Ready: not yet", deps: dep("Ready"), statuses: [entry("a", { ready: 1 })], want: false },
    {
      name: "Complete: succeeded == replicas",
      deps: dep("Complete"),
      statuses: [entry("a", { succeeded: 2 })],
      want: true,
    },
    {
      name: "Complete: ready does not count",
      deps: dep("Complete"),
      statuses: [entry("a", { succeeded: 1, ready: 1 })],
      want: false,
    },
    {
      name: "dependency with 0 replicas is satisfied immediately",
      deps: dep("Complete"),
      statuses: [entry("a")],
      map: new Map([["a", 0]]),
      want: true,
    },
    {
      name: "all items must hold",
      deps: rjob("c").dependsOn("a", "Ready").dependsOn("b", "Complete").obj(),
      statuses: [entry("a", { ready: 2 }), entry("b")],
      want: false,
    },
    {
      name: "all items hold",
      deps: rjob("c").dependsOn("a", "Ready").dependsOn("b", "Complete").obj(),
      statuses: [entry("a", { ready: 2 }), entry("b", { succeeded: 1 })],
      want: true,
    },
    {
      name: "self-dependency waits forever",
      deps: rjob("b").dependsOn("b", "Ready").obj(),
      statuses: [entry("b")],
      want: false,
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(dependenciesReached(c.deps, c.map ?? replicas, c.statuses), c.want));
  }
});

describe("dependsOn in plan(): creation and resume gating", () => {
  const NOW = new Date("2024-01-01T00:00:00Z");
  const build = (suspend: boolean, status: DependsOn["status"] = "Ready"): JobSet =>
    jobSet("js")
      .uid("u")
      .replicatedJob(rjob("a").replicas(2))
      .replicatedJob(rjob("b").replicas(1).dependsOn("a", status))
      .suspend(suspend)
      .obj();
  const created = (p: ReturnType<typeof plan>) => p.creates.jobs.flatMap((b) => b.jobs.map((j) => j.metadata?.name));
  const run = (js: JobSet, jobs: Job[]) =>
    plan({ jobSet: js, jobs, serviceExists: true, now: NOW }, { gates: defaultFeatureGates });

  test("only the dependency is created first", () => {
    assert.deepEqual(created(run(build(false), [])), ["js-a-0", "js-a-1"]);
  });
  test("even while suspended, dependents are not created", () => {
    assert.deepEqual(created(run(build(true), [])), ["js-a-0", "js-a-1"]);
  });
  test("dependents are created once the dependency is Ready", () => {
    const js = build(false);
    const jobs = [
      childJob(js, "a", 0).parallelism(1).ready(1).obj(),
      childJob(js, "a", 1).parallelism(1).ready(1).obj(),
    ];
    assert.deepEqual(created(run(js, jobs)), ["js-b-0"]);
  });
  test("Complete: dependents wait until every dependency Job succeeded", () => {
    const js = build(false, "Complete");
    const jobs = [childJob(js, "a", 0).completed().obj(), childJob(js, "a", 1).parallelism(1).ready(1).obj()];
    assert.deepEqual(created(run(js, jobs)), [], "Complete needs both succeeded");
    const done = [childJob(js, "a", 0).completed().obj(), childJob(js, "a", 1).completed().obj()];
    assert.deepEqual(created(run(js, done)), ["js-b-0"]);
  });
  test("on resume, dependents stay suspended until the dependency is ready again", () => {
    const js = build(false);
    const jobs = [
      childJob(js, "a", 0).parallelism(1).suspend(true).obj(),
      childJob(js, "a", 1).parallelism(1).suspend(true).obj(),
      childJob(js, "b", 0).parallelism(1).suspend(true).obj(),
    ];
    const p = run(js, jobs);
    assert.deepEqual(
      p.updates.jobs.map((u) => [u.kind, u.job.metadata?.name]),
      [
        ["resume", "js-a-0"],
        ["resume", "js-a-1"],
      ],
    );
  });
});
