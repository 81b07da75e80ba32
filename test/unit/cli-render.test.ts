// The pure rendering of the CLI: kubectl ages and tables, the printer columns of `jobset get`, the
// view model (ownership, phases, progress), the tree, the live frame and its append-only changes,
// `describe`, and the flag parsers of `up`/`run` (node labels, durations).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Labels } from "../../src/api/constants.ts";
import type { Event, Pod } from "../../src/api/k8s.ts";
import { nodeSpecs, parseNodeLabels } from "../../src/cli/node-flags.ts";
import {
  buildView,
  changeLines,
  clipFrame,
  colorStyle,
  finishCondition,
  finished,
  formatTable,
  getTable,
  humanDuration,
  jobPhase,
  jobSetState,
  progressBar,
  renderDescribe,
  renderFrame,
  renderTree,
  type Snapshot,
  visibleLength,
} from "../../src/cli/render.ts";
import { BUILD_LINE, parseDuration } from "../../src/cli/run.ts";
import { childJob, jobSet, rjob, T0 } from "../builders.ts";

const ESC = String.fromCharCode(27);
const NOW = Date.parse(T0) + 65_000;
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("humanDuration (apimachinery duration.HumanDuration)", () => {
  const cases: [number, string][] = [
    [-3 * S, "<invalid>"],
    [-1 * S, "0s"],
    [0, "0s"],
    [999, "0s"],
    [59 * S, "59s"],
    [119 * S, "119s"],
    [2 * M, "2m"],
    [2 * M + 5 * S, "2m5s"],
    [9 * M + 59 * S, "9m59s"],
    [10 * M + 30 * S, "10m"],
    [179 * M, "179m"],
    [3 * H, "3h"],
    [3 * H + 20 * M, "3h20m"],
    [8 * H + 20 * M, "8h"],
    [47 * H, "47h"],
    [2 * D, "2d"],
    [2 * D + 5 * H, "2d5h"],
    [8 * D, "8d"],
    [729 * D, "729d"],
    [2 * 365 * D, "2y"],
    [3 * 365 * D + 10 * D, "3y10d"],
    [9 * 365 * D, "9y"],
  ];
  for (const [ms, want] of cases) test(`${ms} ms → ${want}`, () => assert.equal(humanDuration(ms), want));
});

describe("formatTable", () => {
  test("pads every column but the last to its widest cell plus 3 spaces, as kubectl", () => {
    assert.deepEqual(
      formatTable(
        ["NAME", "TERMINALSTATE", "AGE"],
        [
          ["probe", "", "0s"],
          ["a", "Completed", "5m"],
        ],
      ),
      ["NAME    TERMINALSTATE   AGE", "probe                   0s", "a       Completed       5m"],
    );
  });
});

describe("jobset get table (printer columns of spec §1.1)", () => {
  const fresh = jobSet("probe").replicatedJob(rjob("w")).obj();
  fresh.metadata = { ...fresh.metadata, creationTimestamp: T0 };
  const done = jobSet("done", "ml")
    .replicatedJob(rjob("a").replicas(2))
    .replicatedJob(rjob("b"))
    .suspend(false)
    .restarts(2)
    .terminalState("Completed")
    .condition({
      type: "Completed",
      status: "True",
      reason: "AllJobsCompleted",
      message: "jobset completed successfully",
    })
    .replicatedJobStatus({ name: "a", succeeded: 2 })
    .replicatedJobStatus({ name: "b", succeeded: 1, ready: 0 })
    .obj();
  done.metadata = { ...done.metadata, creationTimestamp: "2023-12-31T23:00:00Z" };

  test("empty cells stay empty (the API server's table converter leaves them nil)", () => {
    // Verified against kube-apiserver v1.36 + kubectl: a JobSet without status prints blanks.
    assert.deepEqual(getTable([fresh], NOW), [
      "NAME    TERMINALSTATE   RESTARTS   COMPLETED   SUSPENDED   AGE",
      "probe                                                      65s",
    ]);
  });
  test("terminal state, restarts, Completed condition status, spec.suspend, age", () => {
    assert.deepEqual(getTable([done], NOW), [
      "NAME   TERMINALSTATE   RESTARTS   COMPLETED   SUSPENDED   AGE",
      "done   Completed       2          True        false       61m",
    ]);
  });
  test("-A adds NAMESPACE first; wide adds replicated jobs and Job counts", () => {
    const lines = getTable([done, fresh], NOW, { allNamespaces: true, wide: true });
    assert.equal(
      lines[0],
      "NAMESPACE   NAME    TERMINALSTATE   RESTARTS   COMPLETED   SUSPENDED   AGE   REPLICATEDJOBS   JOBS   READY   SUCCEEDED   FAILED",
    );
    assert.match(lines[1] ?? "", /^ml\s+done\s+Completed\s+2\s+True\s+false\s+61m\s+a,b\s+3\s+0\s+3\s+0$/);
    assert.match(lines[2] ?? "", /^default\s+probe\s+65s\s+w\s+1\s+0\s+0\s+0$/);
  });
});

