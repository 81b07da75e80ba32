import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type AgentState,
  applyStep,
  attemptApplyBody,
  bypassesBarrier,
  initialAgentState,
  nextStep,
  workerExitCode,
} from "../../src/agent/reconcile.ts";
import type { Pod } from "../../src/api/k8s.ts";
import type { JobSet, JobSetStatus } from "../../src/api/types.ts";
import { newStatusUpdate } from "../../src/controller/conditions.ts";
import { reconcileInPlaceRestart } from "../../src/controller/in-place-restart.ts";
import { jobSet, rjob } from "../builders.ts";

const ATTEMPT = "jobset.sigs.k8s.io/in-place-restart-attempt";

function js(
  status: JobSetStatus = {},
  opts: { strategy?: string; noPolicy?: boolean; disable?: boolean } = {},
): JobSet {
  const b = jobSet("js").replicatedJob(rjob("w").replicas(2).parallelism(2).completions(2));
  if (!opts.noPolicy)
    b.failurePolicy({ maxRestarts: 3, restartStrategy: (opts.strategy ?? "InPlaceRestart") as "InPlaceRestart" });
  const o = b.obj();
  if (opts.disable) o.metadata = { ...o.metadata, annotations: { "jobset.sigs.k8s.io/disable-in-place-restart": "" } };
  o.status = status;
  return o;
}
const st = (podAttempt: number | undefined, barrierActive = true): AgentState => ({ podAttempt, barrierActive });

describe("agent reconcile (§8.2)", () => {
  test("JobSet not found: nothing", () => {
    assert.equal(nextStep(initialAgentState(), undefined), undefined);
  });

  test("bypass: disable annotation (any value), no failure policy, other strategy → lift once", () => {
    for (const j of [js({}, { disable: true }), js({}, { noPolicy: true }), js({}, { strategy: "Recreate" })]) {
      assert.equal(bypassesBarrier(j), true);
      assert.deepEqual(nextStep(initialAgentState(), j), { kind: "lift", reason: "bypass" });
      assert.equal(nextStep(st(undefined, false), j), undefined);
    }
    assert.equal(bypassesBarrier(js()), false);
  });

  test("startup: annotate 0 when current is unset, current + 1 otherwise", () => {
    assert.deepEqual(nextStep(initialAgentState(), js()), { kind: "annotate", attempt: 0 });
    assert.deepEqual(nextStep(initialAgentState(), js({ currentInPlaceRestartAttempt: 4 })), {
      kind: "annotate",
      attempt: 5,
    });
  });

  test("restart when the pod's attempt is at or below previous", () => {
    assert.deepEqual(nextStep(st(0), js({ previousInPlaceRestartAttempt: 0, currentInPlaceRestartAttempt: 0 })), {
      kind: "restart",
      podAttempt: 0,
      previous: 0,
    });
    assert.deepEqual(nextStep(st(1, false), js({ previousInPlaceRestartAttempt: 2 })), {
      kind: "restart",
      podAttempt: 1,
      previous: 2,
    });
    assert.equal(
      nextStep(st(1, false), js({ previousInPlaceRestartAttempt: 0, currentInPlaceRestartAttempt: 1 })),
      undefined,
    );
  });

  test("lift when the pod's attempt equals current; wait otherwise; only once", () => {
    assert.deepEqual(nextStep(st(0), js({ currentInPlaceRestartAttempt: 0 })), { kind: "lift", reason: "synced" });
    assert.equal(nextStep(st(1), js({ currentInPlaceRestartAttempt: 0, previousInPlaceRestartAttempt: 0 })), undefined);
    assert.equal(nextStep(st(0), js({})), undefined);
    assert.equal(nextStep(st(0, false), js({ currentInPlaceRestartAttempt: 0 })), undefined);
  });

  test("applyStep: annotate remembers the attempt, lift clears the barrier", () => {
    const s = applyStep(initialAgentState(), { kind: "annotate", attempt: 3 });
    assert.deepEqual(s, { podAttempt: 3, barrierActive: true });
    assert.deepEqual(applyStep(s, { kind: "lift", reason: "synced" }), { podAttempt: 3, barrierActive: false });
  });

  test("the apply body holds only the pod's identity and the one annotation", () => {
    assert.deepEqual(attemptApplyBody("ns", "p", 2), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "ns", annotations: { [ATTEMPT]: "2" } },
    });
  });

  test("worker exit code: its own code; 1 for a start error or a signal", () => {
    assert.equal(workerExitCode({ code: 0, signal: null }), 0);
    assert.equal(workerExitCode({ code: 3, signal: null }), 3);
    assert.equal(workerExitCode({ code: null, signal: "SIGKILL" }), 1);
    assert.equal(workerExitCode({ code: null, signal: null, error: new Error("ENOENT") }), 1);
  });
});

