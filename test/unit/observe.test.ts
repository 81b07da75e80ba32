import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Labels } from "../../src/api/constants.ts";
import type { Job } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { classifyJobs, goAtoi, jobFinishedType, jobRestartTargets } from "../../src/controller/observe.ts";
import { childJob, job, jobSet, rjob } from "../builders.ts";

const js = (restarts = 0): JobSet =>
  jobSet("js").uid("u").replicatedJob(rjob("w").replicas(3)).restarts(restarts).obj();
const names = (jobs: Job[]) => jobs.map((j) => j.metadata?.name);

describe("goAtoi", () => {
  const cases: [string, number | string][] = [
    ["0", 0],
    ["42", 42],
    ["+7", 7],
    ["-3", -3],
    ["007", 7],
    ["", 'strconv.Atoi: parsing "": invalid syntax'],
    [" 1", 'strconv.Atoi: parsing " 1": invalid syntax'],
    ["1.5", 'strconv.Atoi: parsing "1.5": invalid syntax'],
    ["abc", 'strconv.Atoi: parsing "abc": invalid syntax'],
    ["99999999999999999999", 'strconv.Atoi: parsing "99999999999999999999": value out of range'],
    ["-0", 0],
    ["+", 'strconv.Atoi: parsing "+": invalid syntax'],
    ["-", 'strconv.Atoi: parsing "-": invalid syntax'],
    ["1-", 'strconv.Atoi: parsing "1-": invalid syntax'],
    ["123456789012345", 123456789012345],
    ["-123456789012345", -123456789012345],
    ["1234567890123456", 1234567890123456],
    ["9223372036854775807", Number(2n ** 63n - 1n)],
    ["-9223372036854775808", Number(-(2n ** 63n))],
    ["9223372036854775808", 'strconv.Atoi: parsing "9223372036854775808": value out of range'],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => {
      const got = goAtoi(input);
      if (typeof want === "number") assert.deepEqual(got, { ok: true, value: want });
      else assert.deepEqual(got, { ok: false, error: want });
    });
  }
});

describe("jobFinishedType", () => {
  const cases: [string, Job, string | undefined][] = [
    ["no conditions", job("a").obj(), undefined],
    ["Complete=True", job("a").completed().obj(), "Complete"],
    ["Failed=True", job("a").failed().obj(), "Failed"],
    ["FailureTarget only stays active", job("a").failureTarget().obj(), undefined],
    ["SuccessCriteriaMet only stays active", job("a").condition("SuccessCriteriaMet").obj(), undefined],
    ["Complete=False", job("a").condition("Complete", { status: "False" }).obj(), undefined],
    ["Failed=False", job("a").condition("Failed", { status: "False" }).obj(), undefined],
  ];
  for (const [name, j, want] of cases) test(name, () => assert.equal(jobFinishedType(j), want));
});

describe("classifyJobs (gate off)", () => {
  test("buckets by restart attempt and conditions", () => {
    const s = js(1);
    const jobs = [
      childJob(s, "w", 0).obj(), // restart-attempt 1 (current), active
      childJob(s, "w", 1).completed().obj(),
      childJob(s, "w", 2).failed().obj(),
      job("old").restartAttempt(0).obj(),
      job("future").restartAttempt(5).obj(),
      job("marked").restartAttempt(1).deletionTimestamp().obj(),
      job("ft").restartAttempt(1).failureTarget().obj(),
    ];
    const r = classifyJobs(s, jobs, { restartJobGate: false });
    assert.ok(r.ok);
    assert.deepEqual(names(r.jobs.active), ["js-w-0", "future", "marked", "ft"]);
    assert.deepEqual(names(r.jobs.succeeded), ["js-w-1"]);
    assert.deepEqual(names(r.jobs.failed), ["js-w-2"]);
    assert.deepEqual(names(r.jobs.previous), ["old"]);
  });

  const errors: [string, Job, string][] = [
    ["missing restart-attempt", job("x").obj(), 'strconv.Atoi: parsing "": invalid syntax'],
    [
      "invalid restart-attempt",
      job("x")
        .labels({ [Labels.RestartAttempt]: "one" })
        .obj(),
      'strconv.Atoi: parsing "one": invalid syntax',
    ],
  ];
  for (const [name, j, error] of errors) {
    test(`${name} fails the whole classification`, () => {
      const r = classifyJobs(js(), [childJob(js(), "w", 0).obj(), j], { restartJobGate: false });
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.error, error);
    });
  }

  test("per-Job labels are ignored without the gate", () => {
    const s = jobSet("js")
      .replicatedJob(rjob("w"))
      .replicatedJobStatus({ name: "w", jobRestarts: [3] })
      .obj();
    const r = classifyJobs(s, [job("a").restartAttempt(0).jobRestartAttempt(0).obj()], { restartJobGate: false });
    assert.ok(r.ok);
    assert.equal(r.jobs.active.length, 1);
  });
});