// ---------------------------------------------------------------------------------------------- view model

function pod(
  name: string,
  job: { metadata?: { uid?: string; labels?: Record<string, string> } },
  phase: string,
  o: { restarts?: number; node?: string; attempt?: string; reason?: string; deleting?: boolean } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      labels: {
        [Labels.RestartAttempt]: o.attempt ?? job.metadata?.labels?.[Labels.RestartAttempt] ?? "0",
        [Labels.ReplicatedJobName]: job.metadata?.labels?.[Labels.ReplicatedJobName] ?? "",
      },
      ownerReferences: [
        { apiVersion: "batch/v1", kind: "Job", name: "j", uid: job.metadata?.uid ?? "", controller: true },
      ],
      ...(o.deleting ? { deletionTimestamp: T0 } : {}),
    },
    spec: { containers: [{ name: "main" }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase,
      containerStatuses: [
        {
          name: "main",
          image: "x",
          imageID: "",
          ready: phase === "Running",
          restartCount: o.restarts ?? 0,
          ...(o.reason ? { state: { terminated: { exitCode: 1, reason: o.reason } } } : {}),
        },
      ],
    },
  };
}

function event(name: string, reason: string, note: string, at: string, count?: number): Event {
  return {
    metadata: { name, namespace: "default" },
    eventTime: at,
    reason,
    note,
    type: reason.startsWith("Failed") ? "Warning" : "Normal",
    reportingController: "jobset",
    ...(count ? { series: { count, lastObservedTime: at } } : {}),
  } as Event;
}

function snapshot(): Snapshot {
  const js = jobSet("demo")
    .uid("js-uid")
    .replicatedJob(rjob("leader").completionMode("Indexed").completions(1))
    .replicatedJob(rjob("workers").replicas(2).parallelism(2).completions(2))
    .replicatedJobStatus({ name: "leader", active: 1, ready: 1 })
    .replicatedJobStatus({ name: "workers", active: 1, succeeded: 1 })
    .obj();
  js.metadata = { ...js.metadata, creationTimestamp: T0 };
  const leader = childJob(js, "leader", 0).uid("job-l").active(1).obj();
  const w0 = childJob(js, "workers", 0).uid("job-w0").condition("Complete").succeededPods(2).obj();
  const w1 = childJob(js, "workers", 1).uid("job-w1").active(1).failedPods(1).obj();
  const stranger = childJob(js, "workers", 1).uid("job-x").obj();
  stranger.metadata = { ...stranger.metadata, name: "other", ownerReferences: [] };
  return {
    jobset: js,
    jobs: [w1, leader, w0, stranger],
    pods: [
      pod("demo-leader-0-0-aaaaa", leader, "Running", { node: "fake-node-0" }),
      pod("demo-workers-0-1-bbbbb", w0, "Succeeded", { node: "fake-node-1" }),
      pod("demo-workers-0-0-ccccc", w0, "Succeeded", { node: "fake-node-2" }),
      pod("demo-workers-1-0-ddddd", w1, "Failed", { reason: "Error", node: "fake-node-1" }),
      pod("demo-workers-1-0-eeeee", w1, "Running", { restarts: 2, node: "fake-node-3" }),
      pod("demo-workers-1-1-fffff", w1, "Pending"),
    ],
    events: [
      event("e2", "JobsReady", "all jobs are ready", "2024-01-01T00:00:50Z"),
      event(
        "e1",
        "InOrderStartupPolicyInProgress",
        "in order startup policy is in progress",
        "2024-01-01T00:00:10Z",
        2,
      ),
    ],
  };
}

