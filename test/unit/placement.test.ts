import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Labels } from "../../src/api/constants.ts";
import type { Pod } from "../../src/api/k8s.ts";
import {
  leaderPodName,
  planPlacement,
  podJobKeyIndexKeys,
  podNameIndexKeys,
  removePodNameSuffix,
  selectLeader,
  shouldReconcileLeader,
  withPodCondition,
} from "../../src/controller/placement.ts";
import { K, NOW, node, pod } from "../support/pods.ts";

describe("pod name indexes", () => {
  test("removePodNameSuffix needs 5 dash-separated parts", () => {
    assert.equal(removePodNameSuffix("js-rj-0-1-abcde"), "js-rj-0-1");
    assert.equal(removePodNameSuffix("my-js-rj-0-0-x7k2p"), "my-js-rj-0-0");
    assert.equal(removePodNameSuffix("a-b-c-d"), undefined);
    assert.equal(removePodNameSuffix(""), undefined);
  });
  test("only exclusive-placement pods are indexed", () => {
    assert.deepEqual(podNameIndexKeys(pod("js-rj-0-0-abcde")), ["js-rj-0-0"]);
    assert.deepEqual(podNameIndexKeys(pod("js-rj-0-0-abcde", { exclusive: false })), []);
    assert.deepEqual(podJobKeyIndexKeys(pod("js-rj-0-0-abcde", { jobKey: "k" })), ["k"]);
    assert.deepEqual(podJobKeyIndexKeys(pod("js-rj-0-0-abcde", { exclusive: false })), []);
    const noKey = pod("x-y-z-0-0-a");
    delete noKey.metadata?.labels?.[Labels.JobKey];
    assert.deepEqual(podJobKeyIndexKeys(noKey), []);
  });
});

describe("leader lookup", () => {
  test("leader name from labels; missing labels in order", () => {
    assert.deepEqual(leaderPodName(pod("", { index: "1" })), { name: "js-rj-0-0" });
    for (const key of [Labels.JobSetName, Labels.ReplicatedJobName, Labels.JobIndex]) {
      const p = pod("", { index: "1" });
      delete p.metadata?.labels?.[key];
      assert.deepEqual(leaderPodName(p), { error: `pod missing label: ${key}` });
    }
  });
  const follower = pod("", { index: "1", owner: "u1" });
  const cases: { name: string; candidates: Pod[]; want: string | "leader" }[] = [
    {
      name: "no leader",
      candidates: [],
      want: "expected 1 leader pod (js-rj-0-0), but got 0. this is an expected, transient error",
    },
    {
      name: "two leaders",
      candidates: [pod("js-rj-0-0-aaaaa", { owner: "u1" }), pod("js-rj-0-0-bbbbb", { owner: "u1" })],
      want: "expected 1 leader pod (js-rj-0-0), but got 2. this is an expected, transient error",
    },
    {
      name: "deleting and finished pods are ignored",
      candidates: [
        pod("js-rj-0-0-aaaaa", { owner: "u1", deleting: true }),
        pod("js-rj-0-0-bbbbb", { owner: "u1", phase: "Failed" }),
        pod("js-rj-0-0-ccccc", { owner: "u1", phase: "Succeeded" }),
        pod("js-rj-0-0-ddddd", { owner: "u1", phase: "Running" }),
      ],
      want: "leader",
    },
    {
      name: "leader without owner",
      candidates: [pod("js-rj-0-0-aaaaa")],
      want: 'leader pod "js-rj-0-0-aaaaa" has no owner reference',
    },
    {
      name: "different owners",
      candidates: [pod("js-rj-0-0-aaaaa", { owner: "u2" })],
      want: "follower pod owner UID (u1) != leader pod owner UID (u2)",
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = selectLeader(follower, "js-rj-0-0", c.candidates);
      if (c.want === "leader") assert.ok("leader" in r);
      else assert.deepEqual(r, { error: c.want });
    });
  }
  test("follower without owner", () => {
    assert.deepEqual(selectLeader(pod("", { index: "1" }), "js-rj-0-0", [pod("js-rj-0-0-a", { owner: "u1" })]), {
      error: "follower pod has no owner reference",
    });
  });
});

describe("pod controller event filter", () => {
  const cases: [string, Pod, boolean][] = [
    ["scheduled leader", pod("js-rj-0-0-a", { index: "0", nodeName: "n1" }), true],
    ["unscheduled leader", pod("js-rj-0-0-a", { index: "0" }), false],
    ["follower", pod("js-rj-0-1-a", { index: "1", nodeName: "n1" }), false],
    ["no exclusive annotation", pod("js-rj-0-0-a", { index: "0", nodeName: "n1", exclusive: false }), false],
    ["deleting", pod("js-rj-0-0-a", { index: "0", nodeName: "n1", deleting: true }), false],
    [
      "node-selector strategy (deviation §10.3.2)",
      pod("js-rj-0-0-a", { index: "0", nodeName: "n1", nodeSelectorStrategy: true }),
      false,
    ],
  ];
  for (const [name, p, want] of cases) test(name, () => assert.equal(shouldReconcileLeader(p), want));
});

