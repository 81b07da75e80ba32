// The gang views of `jobset tree`, `describe` and `run`: PodGroup state and pod counts from the
// PodGroup's condition and the pods' PodScheduled conditions (messages as kube-scheduler v1.36 writes them).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Pod } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { withScheduling } from "../../src/cli/describe.ts";
import {
  blockedLine,
  describeGang,
  type GangObjects,
  GangReporter,
  gangView,
  renderGangTree,
} from "../../src/cli/gang-status.ts";
import { plainStyle } from "../../src/cli/render.ts";
import type { PodGroup } from "../../src/controller/scheduling.ts";

const PermitWait = "pod group is unschedulable, waiting for minCount pods from a gang to be scheduled";
const FitError = "0/4 nodes are available: 4 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.";
const GroupMessage = "0/1 placements are available, first placement status: pod group is unschedulable";

const js: JobSet = {
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { name: "gang", namespace: "ns", uid: "js-uid" },
  spec: { replicatedJobs: [], scheduling: { schedulingPolicy: { gang: {} } } },
};

function podGroup(name: string, scheduled?: { status: "True" | "False"; reason: string; message: string }): PodGroup {
  return {
    metadata: {
      name,
      namespace: "ns",
      ownerReferences: [{ apiVersion: "x", kind: "JobSet", name: "gang", uid: "js-uid", controller: true }],
    },
    spec: {
      schedulingPolicy: { gang: { minCount: 8 } },
      schedulingConstraints: { topology: [{ key: "topology.kubernetes.io/rack" }] },
    },
    ...(scheduled ? { status: { conditions: [{ type: "PodGroupScheduled", ...scheduled }] } } : {}),
  };
}

function pod(name: string, group: string, o: { node?: string; message?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name, namespace: "ns", ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: {
      containers: [{ name: "c", image: "i" }],
      schedulingGroup: { podGroupName: group },
      ...(o.node ? { nodeName: o.node } : {}),
    },
    ...(o.message
      ? {
          status: {
            phase: "Pending",
            conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: o.message }],
          },
        }
      : {}),
  };
}

/** 8 pods of group `g`: 6 waiting at Permit (they fit), 2 with a fit error. */
const sixOfEight = (g: string) =>
  Array.from({ length: 8 }, (_, i) => pod(`p${i}`, g, { message: i < 6 ? PermitWait : FitError }));

const blocked: GangObjects = {
  served: true,
  workload: { metadata: { name: "gang-abc" } },
  podGroups: [podGroup("gang-abc", { status: "False", reason: "Unschedulable", message: GroupMessage })],
};