describe("buildView", () => {
  test("Jobs by owner UID, grouped by replicated job, sorted by name (numeric), pods under their Job", () => {
    const v = buildView(snapshot());
    assert.deepEqual(
      v.rjobs.map((r) => [r.name, r.replicas, r.jobs.map((j) => [j.name, j.phase, j.pods.map((p) => p.name)])]),
      [
        ["leader", 1, [["demo-leader-0", "Running", ["demo-leader-0-0-aaaaa"]]]],
        [
          "workers",
          2,
          [
            ["demo-workers-0", "Complete", ["demo-workers-0-0-ccccc", "demo-workers-0-1-bbbbb"]],
            [
              "demo-workers-1",
              "Running",
              ["demo-workers-1-0-ddddd", "demo-workers-1-0-eeeee", "demo-workers-1-1-fffff"],
            ],
          ],
        ],
      ],
    );
  });
  test("progress: Σ replicas × completions pods expected; succeeded, failed, running of the current attempt", () => {
    const v = buildView(snapshot());
    assert.deepEqual(v.progress, { total: 5, succeeded: 2, failed: 1, running: 2 });
    assert.equal(v.podRestarts, 2);
  });
  test("pods of an earlier restart attempt do not count towards progress", () => {
    const s = snapshot();
    s.jobset.status = { ...s.jobset.status, restarts: 1 };
    const v = buildView(s);
    assert.deepEqual(v.progress, { total: 5, succeeded: 0, failed: 0, running: 0 });
  });
  test("events sorted by time (series lastObservedTime), with counts", () => {
    const v = buildView(snapshot());
    assert.deepEqual(
      v.events.map((e) => [e.reason, e.count]),
      [
        ["InOrderStartupPolicyInProgress", 2],
        ["JobsReady", 1],
      ],
    );
  });
});

describe("phases and states", () => {
  const js = () => jobSet("s").replicatedJob(rjob("a"));
  const cases: [string, ReturnType<typeof js>, string, string | undefined][] = [
    ["nothing yet", js(), "Pending", undefined],
    ["active Jobs", js().replicatedJobStatus({ name: "a", active: 1 }), "Running", undefined],
    ["suspended", js().suspend(true), "Suspended", undefined],
    [
      "restarting",
      js().condition({ type: "RestartingJobSet", status: "True", reason: "DefaultFailurePolicy", message: "m" }),
      "Restarting",
      undefined,
    ],
    ["terminalState wins", js().suspend(true).terminalState("Failed"), "Failed", "Failed"],
    [
      "Completed condition without terminalState",
      js().condition({ type: "Completed", status: "True", reason: "AllJobsCompleted", message: "m" }),
      "Completed",
      "Completed",
    ],
  ];
  for (const [name, b, state, fin] of cases)
    test(name, () => {
      const j = b.obj();
      assert.equal(jobSetState(j), state);
      assert.equal(finished(j), fin);
    });
  test("finishCondition is the True Failed/Completed condition", () => {
    const j = js()
      .condition({ type: "Failed", status: "True", reason: "FailedJobs", message: "boom" })
      .terminalState("Failed")
      .obj();
    assert.equal(finishCondition(j)?.reason, "FailedJobs");
  });
  test("Job phases: Failed (with reason) > Complete > Failing > Completing > Suspended > Running > Pending", () => {
    const s = jobSet("s").replicatedJob(rjob("a")).obj();
    const b = () => childJob(s, "a", 0);
    assert.deepEqual(jobPhase(b().condition("Failed", { reason: "BackoffLimitExceeded" }).obj()), {
      phase: "Failed",
      reason: "BackoffLimitExceeded",
    });
    assert.equal(jobPhase(b().condition("Complete").obj()).phase, "Complete");
    assert.equal(jobPhase(b().suspend(true).obj()).phase, "Suspended");
    assert.equal(jobPhase(b().active(2).obj()).phase, "Running");
    assert.deepEqual(jobPhase(b().startTime().failureTarget("BackoffLimitExceeded", "m").obj()), {
      phase: "Failing",
      reason: "BackoffLimitExceeded",
    });
    assert.equal(jobPhase(b().startTime().condition("SuccessCriteriaMet").obj()).phase, "Completing");
    // Started, no active pod yet counted (e.g. its pods just succeeded): not "Pending".
    assert.equal(jobPhase(b().startTime().obj()).phase, "Running");
    assert.equal(jobPhase(b().obj()).phase, "Pending");
  });
});