describe("planPlacement", () => {
  const leader = pod("js-rj-0-0-aaaaa", { index: "0", owner: "u1", nodeName: "n1" });
  const f = (name: string, sel?: Record<string, string>, owner = "u1", extra: Parameters<typeof pod>[1] = {}) =>
    pod(name, { index: "1", owner, ...(sel ? { nodeSelector: sel } : {}), ...extra });
  const n1 = node("n1", { [K]: "pool-a" });

  test("all followers in the leader's domain: valid", () => {
    const plan = planPlacement({
      leader,
      jobPods: [leader, f("js-rj-0-1-b", { [K]: "pool-a" })],
      leaderNode: n1,
      now: NOW,
    });
    assert.deepEqual(plan, { kind: "valid" });
  });
  test("leader without job-key label", () => {
    const l = structuredClone(leader);
    delete l.metadata?.labels?.[Labels.JobKey];
    assert.deepEqual(planPlacement({ leader: l, jobPods: [], leaderNode: n1, now: NOW }), {
      kind: "error",
      message: 'job key label not found on leader pod: "js-rj-0-0-aaaaa"',
    });
  });
  test("leader without controller owner", () => {
    const l = pod("js-rj-0-0-aaaaa", { index: "0", nodeName: "n1" });
    assert.deepEqual(planPlacement({ leader: l, jobPods: [], leaderNode: n1, now: NOW }), {
      kind: "error",
      message: 'leader pod "js-rj-0-0-aaaaa" has no controller owner',
    });
  });
  test("node without the topology label", () => {
    assert.deepEqual(planPlacement({ leader, jobPods: [], leaderNode: node("n1", {}), now: NOW }), {
      kind: "error",
      message: `node does not have topology label: ${K}`,
    });
  });
  test("node not found and a follower mismatch: error, no deletion", () => {
    assert.deepEqual(
      planPlacement({ leader, jobPods: [leader, f("js-rj-0-1-b", { [K]: "pool-a" })], leaderNode: null, now: NOW }),
      {
        kind: "error",
        message: "leader topology is unknown (node not found)",
      },
    );
  });
  test("node not found and no followers: valid", () => {
    assert.deepEqual(planPlacement({ leader, jobPods: [leader], leaderNode: null, now: NOW }), { kind: "valid" });
  });
  for (const [name, follower] of [
    ["wrong domain", f("js-rj-0-1-b", { [K]: "pool-b" })],
    ["no nodeSelector", f("js-rj-0-1-b")],
    ["nodeSelector without the key", f("js-rj-0-1-b", { other: "x" })],
  ] as const) {
    test(`mismatch (${name}): every follower of the same owner is marked and deleted`, () => {
      const good = f("js-rj-0-2-c", { [K]: "pool-a" });
      const foreign = f("js-rj-0-3-d", { [K]: "pool-z" }, "u9");
      const plan = planPlacement({ leader, jobPods: [leader, follower, good, foreign], leaderNode: n1, now: NOW });
      assert.equal(plan.kind, "evict");
      if (plan.kind !== "evict") return;
      assert.deepEqual(
        plan.evictions.map((e) => e.pod.metadata?.name),
        ["js-rj-0-1-b", "js-rj-0-2-c"],
      );
      for (const e of plan.evictions) {
        assert.deepEqual(e.statusUpdate?.status?.conditions, [
          {
            type: "DisruptionTarget",
            status: "True",
            reason: "ExclusivePlacementViolation",
            message: "Pod violated JobSet exclusive placement policy",
            lastTransitionTime: NOW,
          },
        ]);
      }
    });
  }
  test("pods already carrying DisruptionTarget=True get no status update", () => {
    const marked = f("js-rj-0-1-b", { [K]: "pool-b" }, "u1", {
      conditions: [{ type: "DisruptionTarget", status: "True", reason: "x", message: "y" }],
    });
    const plan = planPlacement({ leader, jobPods: [leader, marked], leaderNode: n1, now: NOW });
    assert.equal(plan.kind, "evict");
    if (plan.kind === "evict") assert.equal(plan.evictions[0]?.statusUpdate, undefined);
  });
});

describe("withPodCondition (upstream updatePodCondition)", () => {
  const c = { type: "DisruptionTarget", status: "True", reason: "r", message: "m", lastTransitionTime: NOW };
  test("appends when absent", () => {
    assert.deepEqual(withPodCondition(pod("p"), c)?.status?.conditions, [c]);
  });
  test("replaces a different status", () => {
    const p = pod("p", {
      conditions: [
        { type: "Ready", status: "True" },
        { type: "DisruptionTarget", status: "False" },
      ],
    });
    assert.deepEqual(withPodCondition(p, c)?.status?.conditions, [{ type: "Ready", status: "True" }, c]);
    assert.deepEqual(p.status?.conditions?.[1], { type: "DisruptionTarget", status: "False" }, "input untouched");
  });
  test("same status: no change", () => {
    assert.equal(
      withPodCondition(pod("p", { conditions: [{ type: "DisruptionTarget", status: "True" }] }), c),
      undefined,
    );
  });
  test("a False condition is never added", () => {
    assert.equal(withPodCondition(pod("p"), { ...c, status: "False" }), undefined);
  });
});
