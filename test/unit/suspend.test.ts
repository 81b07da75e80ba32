import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { Job, PodTemplateSpec } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { plan } from "../../src/controller/plan.ts";
import {
  clearStartTimePatch,
  jobUpdatePatch,
  mergePodTemplate,
  resumeJob,
  suspendJob,
  unionItems,
} from "../../src/controller/suspend.ts";
import { jobCacheTransform } from "../../src/controllers/jobset/job-cache.ts";
import { childJob, job, jobSet, rjob } from "../builders.ts";

const NOW = new Date("2024-01-01T00:00:10Z");
const suspendedCondition = {
  type: "Suspended",
  status: "True" as const,
  reason: "SuspendedJobs",
  message: "jobset is suspended",
  lastTransitionTime: "2024-01-01T00:00:00Z",
};

describe("suspendJob", () => {
  test("sets spec.suspend true on a copy", () => {
    const j = job("a").suspend(false).resourceVersion("7").obj();
    const u = suspendJob(j);
    assert.equal(u?.kind, "suspend");
    assert.equal(u?.job.spec?.suspend, true);
    assert.equal(u?.job.metadata?.resourceVersion, "7");
    assert.equal(u?.clearStartTime, false);
    assert.equal(j.spec?.suspend, false);
  });
  test("absent suspend counts as not suspended", () => {
    assert.equal(suspendJob(job("a").obj())?.job.spec?.suspend, true);
  });
  test("already suspended: nothing", () => assert.equal(suspendJob(job("a").suspend(true).obj()), undefined));
});