describe("renderTree", () => {
  test("JobSet → replicated jobs → Jobs → pods with box characters", () => {
    assert.deepEqual(renderTree(buildView(snapshot())), [
      "JobSet default/demo  Running",
      "├─ leader  1 job, 1 ready, 1 active",
      "│  └─ demo-leader-0  Running  active 1, succeeded 0, failed 0",
      "│     └─ demo-leader-0-0-aaaaa  Running  on fake-node-0",
      "└─ workers  2 jobs, 1 active, 1 succeeded",
      "   ├─ demo-workers-0  Complete  active 0, succeeded 2, failed 0",
      "   │  ├─ demo-workers-0-0-ccccc  Succeeded  on fake-node-2",
      "   │  └─ demo-workers-0-1-bbbbb  Succeeded  on fake-node-1",
      "   └─ demo-workers-1  Running  active 1, succeeded 0, failed 1",
      "      ├─ demo-workers-1-0-ddddd  Failed  Error  on fake-node-1",
      "      ├─ demo-workers-1-0-eeeee  Running  restarts 2  on fake-node-3",
      "      └─ demo-workers-1-1-fffff  Pending",
    ]);
  });
  test("maxPodsPerJob folds the rest; a replicated job without Jobs says so", () => {
    const s = snapshot();
    s.jobs = s.jobs.filter((j) => j.metadata?.name !== "demo-leader-0");
    const lines = renderTree(buildView(s), undefined, { maxPodsPerJob: 1 });
    assert.ok(lines.includes("│  └─ (no jobs yet)"));
    assert.ok(lines.includes("      └─ … 2 more pods"));
  });
});

