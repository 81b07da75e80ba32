import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Pod } from "../../src/api/k8s.ts";
import {
  SimAnnotations as A,
  completionIndex,
  parseDuration,
  parseIndexSet,
  restartAttempt,
  simPlan,
  simReadyDelayMs,
} from "../../src/local/kubelet-sim.ts";

const pod = (annotations: Record<string, string> = {}, labels: Record<string, string> = {}, index?: number): Pod => ({
  metadata: {
    name: "p",
    annotations:
      index === undefined ? annotations : { ...annotations, "batch.kubernetes.io/job-completion-index": String(index) },
    labels,
  },
  spec: { containers: [{ name: "main" }, { name: "side" }] },
});

describe("parseDuration", () => {
  const cases: [string, number | undefined][] = [
    ["2s", 2000],
    ["500ms", 500],
    ["1.5s", 1500],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["3", 3000],
    ["0", 0],
    ["0s", 0],
    ["250us", 0.25],
    ["forever", Number.POSITIVE_INFINITY],
    ["Never", Number.POSITIVE_INFINITY],
    ["", undefined],
    ["2 s", undefined],
    ["s", undefined],
    ["-1s", undefined],
    ["1d", undefined],
  ];
  for (const [input, want] of cases) test(JSON.stringify(input), () => assert.equal(parseDuration(input), want));
});

describe("parseIndexSet", () => {
  test("lists and ranges", () => assert.deepEqual([...(parseIndexSet("1,3, 5-7") ?? [])], [1, 3, 5, 6, 7]));
  test("empty", () => assert.deepEqual([...(parseIndexSet("") ?? [])], []));
  for (const bad of ["a", "1-", "3-1", "1,,x", "-2"])
    test(`rejects ${bad}`, () => assert.equal(parseIndexSet(bad), undefined));
});

describe("pod identity", () => {
  test("completion index from the annotation, else the label", () => {
    assert.equal(completionIndex(pod({}, {}, 3)), 3);
    assert.equal(completionIndex(pod({}, { "batch.kubernetes.io/job-completion-index": "2" })), 2);
    assert.equal(completionIndex(pod()), undefined);
  });
  test("restart attempt label, default 0", () => {
    assert.equal(restartAttempt(pod({}, { "jobset.sigs.k8s.io/restart-attempt": "2" })), 2);
    assert.equal(restartAttempt(pod()), 0);
  });
});

describe("simPlan", () => {
  test("defaults: 1 s, exit 0", () => {
    const p = simPlan(pod());
    assert.equal(p.durationMs, 1000);
    assert.equal(p.exitCode("main", 0), 0);
    assert.equal(p.readyAfterMs, undefined);
    assert.deepEqual(p.warnings, []);
  });
  test("configured default duration and run-forever", () => {
    assert.equal(simPlan(pod(), { defaultDurationMs: 50 }).durationMs, 50);
    assert.equal(simPlan(pod(), { runForever: true }).durationMs, Number.POSITIVE_INFINITY);
    assert.equal(simPlan(pod({ [A.Duration]: "2s" }), { runForever: true }).durationMs, 2000);
  });
  test("duration per index overrides duration", () => {
    const ann = { [A.Duration]: "2s", [`${A.DurationIndexPrefix}1`]: "5s" };
    assert.equal(simPlan(pod(ann, {}, 1)).durationMs, 5000);
    assert.equal(simPlan(pod(ann, {}, 0)).durationMs, 2000);
  });

  // [annotations, labels, completion index, want exit code of "main" at restartCount 0]
  const table: [string, Record<string, string>, Record<string, string>, number | undefined, number][] = [
    ["exit-code", { [A.ExitCode]: "3" }, {}, undefined, 3],
    ["fail-indexes hit", { [A.FailIndexes]: "1,3" }, {}, 3, 1],
    ["fail-indexes miss", { [A.FailIndexes]: "1,3" }, {}, 2, 0],
    ["fail-indexes with fail-exit-code", { [A.FailIndexes]: "0", [A.FailExitCode]: "42" }, {}, 0, 42],
    ["exit-code-index wins over fail-indexes", { [A.FailIndexes]: "2", [`${A.ExitCodeIndexPrefix}2`]: "7" }, {}, 2, 7],
    [
      "exit-code is the default beside index rules",
      { [A.ExitCode]: "5", [`${A.ExitCodeIndexPrefix}0`]: "0" },
      {},
      1,
      5,
    ],
    ["index rule with exit-code default", { [A.ExitCode]: "5", [`${A.ExitCodeIndexPrefix}0`]: "0" }, {}, 0, 0],
    ["fail-until-restart alone: fails before", { [A.FailUntilRestart]: "1" }, {}, undefined, 1],
    [
      "fail-until-restart alone: passes after",
      { [A.FailUntilRestart]: "1" },
      { "jobset.sigs.k8s.io/restart-attempt": "1" },
      undefined,
      0,
    ],
    [
      "fail-until-restart gates fail-indexes (attempt below N)",
      { [A.FailUntilRestart]: "2", [A.FailIndexes]: "1" },
      { "jobset.sigs.k8s.io/restart-attempt": "1" },
      1,
      1,
    ],
    [
      "fail-until-restart gates fail-indexes (other index)",
      { [A.FailUntilRestart]: "2", [A.FailIndexes]: "1" },
      {},
      0,
      0,
    ],
    [
      "fail-until-restart gates fail-indexes (attempt reached)",
      { [A.FailUntilRestart]: "2", [A.FailIndexes]: "1" },
      { "jobset.sigs.k8s.io/restart-attempt": "2" },
      1,
      0,
    ],
    ["bad exit code falls back to 0", { [A.ExitCode]: "x" }, {}, undefined, 0],
    ["exit code over 255 rejected", { [A.ExitCode]: "256" }, {}, undefined, 0],
  ];
  for (const [name, ann, labels, idx, want] of table)
    test(name, () => assert.equal(simPlan(pod(ann, labels, idx)).exitCode("main", 0), want));

  test("unparseable values are reported", () => {
    const p = simPlan(pod({ [A.ExitCode]: "x", [A.Duration]: "soon" }));
    assert.equal(p.warnings.length, 2);
    assert.equal(p.durationMs, 1000);
  });
  test("fail-until-restart-count: fails the first N runs", () => {
    const p = simPlan(pod({ [A.FailUntilRestartCount]: "2", [A.FailExitCode]: "3" }));
    assert.deepEqual(
      [0, 1, 2, 3].map((rc) => p.exitCode("main", rc)),
      [3, 3, 0, 0],
    );
  });
  test("fail-container: only that container fails", () => {
    const p = simPlan(pod({ [A.ExitCode]: "2", [A.FailContainer]: "side" }));
    assert.equal(p.exitCode("main", 0), 0);
    assert.equal(p.exitCode("side", 0), 2);
  });
  test("readiness delay: ready-after, else the probe's initialDelaySeconds, else 0", () => {
    const probe = { readinessProbe: { initialDelaySeconds: 3, exec: { command: ["true"] } } };
    assert.equal(simReadyDelayMs({ name: "c" }, { readyAfterMs: undefined }), 0);
    assert.equal(simReadyDelayMs({ name: "c", ...probe }, { readyAfterMs: undefined }), 3000);
    assert.equal(simReadyDelayMs({ name: "c", ...probe }, { readyAfterMs: 500 }), 500);
    assert.equal(simPlan(pod({ [A.ReadyAfter]: "2s" })).readyAfterMs, 2000);
  });
});