describe("classifyJobs (gate RestartJob)", () => {
  const gated = (restarts: number[] | undefined) => {
    const b = jobSet("js").uid("u").replicatedJob(rjob("w").replicas(2));
    if (restarts) b.replicatedJobStatus({ name: "w", jobRestarts: restarts });
    return b.obj();
  };
  const base = () => job("js-w-0").restartAttempt(0).replicatedJobName("w").jobIndex(0);

  const cases: { name: string; status?: number[]; job: Job; want: "active" | "previous" | string }[] = [
    {
      name: "per-Job attempt equal to target is current",
      status: [1, 0],
      job: base().jobRestartAttempt(1).obj(),
      want: "active",
    },
    {
      name: "per-Job attempt below target is previous",
      status: [1, 0],
      job: base().jobRestartAttempt(0).obj(),
      want: "previous",
    },
    {
      name: "per-Job attempt above target is current",
      status: [1, 0],
      job: base().jobRestartAttempt(4).obj(),
      want: "active",
    },
    { name: "absent jobRestarts means zeros", job: base().jobRestartAttempt(0).obj(), want: "active" },
    {
      name: "missing job-restart-attempt reads as 0: previous once target > 0",
      status: [1, 0],
      job: base().obj(),
      want: "previous",
    },
    { name: "missing job-restart-attempt with target 0 is current", status: [0, 0], job: base().obj(), want: "active" },
    {
      name: "missing replicatedjob-name",
      job: job("x").restartAttempt(0).jobIndex(0).obj(),
      want: "missing label jobset.sigs.k8s.io/replicatedjob-name",
    },
    {
      name: "missing job-index",
      job: job("x").restartAttempt(0).replicatedJobName("w").obj(),
      want: "missing label jobset.sigs.k8s.io/job-index",
    },
    {
      name: "non-integer job-index",
      job: job("x")
        .restartAttempt(0)
        .replicatedJobName("w")
        .labels({ [Labels.JobIndex]: "a" })
        .obj(),
      want: 'strconv.Atoi: parsing "a": invalid syntax',
    },
    {
      name: "non-integer job-restart-attempt",
      job: base()
        .labels({ [Labels.JobRestartAttempt]: "x" })
        .obj(),
      want: 'strconv.Atoi: parsing "x": invalid syntax',
    },
    {
      name: "index out of bounds",
      job: job("x").restartAttempt(0).replicatedJobName("w").jobIndex(2).obj(),
      want: "job index 2 is out of bounds for replicated job w",
    },
    {
      name: "unknown rjob has no targets",
      job: job("x").restartAttempt(0).replicatedJobName("nope").jobIndex(0).obj(),
      want: "job index 0 is out of bounds for replicated job nope",
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = classifyJobs(gated(c.status), [c.job], { restartJobGate: true });
      if (c.want === "active" || c.want === "previous") {
        assert.ok(r.ok, !r.ok ? r.error : "");
        assert.equal(r.jobs[c.want].length, 1);
      } else {
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.error, c.want);
      }
    });
  }

  test("global previous wins before per-Job labels are read", () => {
    const r = classifyJobs(
      jobSet("js").replicatedJob(rjob("w")).restarts(2).obj(),
      [job("x").restartAttempt(1).obj()],
      { restartJobGate: true },
    );
    assert.ok(r.ok);
    assert.equal(r.jobs.previous.length, 1);
  });

  test("jobRestartTargets", () => {
    assert.deepEqual(jobRestartTargets(gated(undefined), "w"), [0, 0]);
    assert.deepEqual(jobRestartTargets(gated([]), "w"), [0, 0]);
    assert.deepEqual(jobRestartTargets(gated([2, 1]), "w"), [2, 1]);
    assert.deepEqual(jobRestartTargets(gated(undefined), "x"), []);
  });
});