describe("live frame", () => {
  test("progress bar", () => {
    assert.equal(progressBar(0, 4, 8), "[--------]");
    assert.equal(progressBar(2, 4, 8), "[####----]");
    assert.equal(progressBar(9, 4, 8), "[########]");
    assert.equal(progressBar(0, 0, 4), "[----]");
  });
  test("tree, progress, conditions and the latest events", () => {
    const s = snapshot();
    s.jobset.status = {
      ...s.jobset.status,
      restarts: 0,
      conditions: [
        {
          type: "StartupPolicyInProgress",
          status: "True",
          reason: "InOrderStartupPolicyInProgress",
          message: "in order startup policy is in progress",
          lastTransitionTime: T0,
        },
      ],
    };
    const lines = renderFrame(buildView(s), NOW, { maxEvents: 1, elapsedMs: 5000 });
    assert.equal(lines[0], "JobSet default/demo  Running  5s");
    const tail = lines.slice(lines.indexOf("") + 1);
    assert.deepEqual(tail, [
      "[############------------------] 2/5 pods succeeded  2 running, 1 failed, jobset restarts 0, container restarts 2",
      "",
      "Conditions",
      "  StartupPolicyInProgress=True  InOrderStartupPolicyInProgress: in order startup policy is in progress",
      "",
      "Events",
      "   15s  Normal   JobsReady: all jobs are ready",
    ]);
  });
  test("colors do not change the visible text; clipFrame keeps lines and width within the terminal", () => {
    const plain = renderFrame(buildView(snapshot()), NOW);
    const colored = renderFrame(buildView(snapshot()), NOW, { style: colorStyle });
    assert.deepEqual(
      colored.map((l) => l.replaceAll(ESC, "").replace(/\[[0-9;]*m/g, "")),
      plain,
    );
    const clipped = clipFrame(colored, 30, 6);
    assert.equal(clipped.length, 6);
    assert.ok(clipped.every((l) => visibleLength(l) <= 30));
    assert.match(clipped[5] ?? "", /^… \d+ more lines/);
  });
});

describe("changeLines (append-only output)", () => {
  test("the first view announces everything; an unchanged view prints nothing", () => {
    const v = buildView(snapshot());
    const first = changeLines(undefined, v, NOW);
    assert.equal(first[0], "jobset demo: Running");
    assert.ok(first.includes("pod demo-workers-1-0-eeeee: Running (restarts 2, on fake-node-3)"));
    assert.ok(first.includes("job demo-workers-0: Complete"));
    assert.ok(first.some((l) => l.startsWith("event ") && l.includes("JobsReady: all jobs are ready")));
    assert.deepEqual(changeLines(v, buildView(snapshot()), NOW), []);
  });
  test("phase changes, restarts, new conditions, new events and progress", () => {
    const before = buildView(snapshot());
    const s = snapshot();
    const p = s.pods.find((x) => x.metadata?.name === "demo-leader-0-0-aaaaa");
    if (p?.status) p.status.phase = "Succeeded";
    s.jobset.status = {
      ...s.jobset.status,
      restarts: 1,
      conditions: [
        {
          type: "RestartingJobSet",
          status: "True",
          reason: "DefaultFailurePolicy",
          message: "applying RestartJobSet failure policy action (first failed job: demo-workers-1)",
          lastTransitionTime: T0,
        },
      ],
    };
    s.events = [...s.events, event("e3", "FailedJobs", "x", "2024-01-01T00:01:00Z")];
    const lines = changeLines(before, buildView(s), NOW);
    assert.deepEqual(lines, [
      "jobset demo: Restarting",
      "jobset demo: restarts 1",
      "pod demo-leader-0-0-aaaaa: Succeeded",
      "condition RestartingJobSet=True  DefaultFailurePolicy: applying RestartJobSet failure policy action (first failed job: demo-workers-1)",
      "event 5s  Warning  FailedJobs: x",
      "[------------------------------] 0/5 pods succeeded  jobset restarts 1, container restarts 2",
    ]);
  });
});

describe("renderDescribe", () => {
  test("spec summary, status, conditions, owned Jobs only, events", () => {
    const s = snapshot();
    s.jobset.spec = {
      ...s.jobset.spec,
      failurePolicy: {
        maxRestarts: 3,
        rules: [{ name: "oom", action: "FailJobSet", onJobFailureReasons: ["PodFailurePolicy"] }],
      },
      startupPolicy: { startupPolicyOrder: "InOrder" },
      ttlSecondsAfterFinished: 30,
    };
    const out = renderDescribe(s, NOW);
    const text = out.join("\n");
    assert.equal(out[0], "Name:                   demo");
    assert.match(text, /^ {2}Failure Policy: +maxRestarts 3, restartStrategy Recreate, 1 rule\(s\)$/m);
    assert.match(text, /^ +oom: FailJobSet on PodFailurePolicy$/m);
    assert.match(text, /^ {2}Startup Policy: +InOrder$/m);
    assert.match(text, /^ {2}TTL After Finished: +30s$/m);
    assert.match(text, /^ {4}workers +2 +2 +2 +NonIndexed +-$/m);
    assert.match(text, /^ {2}demo-workers-1 +Running +1 +0 +1 +0$/m);
    assert.doesNotMatch(text, /^ {2}other /m, "a Job the JobSet does not own is not listed");
    assert.match(
      text,
      /^ {2}Normal +InOrderStartupPolicyInProgress +55s \(x2\) +jobset +in order startup policy is in progress$/m,
    );
    assert.match(text, /^Conditions:\n {2}<none>$/m);
  });
});

describe("flags of up and run", () => {
  const cases: [string, string, string[]][] = [
    ["a list", "rack=r1,r1,r2,r2", ["r1", "r1", "r2", "r2"]],
    ["a range", "rack=r{0..3}", ["r0", "r1", "r2", "r3"]],
    ["a range repeated", "rack=r{0..1}*2", ["r0", "r0", "r1", "r1"]],
    ["values repeated", "zone=a*3,b", ["a", "a", "a", "b"]],
    ["prefix and suffix around a range", "pool=p{1..2}-gpu", ["p1-gpu", "p2-gpu"]],
    ["a descending range", "x={2..0}", ["2", "1", "0"]],
  ];
  for (const [name, flag, values] of cases)
    test(`--node-labels: ${name}`, () => assert.deepEqual(parseNodeLabels(flag), { key: flag.split("=")[0], values }));
  test("--node-labels: errors", () => {
    for (const bad of ["rack", "=x", "rack=", "rack=a,,b", "rack=a*0"]) assert.throws(() => parseNodeLabels(bad), bad);
  });
  test("nodeSpecs: node i gets value i, the list repeats, several keys combine", () => {
    assert.deepEqual(nodeSpecs(4, ["rack=r{0..1}*2", "zone=a,b"]), [
      { labels: { rack: "r0", zone: "a" } },
      { labels: { rack: "r0", zone: "b" } },
      { labels: { rack: "r1", zone: "a" } },
      { labels: { rack: "r1", zone: "b" } },
    ]);
    assert.deepEqual(nodeSpecs(2, []), [{}, {}]);
  });
  test("parseDuration", () => {
    assert.equal(parseDuration("90"), 90_000);
    assert.equal(parseDuration("90s"), 90_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("1.5m"), 90_000);
    for (const bad of ["", "5x", "m5", "-1s"]) assert.throws(() => parseDuration(bad), bad);
  });
  test("build progress lines of binaries.ts are the ones run shows", () => {
    assert.ok(BUILD_LINE.test("building Kubernetes v1.36.3 control plane from source (first time only, …)"));
    assert.ok(BUILD_LINE.test("  compiled 120/900 packages, 1m05s"));
    assert.ok(!BUILD_LINE.test("etcd ready on 127.0.0.1:1234 (300 ms)"));
  });
});