describe("resume merges (§6.7)", () => {
  const jobTemplate = (): PodTemplateSpec => ({
    metadata: { labels: { keep: "job", both: "job" }, annotations: { a: "job" } },
    spec: {
      containers: [{ name: "main", image: "old" }],
      nodeSelector: { zone: "a", old: "x" },
      tolerations: [{ key: "t1", operator: "Exists" }],
      schedulingGates: [{ name: "g1" }],
    },
  });
  const rjobTemplate = (): PodTemplateSpec => ({
    metadata: { labels: { both: "tmpl", added: "tmpl" }, annotations: { b: "tmpl" } },
    spec: {
      containers: [{ name: "main", image: "new" }],
      nodeSelector: { zone: "b" },
      tolerations: [
        { operator: "Exists", key: "t1" },
        { key: "t2", operator: "Equal", value: "v", effect: "NoSchedule", tolerationSeconds: 5 },
      ],
      schedulingGates: [{ name: "g2" }, { name: "g1" }],
    },
  });

  test("maps: union, template wins; lists: set union, existing first; nothing removed; containers untouched", () => {
    const t = jobTemplate();
    mergePodTemplate(t, rjobTemplate());
    assert.deepEqual(t.metadata?.labels, { keep: "job", both: "tmpl", added: "tmpl" });
    assert.deepEqual(t.metadata?.annotations, { a: "job", b: "tmpl" });
    assert.deepEqual(t.spec?.nodeSelector, { zone: "b", old: "x" });
    assert.deepEqual(t.spec?.tolerations, [
      { key: "t1", operator: "Exists" },
      { key: "t2", operator: "Equal", value: "v", effect: "NoSchedule", tolerationSeconds: 5 },
    ]);
    assert.deepEqual(t.spec?.schedulingGates, [{ name: "g1" }, { name: "g2" }]);
    assert.deepEqual(t.spec?.containers, [{ name: "main", image: "old" }]);
  });
  test("empty on both sides stays absent", () => {
    const t: PodTemplateSpec = { spec: { containers: [] } };
    mergePodTemplate(t, { spec: { containers: [] } });
    assert.deepEqual(t, { metadata: {}, spec: { containers: [] } });
  });
  test("unionItems compares by value", () => {
    assert.deepEqual(unionItems([{ a: 1, b: 2 }], [{ b: 2, a: 1 }, { a: 3 }]), [{ a: 1, b: 2 }, { a: 3 }]);
    assert.equal(unionItems(undefined, undefined), undefined);
  });
  test("resumeJob clears startTime when set and unsuspends", () => {
    const j = job("a").suspend(true).startTime().obj();
    const u = resumeJob(j, rjobTemplate());
    assert.equal(u.kind, "resume");
    assert.equal(u.clearStartTime, true);
    assert.equal(u.job.status?.startTime, undefined);
    assert.equal(u.job.spec?.suspend, false);
    assert.equal(u.job.spec?.template.metadata?.labels?.added, "tmpl");
    assert.equal(j.status?.startTime, "2024-01-01T00:00:00Z", "input not mutated");
  });
  test("resumeJob without startTime: no status write", () => {
    assert.equal(resumeJob(job("a").suspend(true).obj(), undefined).clearStartTime, false);
  });

  // The controller caches Jobs trimmed (job-cache.ts) and writes them as merge patches: resuming the
  // trimmed Job must send exactly what an Update of the whole Job would have changed.
  const fullJob = (): Job => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "a", namespace: "ns", resourceVersion: "9", labels: { l: "1" } },
    spec: {
      suspend: true,
      parallelism: 2,
      completions: 2,
      backoffLimit: 6,
      completionMode: "Indexed",
      template: jobTemplate(),
    },
    status: { startTime: "2024-01-01T00:00:00Z", active: 0 },
  });

  test("the Job cache keeps metadata, status, suspend/parallelism/completions and the merged template fields", () => {
    const cached = jobCacheTransform(fullJob()) as Job;
    assert.deepEqual(cached.metadata, fullJob().metadata);
    assert.deepEqual(cached.status, fullJob().status);
    assert.deepEqual(cached.spec, {
      suspend: true,
      parallelism: 2,
      completions: 2,
      template: {
        metadata: { labels: { keep: "job", both: "job" }, annotations: { a: "job" } },
        spec: {
          containers: [],
          nodeSelector: { zone: "a", old: "x" },
          tolerations: [{ key: "t1", operator: "Exists" }],
          schedulingGates: [{ name: "g1" }],
        },
      },
    });
  });

  test("resume of a cached (trimmed) Job: the patch carries what an Update of the whole Job changes", () => {
    const whole = resumeJob(fullJob(), rjobTemplate());
    const trimmed = resumeJob(jobCacheTransform(fullJob()) as Job, rjobTemplate());
    const t = whole.job.spec?.template;
    assert.deepEqual(jobUpdatePatch(trimmed, "9"), {
      metadata: { resourceVersion: "9" },
      spec: {
        suspend: false,
        template: {
          metadata: { labels: t?.metadata?.labels, annotations: t?.metadata?.annotations },
          spec: {
            nodeSelector: t?.spec?.nodeSelector,
            tolerations: t?.spec?.tolerations,
            schedulingGates: t?.spec?.schedulingGates,
          },
        },
      },
    });
    assert.deepEqual(jobUpdatePatch(trimmed, "9"), jobUpdatePatch(whole, "9"), "the same patch from the whole Job");
    assert.equal(trimmed.clearStartTime, true);
    assert.deepEqual(clearStartTimePatch("9"), { metadata: { resourceVersion: "9" }, status: { startTime: null } });
  });

  test("suspend patch: spec.suspend only, guarded by the resourceVersion; without one, unguarded", () => {
    const u = suspendJob(
      jobCacheTransform({ ...fullJob(), spec: { ...fullJob().spec, suspend: false } } as Job) as Job,
    );
    assert.ok(u);
    assert.deepEqual(jobUpdatePatch(u, u.job.metadata?.resourceVersion), {
      metadata: { resourceVersion: "9" },
      spec: { suspend: true },
    });
    assert.deepEqual(jobUpdatePatch(u, undefined), { spec: { suspend: true } });
  });
});