// The §8.3 sequence with the controller's real §8.1 logic and N agents, each a state + its pod's annotation.
describe("agents and controller together (§8.3)", () => {
  interface Worker {
    state: AgentState;
    pod: Pod;
    restarts: number;
    lifted: number;
  }
  const N = 4;
  const spec = js();
  let status: JobSetStatus;
  let workers: Worker[];

  const controller = () => {
    const u = newStatusUpdate(status, new Date(0));
    const r = reconcileInPlaceRestart(
      spec,
      workers.map((w) => w.pod),
      u,
    );
    assert.equal(r.ok, true);
    status = u.status;
  };
  /** Runs every agent to quiescence against the current status; a "restart" restarts that agent. */
  const agents = () => {
    const j = { ...spec, status };
    for (const w of workers) {
      for (let step = nextStep(w.state, j); step; step = nextStep(w.state, j)) {
        if (step.kind === "restart") {
          w.restarts++;
          w.state = initialAgentState();
          w.pod.status = {
            phase: "Running",
            containerStatuses: [{ name: "a", image: "", imageID: "", ready: true, restartCount: w.restarts }],
          };
          continue;
        }
        if (step.kind === "annotate")
          w.pod.metadata = { ...w.pod.metadata, annotations: { [ATTEMPT]: String(step.attempt) } };
        if (step.kind === "lift") w.lifted++;
        w.state = applyStep(w.state, step);
      }
    }
  };
  const settle = () => {
    for (let i = 0; i < 10; i++) {
      agents();
      controller();
    }
  };

  test("start, one failure, everyone restarts once, barrier lifts at the next attempt", () => {
    status = { restarts: 0 };
    workers = Array.from({ length: N }, (_, i) => ({
      state: initialAgentState(),
      pod: { metadata: { name: `p${i}` }, status: { phase: "Running" } },
      restarts: 0,
      lifted: 0,
    }));
    settle();
    assert.equal(status.currentInPlaceRestartAttempt, 0);
    assert.equal(status.previousInPlaceRestartAttempt, undefined);
    assert.deepEqual(
      workers.map((w) => w.lifted),
      [1, 1, 1, 1],
    );

    // worker 2 fails: its container restarts in place and a new agent starts
    const failed = workers[2] as Worker;
    failed.restarts++;
    failed.state = initialAgentState();
    settle();
    assert.equal(status.currentInPlaceRestartAttempt, 1);
    assert.equal(status.previousInPlaceRestartAttempt, 0);
    assert.deepEqual(
      workers.map((w) => w.restarts),
      [1, 1, 1, 1],
      "every pod restarted exactly once",
    );
    assert.deepEqual(
      workers.map((w) => w.lifted),
      [2, 2, 2, 2],
    );
    assert.deepEqual(
      workers.map((w) => w.pod.metadata?.annotations?.[ATTEMPT]),
      ["1", "1", "1", "1"],
    );
    assert.equal(
      status.conditions?.find((c) => c.type === "Failed"),
      undefined,
    );
  });
});