describe("gang status views", () => {
  test("an unschedulable gang: 6 of 8 placeable, none bound, the scheduler's reasons", () => {
    const v = gangView(blocked, sixOfEight("gang-abc"));
    assert.deepEqual(v.podGroups, [
      {
        name: "gang-abc",
        policy: "gang",
        minCount: 8,
        topology: ["topology.kubernetes.io/rack"],
        state: "Unschedulable",
        message: GroupMessage,
        pods: 8,
        bound: 0,
        placeable: 6,
        fitError: FitError,
      },
    ]);
    assert.deepEqual(renderGangTree(v, plainStyle), [
      "Workload gang-abc",
      "└─ PodGroup gang-abc  Unschedulable  gang minCount 8, one topology.kubernetes.io/rack domain; 6 of 8 pods placeable, 0 bound",
      `   ${GroupMessage}`,
    ]);
    const pg = v.podGroups[0];
    assert.ok(pg);
    assert.equal(
      blockedLine(pg),
      `PodGroup gang-abc cannot be placed: 6 of 8 pods placeable (gang minCount 8, one topology.kubernetes.io/rack domain) — ${GroupMessage}; a pod that does not fit: ${FitError.slice(0, -1)}. The scheduler binds none until all fit; it retries when nodes or pods change`,
    );
  });

  test("a scheduled gang: bound counts, no message line; terminating pods are not counted", () => {
    const g: GangObjects = {
      served: true,
      workload: { metadata: { name: "gang-abc" } },
      podGroups: [
        podGroup("b", { status: "True", reason: "Scheduled", message: "" }),
        podGroup("a", { status: "True", reason: "Scheduled", message: "" }),
      ],
    };
    const pods = [
      pod("a0", "a", { node: "n0" }),
      pod("a1", "a", { node: "n1" }),
      pod("a2", "a", { node: "n1", deleting: true }),
      pod("b0", "b", { node: "n2" }),
    ];
    const v = gangView(g, pods);
    assert.deepEqual(
      v.podGroups.map((x) => [x.name, x.state, x.pods, x.bound]),
      [
        ["a", "Scheduled", 2, 2],
        ["b", "Scheduled", 1, 1],
      ],
    );
    assert.deepEqual(renderGangTree(v, plainStyle), [
      "Workload gang-abc",
      "├─ PodGroup a  Scheduled  gang minCount 8, one topology.kubernetes.io/rack domain; 2/2 pods bound",
      "└─ PodGroup b  Scheduled  gang minCount 8, one topology.kubernetes.io/rack domain; 1/1 pods bound",
    ]);
    for (const x of v.podGroups) assert.equal(blockedLine(x), undefined);
  });

  test("a group placed before whose new attempt does not fit (PodGroupScheduled stays True) is Unschedulable", () => {
    const g: GangObjects = {
      served: true,
      podGroups: [podGroup("a", { status: "True", reason: "Scheduled", message: "" })],
    };
    const v = gangView(g, sixOfEight("a"));
    assert.equal(v.podGroups[0]?.state, "Unschedulable");
    assert.equal(v.podGroups[0]?.placeable, 6);
    assert.match(
      blockedLine(v.podGroups[0] ?? ({} as never)) ?? "",
      /^PodGroup a cannot be placed: 6 of 8 pods placeable/,
    );
  });

  test("no condition yet: Waiting; not served; unreadable", () => {
    const v = gangView({ served: true, podGroups: [podGroup("a")] }, [pod("p", "a")]);
    assert.equal(v.podGroups[0]?.state, "Waiting");
    assert.deepEqual(renderGangTree(gangView({ served: false, podGroups: [] }, []), plainStyle), [
      "Scheduling: the cluster does not serve scheduling.k8s.io/v1alpha2 (no gang)",
    ]);
    assert.deepEqual(describeGang(gangView({ served: true, podGroups: [], error: "forbidden" }, [])), [
      "Scheduling:",
      "  cannot read the Workload and PodGroups: forbidden",
    ]);
    assert.deepEqual(renderGangTree(gangView({ served: true, podGroups: [] }, []), plainStyle), [
      "Workload (none yet)",
      "└─ (no PodGroups yet)",
    ]);
  });

  test("describe: a Scheduling section before Events", () => {
    const lines = describeGang(gangView(blocked, sixOfEight("gang-abc")));
    assert.deepEqual(lines.slice(0, 3), ["Scheduling:", "  Workload:               gang-abc", "  PodGroups:"]);
    assert.match(lines[3] ?? "", /^ {4}NAME +STATE +POLICY +TOPOLOGY +PODS +BOUND +PLACEABLE +MESSAGE$/);
    assert.match(
      lines[4] ?? "",
      /^ {4}gang-abc +Unschedulable +gang\(8\) +topology\.kubernetes\.io\/rack +8 +0 +6 +0\/1 placements are available/,
    );
    assert.deepEqual(withScheduling(["Name: x", "Events:", "  <none>"], ["Scheduling:", "  s"]), [
      "Name: x",
      "Scheduling:",
      "  s",
      "Events:",
      "  <none>",
    ]);
    assert.deepEqual(withScheduling(["Name: x"], undefined), ["Name: x"]);
  });

  test("run: one line when a gang cannot be placed, again only when it changes, one when it got placed", () => {
    const r = new GangReporter(undefined as never, () => {});
    const first = r.changes(js, gangView(blocked, sixOfEight("gang-abc")));
    assert.equal(first.length, 1);
    assert.match(first[0] ?? "", /^jobset gang: PodGroup gang-abc cannot be placed: 6 of 8 pods placeable/);
    assert.deepEqual(r.changes(js, gangView(blocked, sixOfEight("gang-abc"))), []);
    const five = sixOfEight("gang-abc").map((p, i) => (i === 5 ? pod("p5", "gang-abc", { message: FitError }) : p));
    assert.match(r.changes(js, gangView(blocked, five))[0] ?? "", /5 of 8 pods placeable/);
    const placed: GangObjects = {
      served: true,
      podGroups: [podGroup("gang-abc", { status: "True", reason: "Scheduled", message: "" })],
    };
    const bound = Array.from({ length: 8 }, (_, i) => pod(`p${i}`, "gang-abc", { node: `n${i % 4}` }));
    assert.deepEqual(r.changes(js, gangView(placed, bound)), ["jobset gang: PodGroup gang-abc placed: 8/8 pods bound"]);
    assert.deepEqual(r.changes(js, gangView(placed, bound)), []);
    // A gang placed at once was never blocked: nothing to say.
    assert.deepEqual(new GangReporter(undefined as never, () => {}).changes(js, gangView(placed, bound)), []);
  });
});
