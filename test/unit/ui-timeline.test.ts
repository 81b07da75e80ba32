// The UI's timeline and page model (src/ui/timeline.ts, src/ui/model.ts): spans, restart bands,
// failure markers, Jobs rebuilt from events, rows of the list.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Event, Job, Pod } from "../../src/api/k8s.ts";
import { buildPage, jobSetRow, listRows } from "../../src/ui/model.ts";
import { buildTimeline, jobSpans, podSpans } from "../../src/ui/timeline.ts";
import { job, jobSet, rjob } from "../builders.ts";

const t = (s: number) => new Date(Date.parse("2024-01-01T00:00:00Z") + s * 1000).toISOString();
const at = (s: number) => Date.parse(t(s));

const base = () =>
  jobSet("train").uid("js-uid").replicatedJob(rjob("workers").replicas(2)).replicatedJob(rjob("leader").replicas(1));

function childJob(name: string, rj: string, attempt: number, uid: string, created: number): Job {
  const j = job(name)
    .jobSetName("train")
    .replicatedJobName(rj)
    .restartAttempt(attempt)
    .uid(uid)
    .ownedBy(base().obj())
    .obj();
  j.metadata = { ...j.metadata, creationTimestamp: t(created) };
  return j;
}

function event(o: {
  kind: string;
  name: string;
  uid: string;
  reason: string;
  type?: string;
  time: number;
  note?: string;
}): Event {
  return {
    metadata: { name: `${o.name}.${o.reason}.${o.time}`, namespace: "default" },
    eventTime: t(o.time) as unknown as Event["eventTime"],
    regarding: { kind: o.kind, name: o.name, uid: o.uid, namespace: "default" },
    reason: o.reason,
    type: o.type ?? "Normal",
    note: o.note ?? "",
  } as Event;
}

describe("jobSpans", () => {
  test("pending until started, running until failed, failed until deleted, with a failure marker", () => {
    const j = job("train-workers-0").obj();
    j.metadata = { ...j.metadata, creationTimestamp: t(0) };
    j.status = {
      startTime: t(2),
      conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", lastTransitionTime: t(10) }],
    };
    const { spans, markers } = jobSpans(j, at(100), at(12));
    assert.deepEqual(
      spans.map((s) => [s.state, s.start, s.end, s.open]),
      [
        ["pending", at(0), at(2), false],
        ["running", at(2), at(10), false],
        ["failed", at(10), at(12), false],
      ],
    );
    assert.deepEqual(markers, [
      { time: at(10), kind: "failure", label: "train-workers-0 failed: BackoffLimitExceeded" },
    ]);
  });
  test("a suspended Job waits (InOrder, dependsOn, suspend) and the open span reaches now", () => {
    const j = job("a").suspend(true).obj();
    j.metadata = { ...j.metadata, creationTimestamp: t(0) };
    const { spans } = jobSpans(j, at(30));
    assert.deepEqual(
      spans.map((s) => [s.state, s.end, s.open]),
      [["suspended", at(30), true]],
    );
  });
  test("a completed Job is succeeded from its completionTime", () => {
    const j = job("a").obj();
    j.metadata = { ...j.metadata, creationTimestamp: t(0) };
    j.status = {
      startTime: t(1),
      completionTime: t(5),
      conditions: [{ type: "Complete", status: "True", lastTransitionTime: t(5) }],
    };
    const { spans, markers } = jobSpans(j, at(9));
    assert.deepEqual(
      spans.map((s) => s.state),
      ["pending", "running", "succeeded"],
    );
    assert.equal(markers[0]?.kind, "success");
  });
});

describe("podSpans", () => {
  test("pending until its container started, running until it terminated", () => {
    const p: Pod = {
      metadata: { name: "p", creationTimestamp: t(0) },
      status: {
        phase: "Failed",
        containerStatuses: [
          {
            name: "main",
            image: "x",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 1, startedAt: t(3), finishedAt: t(8) } },
          },
        ],
      },
    };
    assert.deepEqual(
      podSpans(p, at(20)).map((s) => [s.state, s.start, s.end]),
      [
        ["pending", at(0), at(3)],
        ["running", at(3), at(8)],
        ["failed", at(8), at(20)],
      ],
    );
  });
});

