import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet, JobSetCondition } from "../../src/api/types.ts";
import { jobCreationFailedMessage, type Plan, plan } from "../../src/controller/plan.ts";
import { childJob, job, jobSet, rjob, T0 } from "../builders.ts";

const NOW = new Date("2024-01-01T00:10:00Z");
const NOW_S = "2024-01-01T00:10:00Z";
const run = (
  js: JobSet | undefined,
  jobs: Job[] = [],
  opts: { gates?: Partial<FeatureGates>; service?: boolean } = {},
) =>
  plan(
    { jobSet: js, jobs, serviceExists: "service" in opts ? opts.service : true, now: NOW },
    { gates: { ...defaultFeatureGates, ...opts.gates } },
  );
const created = (p: Plan) => p.creates.jobs.flatMap((b) => b.jobs.map((j) => j.metadata?.name));
const deleted = (p: Plan) => p.deletes.jobs.map((r) => r.name);
const conds = (p: Plan) => p.status?.conditions?.map((c) => [c.type, c.status, c.reason]);
/** Applies a plan's status to the JobSet as a successful executor would. */
const apply = (js: JobSet, p: Plan): JobSet => (p.status ? { ...js, status: p.status } : js);
const basic = () => jobSet("js", "ns").uid("u").replicatedJob(rjob("w").replicas(2).parallelism(1)).obj();
const empty = { deletes: { jobs: [] }, creates: { pvcs: [], jobs: [] }, updates: { scale: [], jobs: [] }, events: [] };

describe("skips (§5.2 steps 1, 2, 4a)", () => {
  test("NotFound", () => assert.equal(run(undefined).skip, "NotFound"));
  test("deletion timestamp: nothing at all", () => {
    const js = jobSet("js").uid("u").replicatedJob(rjob("w")).deletionTimestamp().obj();
    const p = run(js, [job("x").failed().obj()]);
    assert.equal(p.skip, "Deleting");
    assert.deepEqual(
      { ...p, skip: undefined, log: [], metrics: undefined },
      {
        ...empty,
        skip: undefined,
        log: [],
        metrics: undefined,
      },
    );
  });
  const managed: [string, string | undefined, boolean][] = [
    ["absent", undefined, false],
    ["the built-in controller", "jobset.sigs.k8s.io/jobset-controller", false],
    ["Kueue MultiKueue", "kueue.x-k8s.io/multikueue", true],
  ];
  for (const [name, value, skipped] of managed) {
    test(`managedBy ${name}`, () => {
      const b = jobSet("js").uid("u").replicatedJob(rjob("w"));
      if (value !== undefined) b.managedBy(value);
      const p = run(b.obj());
      assert.equal(p.skip, skipped ? "ManagedByOther" : undefined);
      assert.equal(created(p).length, skipped ? 0 : 1);
      assert.equal(p.status === undefined, skipped);
    });
  }
});