describe("suspend / resume in plan()", () => {
  const build = (suspend: boolean): JobSet =>
    jobSet("js")
      .uid("u")
      .replicatedJob(rjob("w").replicas(2).podLabels({ kueue: "q" }).nodeSelector({ pool: "p1" }))
      .suspend(suspend)
      .obj();
  const run = (js: JobSet, jobs: Job[]) =>
    plan({ jobSet: js, jobs, serviceExists: true, now: NOW }, { gates: defaultFeatureGates });

  test("suspended: new Jobs suspended, active Jobs updated, Suspended=True and RestartingJobSet=False", () => {
    const js = build(true);
    js.status = {
      restarts: 1,
      conditions: [
        {
          type: "RestartingJobSet",
          status: "True",
          reason: "DefaultFailurePolicy",
          message: "m",
          lastTransitionTime: "2024-01-01T00:00:00Z",
        },
      ],
    };
    const running = childJob(js, "w", 0).suspend(false).obj();
    const p = run(js, [running]);
    assert.deepEqual(
      p.creates.jobs.flatMap((b) => b.jobs.map((j) => [j.metadata?.name, j.spec?.suspend])),
      [["js-w-1", true]],
    );
    assert.deepEqual(
      p.updates.jobs.map((u) => [u.kind, u.job.metadata?.name, u.job.spec?.suspend]),
      [["suspend", "js-w-0", true]],
    );
    assert.deepEqual(
      p.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [
        ["RestartingJobSet", "False", "JobSetSuspended", "jobset is suspended"],
        ["Suspended", "True", "SuspendedJobs", "jobset is suspended"],
      ],
    );
    assert.deepEqual(
      p.events.map((e) => [e.type, e.reason]),
      [
        ["Normal", "SuspendedJobs"],
        ["Normal", "JobSetSuspended"],
      ],
    );
  });
  test("suspended steady state: no writes at all", () => {
    const js = build(true);
    js.status = { restarts: 0, conditions: [suspendedCondition] };
    const jobs = [childJob(js, "w", 0).obj(), childJob(js, "w", 1).obj()];
    js.status.replicatedJobsStatus = [{ name: "w", ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 2 }];
    const p = run(js, jobs);
    assert.deepEqual(p.updates.jobs, []);
    assert.deepEqual(p.creates.jobs, []);
    assert.equal(p.status, undefined);
    assert.deepEqual(p.events, []);
  });
  test("resume: merged template, startTime cleared, Suspended=False", () => {
    const suspended = build(true);
    const jobs = [
      childJob(suspended, "w", 0).startTime().obj(),
      childJob(suspended, "w", 1).obj(),
      job("js-w-9").replicatedJobName("w").restartAttempt(0).suspend(true).completed().obj(), // succeeded: untouched
    ];
    const js = jobSet("js")
      .uid("u")
      .replicatedJob(rjob("w").replicas(2).podLabels({ kueue: "q" }).nodeSelector({ pool: "p2", extra: "e" }))
      .obj();
    js.status = { restarts: 0, conditions: [suspendedCondition] };
    const p = run(js, jobs);
    assert.deepEqual(
      p.updates.jobs.map((u) => [u.kind, u.job.metadata?.name, u.clearStartTime, u.job.spec?.suspend]),
      [
        ["resume", "js-w-0", true, false],
        ["resume", "js-w-1", false, false],
      ],
    );
    const first = p.updates.jobs[0]?.job;
    assert.deepEqual(first?.spec?.template.spec?.nodeSelector, { pool: "p2", extra: "e" });
    assert.equal(first?.spec?.template.metadata?.labels?.kueue, "q");
    assert.equal(first?.status?.startTime, undefined);
    const cond = p.status?.conditions?.find((c) => c.type === "Suspended");
    assert.deepEqual([cond?.status, cond?.reason, cond?.message], ["False", "ResumeJobs", "jobset is resumed"]);
    assert.deepEqual(p.events.at(-1), { type: "Normal", reason: "ResumeJobs", message: "jobset is resumed" });
  });
  test("never suspended: no Suspended condition is added", () => {
    const js = build(false);
    const p = run(js, [childJob(js, "w", 0).obj(), childJob(js, "w", 1).obj()]);
    assert.equal(
      p.status?.conditions?.find((c) => c.type === "Suspended"),
      undefined,
    );
  });
  test("failed Jobs still run the failure policy while suspended", () => {
    const js = build(true);
    const p = run(js, [childJob(js, "w", 0).failed().obj()]);
    assert.equal(p.status?.terminalState, "Failed");
    assert.deepEqual(p.updates.jobs, []);
    assert.deepEqual(p.creates.jobs, []);
  });
});