describe("buildTimeline", () => {
  test("a JobSet that failed once and restarted: two attempt bands, the failure marker on the failed Job's lane", () => {
    const js = base().restarts(1).obj();
    js.metadata = { ...js.metadata, creationTimestamp: t(0) };
    const gone0 = childJob("train-workers-0", "workers", 0, "w0-a0", 0);
    gone0.status = {
      startTime: t(1),
      conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", lastTransitionTime: t(5) }],
    };
    const gone1 = childJob("train-workers-1", "workers", 0, "w1-a0", 0);
    gone1.status = { startTime: t(1) };
    const gone2 = childJob("train-leader-0", "leader", 0, "l0-a0", 0);
    gone2.status = { startTime: t(1) };
    const now0 = childJob("train-workers-0", "workers", 1, "w0-a1", 7);
    now0.status = { startTime: t(8) };
    const now1 = childJob("train-workers-1", "workers", 1, "w1-a1", 7);
    const now2 = childJob("train-leader-0", "leader", 1, "l0-a1", 7);
    const tl = buildTimeline({
      jobset: js,
      jobs: [now0, now1, now2],
      pods: [],
      goneJobs: [gone0, gone1, gone2].map((obj) => ({ obj, deletedAt: at(6) })),
      events: [
        event({ kind: "JobSet", name: "train", uid: "js-uid", reason: "Restarting", time: 6, note: "restart 1" }),
      ],
      now: at(20),
    });
    assert.deepEqual(
      tl.lanes.map((l) => l.key),
      ["jobset", "job/train-workers-0", "job/train-workers-1", "job/train-leader-0"],
    );
    assert.deepEqual(
      tl.bands.map((b) => [b.attempt, b.start, b.end, b.open]),
      [
        [0, at(0), at(7), false],
        [1, at(7), at(20), true],
      ],
    );
    const failures = tl.lanes.flatMap((l) => l.markers.filter((m) => m.kind === "failure").map((m) => [l.key, m.time]));
    assert.deepEqual(failures, [["job/train-workers-0", at(5)]]);
    const w0 = tl.lanes[1];
    assert.deepEqual(
      w0?.spans.map((s) => [s.attempt, s.state]),
      [
        [0, "pending"],
        [0, "running"],
        [0, "failed"],
        [1, "pending"],
        [1, "running"],
      ],
    );
    assert.equal(tl.lanes[0]?.markers[0]?.label, "Restarting: restart 1");
  });

  test("Jobs deleted before the UI watched are rebuilt from their events", () => {
    const js = base().restarts(1).obj();
    js.metadata = { ...js.metadata, creationTimestamp: t(0) };
    const now0 = childJob("train-workers-0", "workers", 1, "w0-a1", 10);
    const tl = buildTimeline({
      jobset: js,
      jobs: [now0],
      pods: [],
      events: [
        event({ kind: "Job", name: "train-workers-0", uid: "old", reason: "SuccessfulCreate", time: 1 }),
        event({
          kind: "Job",
          name: "train-workers-0",
          uid: "old",
          reason: "BackoffLimitExceeded",
          type: "Warning",
          time: 4,
        }),
        event({ kind: "Job", name: "other-workers-0", uid: "x", reason: "SuccessfulCreate", time: 1 }),
      ],
      now: at(20),
    });
    const lane = tl.lanes.find((l) => l.key === "job/train-workers-0");
    assert.ok(lane);
    assert.deepEqual(
      lane.spans.map((s) => [s.attempt, s.state, s.start]),
      [
        [0, "running", at(1)],
        [0, "failed", at(4)],
        [1, "pending", at(10)],
      ],
    );
    assert.ok(lane.markers.some((m) => m.kind === "failure" && m.time === at(4)));
    assert.deepEqual(
      tl.bands.map((b) => b.attempt),
      [0, 1],
    );
    assert.equal(
      tl.lanes.some((l) => l.name.startsWith("other")),
      false,
      "events of another JobSet's Jobs stay out",
    );
  });

  test("a finished JobSet's timeline ends when it finished, not now", () => {
    const js = base()
      .condition({
        type: "Completed",
        status: "True",
        reason: "AllJobsCompleted",
        message: "done",
        lastTransitionTime: t(30),
      })
      .terminalState("Completed")
      .obj();
    js.metadata = { ...js.metadata, creationTimestamp: t(0) };
    const j = childJob("train-workers-0", "workers", 0, "u", 0);
    j.status = {
      startTime: t(1),
      completionTime: t(29),
      conditions: [{ type: "Complete", status: "True", lastTransitionTime: t(29) }],
    };
    const tl = buildTimeline({ jobset: js, jobs: [j], pods: [], events: [], now: at(5000) });
    assert.equal(tl.end, at(30));
    assert.deepEqual(
      tl.lanes[0]?.spans.map((sp) => [sp.state, sp.end, sp.open]),
      [["running", at(30), false]],
    );
    assert.ok(tl.lanes[0]?.markers.some((m) => m.kind === "success"));
  });

  test("1,000 Jobs build in one pass", () => {
    const js = jobSet("big").uid("js-uid").replicatedJob(rjob("w").replicas(1000)).obj();
    js.metadata = { ...js.metadata, creationTimestamp: t(0) };
    const jobs = Array.from({ length: 1000 }, (_, i) => {
      const j = job(`big-w-${i}`)
        .jobSetName("big")
        .replicatedJobName("w")
        .restartAttempt(0)
        .uid(`u${i}`)
        .ownedBy(js)
        .obj();
      j.metadata = { ...j.metadata, creationTimestamp: t(0) };
      return j;
    });
    const page = buildPage({ jobset: js, jobs, pods: [], goneJobs: [], gonePods: [], events: [], now: at(10) });
    assert.equal(page.timeline.lanes.length, 1001);
    assert.equal(page.view.rjobs[0]?.jobs.length, 1000);
    assert.equal(page.timeline.lanes[1]?.name, "big-w-0");
    assert.equal(page.timeline.lanes[1000]?.name, "big-w-999", "numeric order");
  });
});

describe("list rows", () => {
  test("state, restarts, Job counts and age", () => {
    const js = base()
      .restarts(2)
      .replicatedJobStatus({ name: "workers", ready: 1, succeeded: 1 })
      .replicatedJobStatus({ name: "leader", failed: 1 })
      .obj();
    js.metadata = { ...js.metadata, creationTimestamp: t(0) };
    const row = jobSetRow(js, at(90));
    assert.deepEqual(
      {
        state: row.state,
        restarts: row.restarts,
        jobs: row.jobs,
        ready: row.ready,
        succeeded: row.succeeded,
        failed: row.failed,
        age: row.age,
      },
      { state: "Running", restarts: 2, jobs: 3, ready: 1, succeeded: 1, failed: 1, age: "90s" },
    );
  });
  test("sorted by namespace then name, numbers in order", () => {
    const rows = listRows([jobSet("b-10", "x").obj(), jobSet("b-9", "x").obj(), jobSet("z", "a").obj()], 0);
    assert.deepEqual(
      rows.map((r) => `${r.namespace}/${r.name}`),
      ["a/z", "x/b-9", "x/b-10"],
    );
  });
});