describe("first reconcile", () => {
  test("a batch builds each Job when asked: names first, a new object per call, the same content", () => {
    const js = jobSet("js", "ns").uid("u").replicatedJob(rjob("w").replicas(3)).obj();
    const [batch] = run(js, [childJob(js, "w", 1).obj()]).creates.jobs;
    assert.ok(batch);
    assert.deepEqual(batch.names, ["js-w-0", "js-w-2"]);
    const first = batch.job(1);
    assert.equal(first.metadata?.name, "js-w-2");
    assert.equal(first.metadata?.labels?.["jobset.sigs.k8s.io/job-index"], "2");
    assert.notEqual(batch.job(1), first);
    assert.deepEqual(batch.job(1), first);
    assert.deepEqual(
      batch.jobs.map((j) => j.metadata?.name),
      ["js-w-0", "js-w-2"],
    );
  });

  test("creates every Job, the Service and PVCs; writes zeroed status", () => {
    const js = jobSet("js", "ns")
      .uid("u")
      .enableDNSHostnames(true)
      .replicatedJob(rjob("b").replicas(1))
      .replicatedJob(rjob("a").replicas(2))
      .volumeClaimPolicy([{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }], "Delete")
      .obj();
    const p = run(js, [], { service: false });
    assert.equal(p.error, undefined);
    assert.deepEqual(
      p.creates.jobs.map((b) => [b.replicatedJob, b.jobs.map((j) => j.metadata?.name)]),
      [
        ["b", ["js-b-0"]],
        ["a", ["js-a-0", "js-a-1"]],
      ],
    );
    assert.equal(p.creates.service?.metadata?.name, "js");
    assert.equal(p.creates.service?.spec?.clusterIP, "None");
    assert.deepEqual(
      p.creates.pvcs.map((x) => x.metadata?.name),
      ["data-js"],
    );
    assert.deepEqual(p.status, {
      restarts: 0,
      replicatedJobsStatus: [
        { name: "b", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
        { name: "a", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
      ],
    });
    assert.deepEqual(p.events, []);
    assert.deepEqual(p.metrics, { completed: false, failed: false });
  });
  const services: [string, boolean | undefined, boolean, boolean][] = [
    ["Service absent", false, true, true],
    ["Service exists (any owner)", true, true, false],
    ["Service existence unknown: create-if-absent", undefined, true, true],
    ["DNS hostnames disabled", false, false, false],
  ];
  for (const [name, exists, dns, want] of services) {
    test(name, () => {
      const js = jobSet("js").uid("u").enableDNSHostnames(dns, "sub").replicatedJob(rjob("w")).obj();
      const p = run(js, [], { service: exists });
      assert.equal(p.creates.service?.metadata?.name, want ? "sub" : undefined);
    });
  }
  test("nil network: no Service", () => {
    assert.equal(run(basic(), [], { service: false }).creates.service, undefined);
  });
});

describe("steady state", () => {
  test("running JobSet with fresh status: zero writes", () => {
    const js = basic();
    const jobs = [childJob(js, "w", 0).ready(1).active(1).obj(), childJob(js, "w", 1).ready(1).active(1).obj()];
    js.status = {
      restarts: 0,
      replicatedJobsStatus: [{ name: "w", ready: 2, succeeded: 0, failed: 0, active: 2, suspended: 0 }],
    };
    const p = run(js, jobs);
    assert.deepEqual({ ...p, log: [] }, { ...empty, metrics: { completed: false, failed: false }, log: [] });
  });
  test("stored list in another order is still equal (no write)", () => {
    const js = jobSet("js").uid("u").replicatedJob(rjob("a").replicas(0)).replicatedJob(rjob("b").replicas(0)).obj();
    js.status = {
      restarts: 0,
      replicatedJobsStatus: [
        { name: "a", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
        { name: "b", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
      ],
    };
    assert.equal(run(js).status, undefined);
  });
  test("a write carries the list in descending name order, restarts always present", () => {
    const js = jobSet("js").uid("u").replicatedJob(rjob("a").replicas(0)).replicatedJob(rjob("b").replicas(0)).obj();
    js.status = {
      replicatedJobsStatus: [
        { name: "a", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
        { name: "b", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
      ],
    };
    js.spec = { ...js.spec, suspend: true };
    const p = run(js);
    assert.deepEqual(
      p.status?.replicatedJobsStatus?.map((s) => s.name),
      ["b", "a"],
    );
    assert.equal(p.status?.restarts, 0);
  });
  test("the observed JobSet is never mutated", () => {
    const js = basic();
    const before = structuredClone(js);
    run(js, [childJob(js, "w", 0).failed().obj()]);
    assert.deepEqual(js, before);
  });
});

describe("errors (§5.2 step 5)", () => {
  test("classification error: nothing planned", () => {
    const js = basic();
    const p = run(js, [childJob(js, "w", 0).obj(), job("bad").obj()]);
    assert.equal(p.error, 'strconv.Atoi: parsing "": invalid syntax');
    assert.deepEqual(
      { ...p, error: undefined, log: [], metrics: undefined },
      {
        ...empty,
        error: undefined,
        log: [],
        metrics: undefined,
      },
    );
  });
  test("failure policy error: previous Jobs still deleted, no status, no events", () => {
    const js = jobSet("js", "ns")
      .uid("u")
      .replicatedJob(rjob("w").replicas(1))
      .failurePolicy({ maxRestarts: 3, rules: [{ name: "r", action: "RestartJob" }] })
      .restarts(1)
      .obj();
    const p = run(js, [childJob(js, "w", 0).failed().obj(), job("js-w-0-old").restartAttempt(0).obj()]);
    assert.equal(
      p.error,
      "RestartJob failure policy action cannot be used when the feature gate RestartJob is disabled",
    );
    assert.deepEqual(deleted(p), ["js-w-0-old"]);
    assert.equal(p.status, undefined);
    assert.deepEqual(p.events, []);
  });
  test("jobCreationFailedMessage", () => {
    assert.equal(
      jobCreationFailedMessage([
        { name: "js-w-0", error: "boom" },
        { name: "js-w-1", error: "bang" },
      ]),
      'job "js-w-0" creation failed with error: boom\njob "js-w-1" creation failed with error: bang',
    );
  });
});

describe("global restart lifecycle (§6.2, §6.3, §5.11)", () => {
  const restartingJs = (strategy: "Recreate" | "BlockingRecreate") =>
    jobSet("js", "ns")
      .uid("u")
      .replicatedJob(rjob("w").replicas(2).parallelism(1))
      .failurePolicy({ maxRestarts: 3, restartStrategy: strategy })
      .obj();

  test("failure → restart → previous deleted → recreated → JobsReady", () => {
    let js = restartingJs("Recreate");
    const attempt0 = [childJob(js, "w", 0).failed().obj(), childJob(js, "w", 1).ready(1).active(1).obj()];

    // 1. Failure: restarts++, RestartingJobSet=True; nothing created or deleted in this pass.
    const p1 = run(js, attempt0);
    assert.equal(p1.status?.restarts, 1);
    assert.equal(p1.status?.restartsCountTowardsMax, 1);
    assert.deepEqual(conds(p1), [["RestartingJobSet", "True", "DefaultFailurePolicy"]]);
    assert.deepEqual(created(p1), []);
    assert.deepEqual(deleted(p1), []);
    assert.deepEqual(
      p1.events.map((e) => [e.type, e.reason]),
      [
        ["Warning", "DefaultFailurePolicy"],
        ["Warning", "RestartJobSetFailurePolicyAction"],
      ],
    );
    js = apply(js, p1);

    // 2. Old attempt is previous: deleted (foreground), names still taken → nothing created.
    const p2 = run(js, attempt0);
    assert.deepEqual(deleted(p2), ["js-w-0", "js-w-1"]);
    assert.deepEqual(p2.deletes.jobs[0], { name: "js-w-0", namespace: "ns" });
    assert.deepEqual(created(p2), []);
    assert.deepEqual(p2.status?.replicatedJobsStatus, [
      { name: "w", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 },
    ]);
    js = apply(js, p2);

    // 3. One old Job gone (Recreate): its replacement is created with restart-attempt 1.
    const terminating = attempt0[1] as Job;
    const p3 = run(js, [{ ...terminating, metadata: { ...terminating.metadata, deletionTimestamp: T0 } }]);
    assert.deepEqual(deleted(p3), [], "already being deleted");
    assert.deepEqual(created(p3), ["js-w-0"]);
    assert.equal(p3.creates.jobs[0]?.jobs[0]?.metadata?.labels?.["jobset.sigs.k8s.io/restart-attempt"], "1");

    // 4. New attempt ready: RestartingJobSet=False/JobsReady.
    const attempt1 = [childJob(js, "w", 0).ready(1).obj(), childJob(js, "w", 1).ready(1).obj()];
    const p4 = run(js, attempt1);
    assert.deepEqual(conds(p4), [["RestartingJobSet", "False", "JobsReady"]]);
    assert.deepEqual(p4.events, [{ type: "Normal", reason: "JobsReady", message: "all jobs are ready" }]);
    const c = p4.status?.conditions?.[0];
    assert.equal(c?.lastTransitionTime, NOW_S);
  });

  test("BlockingRecreate: nothing created while any previous Job exists", () => {
    let js = restartingJs("BlockingRecreate");
    js = { ...js, status: { restarts: 1 } };
    const old = job("js-w-1").restartAttempt(0).replicatedJobName("w").deletionTimestamp().obj();
    assert.deepEqual(created(run(js, [old])), []);
    assert.deepEqual(created(run(js, [])), ["js-w-0", "js-w-1"]);
  });

  test("Recreate: only the names still taken wait", () => {
    const js = { ...restartingJs("Recreate"), status: { restarts: 1 } };
    const old = job("js-w-1").restartAttempt(0).replicatedJobName("w").deletionTimestamp().obj();
    assert.deepEqual(created(run(js, [old])), ["js-w-0"]);
  });

  test("JobsReady is not set while suspended, nor added when absent", () => {
    const js = restartingJs("Recreate");
    const ready = [childJob(js, "w", 0).ready(1).obj(), childJob(js, "w", 1).ready(1).obj()];
    assert.equal(conds(run(js, ready)), undefined);
    const restarting: JobSetCondition = {
      type: "RestartingJobSet",
      status: "True",
      reason: "DefaultFailurePolicy",
      message: "m",
      lastTransitionTime: T0,
    };
    const suspended = { ...js, spec: { ...js.spec, suspend: true }, status: { restarts: 0, conditions: [restarting] } };
    assert.deepEqual(conds(run(suspended, ready)), [
      ["RestartingJobSet", "False", "JobSetSuspended"],
      ["Suspended", "True", "SuspendedJobs"],
    ]);
  });

  test("one action per reconcile: several failed Jobs → one restart", () => {
    const js = restartingJs("Recreate");
    const p = run(js, [childJob(js, "w", 0).failed().obj(), childJob(js, "w", 1).failed().obj()]);
    assert.equal(p.status?.restarts, 1);
  });

  test("terminalState Failed when the budget is used up", () => {
    const js = { ...restartingJs("Recreate"), status: { restarts: 3, restartsCountTowardsMax: 3 } };
    const p = run(js, [job("js-w-0").restartAttempt(3).replicatedJobName("w").failed().obj()]);
    assert.equal(p.status?.terminalState, "Failed");
    assert.deepEqual(p.metrics, { completed: false, failed: true });
    assert.deepEqual(conds(p), [["Failed", "True", "ReachedMaxRestarts"]]);
  });
});

describe("per-Job restart end-to-end (§6.4, gate RestartJob)", () => {
  test("only the failed Job is replaced, labelled with the new per-Job attempt", () => {
    const gates = { RestartJob: true };
    let js = jobSet("js", "ns")
      .uid("u")
      .replicatedJob(rjob("w").replicas(4).parallelism(1))
      .failurePolicy({ maxRestarts: 5, rules: [{ name: "one", action: "RestartJob" }] })
      .obj();
    const opts = { restartJobGate: true };
    const jobs = [0, 1, 2, 3].map((i) =>
      i === 3 ? childJob(js, "w", i, opts).failed().obj() : childJob(js, "w", i, opts).ready(1).obj(),
    );
    const p1 = run(js, jobs, { gates });
    assert.deepEqual(p1.status?.replicatedJobsStatus?.[0]?.jobRestarts, [0, 0, 0, 1]);
    assert.deepEqual(p1.status?.replicatedJobsStatus?.[0]?.jobRestartsCountTowardsMax, [0, 0, 0, 1]);
    assert.equal(p1.status?.restarts, 0);
    assert.equal(
      p1.status?.conditions?.find((c) => c.type === "RestartingJobSet"),
      undefined,
    );
    js = apply(js, p1);

    const p2 = run(js, jobs, { gates });
    assert.deepEqual(deleted(p2), ["js-w-3"]);
    assert.deepEqual(created(p2), []);

    const p3 = run(js, jobs.slice(0, 3), { gates });
    assert.deepEqual(created(p3), ["js-w-3"]);
    const labels = p3.creates.jobs[0]?.jobs[0]?.metadata?.labels ?? {};
    assert.equal(labels["jobset.sigs.k8s.io/job-restart-attempt"], "1");
    assert.equal(labels["jobset.sigs.k8s.io/restart-attempt"], "0");
  });
});

describe("success (§6.1) and finished JobSets (§5.2 step d)", () => {
  test("completion stops the pass; active Jobs deleted on the next one", () => {
    const js = jobSet("js", "ns")
      .uid("u")
      .replicatedJob(rjob("w").replicas(2))
      .successPolicy({ operator: "Any" })
      .obj();
    const jobs = [childJob(js, "w", 0).completed().obj(), childJob(js, "w", 1).active(1).obj()];
    const p1 = run(js, jobs, { service: false });
    assert.deepEqual(conds(p1), [["Completed", "True", "AllJobsCompleted"]]);
    assert.equal(p1.status?.terminalState, "Completed");
    assert.deepEqual(p1.metrics, { completed: true, failed: false });
    assert.deepEqual(created(p1), []);
    assert.deepEqual(deleted(p1), []);
    const p2 = run(apply(js, p1), jobs);
    assert.deepEqual(deleted(p2), ["js-w-1"]);
    assert.deepEqual(p2.metrics, { completed: false, failed: false });
    assert.equal(p2.status, undefined);
  });
  test("deleted current-attempt Jobs are re-created while running", () => {
    const js = basic();
    assert.deepEqual(created(run(js, [childJob(js, "w", 0).obj()])), ["js-w-1"]);
  });
  test("failure policy runs before the success policy", () => {
    const js = jobSet("js").uid("u").replicatedJob(rjob("w").replicas(2)).successPolicy({ operator: "Any" }).obj();
    const p = run(js, [childJob(js, "w", 0).completed().obj(), childJob(js, "w", 1).failed().obj()]);
    assert.deepEqual(conds(p), [["Failed", "True", "FailedJobs"]]);
  });
});

describe("in-place restart strategy (§5.2 step n)", () => {
  test("logged only", () => {
    const js = jobSet("js")
      .uid("u")
      .replicatedJob(rjob("w"))
      .failurePolicy({ restartStrategy: "InPlaceRestart" })
      .obj();
    assert.ok(run(js).log.some((l) => l.includes("InPlaceRestart")));
  });
});
