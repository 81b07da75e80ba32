import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Container, Pod } from "../../src/api/k8s.ts";
import {
  AllContainersRestarting,
  adoptPodModel,
  exitAction,
  hasRestartAllRule,
  killPod,
  microTime,
  newPodModel,
  nodeBody,
  podStatusPatch,
  resetForRestartAll,
  restartInPlace,
  runAgain,
  terminalPhase,
  terminate,
  waitToRestart,
} from "../../src/local/kubelet-status.ts";

const T0 = "2026-01-01T00:00:00.000Z";
const T1 = "2026-01-01T00:00:05.000Z";
const T2 = "2026-01-01T00:00:09.000Z";
const ips = { podIP: "127.244.0.7", hostIP: "127.0.0.1" };

type Status = {
  phase: string;
  conditions: { type: string; status: string; reason?: string; message?: string; lastTransitionTime: string }[];
  containerStatuses: {
    name: string;
    ready: boolean;
    started: boolean;
    restartCount: number;
    containerID?: string;
    state: Record<string, Record<string, unknown>>;
    lastState?: Record<string, Record<string, unknown>>;
  }[];
  initContainerStatuses?: Status["containerStatuses"];
  [k: string]: unknown;
};
const status = (m: ReturnType<typeof newPodModel>, pod: Pod, now: string) =>
  podStatusPatch(m, pod, now).status as Status;
const cond = (s: Status, type: string) => s.conditions.find((c) => c.type === type);

const pod = (over: Partial<NonNullable<Pod["spec"]>> = {}): Pod => ({
  metadata: { name: "p", namespace: "ns", uid: "uid-1" },
  spec: { containers: [{ name: "main", image: "busybox" }], restartPolicy: "Never", ...over },
});

describe("nodeBody", () => {
  test("labels, hostname always the name, capacity, Ready, addresses", () => {
    const b = nodeBody(
      { zone: "z1", pool: "p1", rack: "r1", labels: { x: "y", "kubernetes.io/hostname": "wrong" } },
      2,
      T0,
    );
    assert.equal(b.metadata.name, "fake-node-2");
    assert.equal(b.metadata.labels["kubernetes.io/hostname"], "fake-node-2");
    assert.equal(b.metadata.labels["topology.kubernetes.io/zone"], "z1");
    assert.equal(b.metadata.labels["cloud.google.com/gke-nodepool"], "p1");
    assert.equal(b.metadata.labels["fake.jobset.x-k8s.io/rack"], "r1");
    assert.equal(b.metadata.labels.x, "y");
    assert.deepEqual(b.status.capacity, { cpu: "64", memory: "256Gi", pods: "110", "ephemeral-storage": "1Ti" });
    assert.deepEqual(b.status.allocatable, b.status.capacity);
    const ready = b.status.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "True");
    assert.equal(ready?.lastHeartbeatTime, T0);
    assert.deepEqual(b.status.addresses, [
      { type: "InternalIP", address: "127.0.0.1" },
      { type: "Hostname", address: "fake-node-2" },
    ]);
    assert.deepEqual(b.status.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
    assert.deepEqual(
      b.status.declaredFeatures,
      ["RestartAllContainersOnContainerExits"],
      "what the kubelet implements",
    );
    assert.equal(b.spec.taints, undefined);
  });
  test("name, capacity, allocatable, taints, not ready", () => {
    const b = nodeBody(
      {
        name: "n",
        cpu: "8",
        pods: 20,
        capacity: { "nvidia.com/gpu": "4" },
        allocatable: { cpu: "7" },
        taints: [{ key: "k", value: "v", effect: "NoSchedule" }],
        ready: false,
      },
      0,
      T0,
      { kubeletPort: 34567 },
    );
    assert.equal(b.metadata.name, "n");
    assert.equal(b.status.capacity?.cpu, "8");
    assert.equal(b.status.capacity?.pods, "20");
    assert.equal(b.status.capacity?.["nvidia.com/gpu"], "4");
    assert.equal(b.status.allocatable?.cpu, "7");
    assert.equal(b.status.allocatable?.["nvidia.com/gpu"], "4");
    assert.deepEqual(b.spec.taints, [{ key: "k", value: "v", effect: "NoSchedule" }]);
    assert.equal(b.status.conditions?.find((c) => c.type === "Ready")?.status, "False");
    assert.equal(b.status.addresses?.[0]?.address, "127.0.0.1");
    assert.deepEqual(b.status.daemonEndpoints, { kubeletEndpoint: { Port: 34567 } });
  });
  test("microTime has 6 fractional digits", () =>
    assert.equal(microTime(new Date("2026-01-01T00:00:00.123Z")), "2026-01-01T00:00:00.123000Z"));
});

describe("pod status", () => {
  test("start: Running, IPs, containers running, conditions; Ready follows container readiness", () => {
    const p = pod();
    const m = newPodModel(p, ips, T0);
    let s = status(m, p, T0);
    assert.equal(s.phase, "Running");
    assert.equal(s.podIP, "127.244.0.7");
    assert.deepEqual(s.podIPs, [{ ip: "127.244.0.7" }]);
    assert.equal(s.hostIP, "127.0.0.1");
    assert.deepEqual(s.hostIPs, [{ ip: "127.0.0.1" }]);
    assert.equal(s.startTime, T0);
    assert.deepEqual(s.containerStatuses[0]?.state, { running: { startedAt: T0 } });
    assert.equal(s.containerStatuses[0]?.started, true);
    assert.equal(s.containerStatuses[0]?.containerID, "fake://uid-1/main/0");
    assert.equal(s.initContainerStatuses, undefined);
    assert.equal(cond(s, "PodReadyToStartContainers")?.status, "True");
    assert.equal(cond(s, "Initialized")?.status, "True");
    assert.equal(cond(s, "Ready")?.status, "False");
    assert.equal(cond(s, "Ready")?.message, "containers with unready status: [main]");
    assert.equal(cond(s, "PodScheduled"), undefined, "the scheduler's condition is left alone");
    m.containers[0]!.ready = true;
    s = status(m, p, T1);
    assert.equal(cond(s, "Ready")?.status, "True");
    assert.equal(cond(s, "Ready")?.lastTransitionTime, T1);
    assert.equal(cond(s, "Initialized")?.lastTransitionTime, T0, "unchanged conditions keep their transition time");
    assert.equal(s.containerStatuses[0]?.ready, true);
  });

  test("init containers completed, sidecars running and counted for readiness", () => {
    const p = pod({
      initContainers: [
        { name: "setup", image: "i" },
        { name: "proxy", image: "i", restartPolicy: "Always" },
      ],
    });
    const m = newPodModel(p, ips, T0);
    m.containers[0]!.ready = true;
    let s = status(m, p, T0);
    assert.deepEqual(s.initContainerStatuses?.[0]?.state, {
      terminated: {
        exitCode: 0,
        reason: "Completed",
        startedAt: T0,
        finishedAt: T0,
        containerID: "fake://uid-1/setup/0",
      },
    });
    assert.deepEqual(s.initContainerStatuses?.[1]?.state, { running: { startedAt: T0 } });
    assert.equal(cond(s, "Ready")?.status, "False");
    assert.equal(cond(s, "ContainersReady")?.message, "containers with unready status: [proxy]");
    m.init[1]!.ready = true;
    s = status(m, p, T0);
    assert.equal(cond(s, "Ready")?.status, "True");
  });

  test("not yet initialized (exec runtime running init containers): Pending, main waiting", () => {
    const p = pod({ initContainers: [{ name: "setup", image: "i" }] });
    const m = newPodModel(p, ips, T0, false);
    const s = status(m, p, T0);
    assert.deepEqual(s.initContainerStatuses?.[0]?.state, { waiting: { reason: "PodInitializing" } });
    assert.equal(s.phase, "Pending");
    assert.equal(cond(s, "Initialized")?.status, "False");
    assert.equal(cond(s, "Initialized")?.message, "containers with incomplete status: [setup]");
    assert.deepEqual(s.containerStatuses[0]?.state, { waiting: { reason: "PodInitializing" } });
    assert.equal(s.containerStatuses[0]?.containerID, undefined);
  });

  test("finish: terminated states, phase, Ready False with PodCompleted/PodFailed", () => {
    for (const [code, phase, reason, termReason] of [
      [0, "Succeeded", "PodCompleted", "Completed"],
      [3, "Failed", "PodFailed", "Error"],
    ] as const) {
      const p = pod({ containers: [{ name: "a" }, { name: "b" }] });
      const m = newPodModel(p, ips, T0);
      terminate(m.containers[0]!, 0, T1);
      assert.equal(terminalPhase(m), undefined);
      terminate(m.containers[1]!, code, T2);
      const ph = terminalPhase(m);
      assert.equal(ph, phase);
      m.phase = ph!;
      const s = status(m, p, T2);
      assert.equal(s.phase, phase);
      assert.deepEqual(s.containerStatuses[1]?.state, {
        terminated: {
          exitCode: code,
          reason: termReason,
          startedAt: T0,
          finishedAt: T2,
          containerID: "fake://uid-1/b/0",
        },
      });
      assert.equal(s.containerStatuses[1]?.ready, false);
      assert.equal(s.containerStatuses[1]?.started, false);
      assert.equal(cond(s, "Ready")?.reason, reason);
      assert.equal(cond(s, "ContainersReady")?.reason, reason);
      assert.equal(cond(s, "PodReadyToStartContainers")?.status, "False");
    }
  });

  test("restart in place: Running, restartCount up, lastState terminated, never terminated→running", () => {
    const p = pod({ restartPolicy: "OnFailure" });
    const m = newPodModel(p, ips, T0);
    restartInPlace(m.containers[0]!, 2, T1);
    const s = status(m, p, T1);
    assert.equal(s.phase, "Running");
    assert.equal(s.containerStatuses[0]?.restartCount, 1);
    assert.deepEqual(s.containerStatuses[0]?.state, { running: { startedAt: T1 } });
    assert.deepEqual(s.containerStatuses[0]?.lastState, {
      terminated: { exitCode: 2, reason: "Error", startedAt: T0, finishedAt: T1 },
    });
    assert.equal(s.containerStatuses[0]?.containerID, "fake://uid-1/main/1");
  });

  test("restart after back-off: waiting CrashLoopBackOff with lastState, then running with restartCount up", () => {
    const p = pod({ restartPolicy: "OnFailure" });
    const m = newPodModel(p, ips, T0);
    const c = m.containers[0]!;
    c.ready = true;
    waitToRestart(c, 3, T1, "back-off 200ms restarting failed container=main pod=p_ns(uid-1)");
    let s = status(m, p, T1);
    assert.equal(s.phase, "Running");
    assert.equal(s.containerStatuses[0]?.restartCount, 0);
    assert.equal(s.containerStatuses[0]?.ready, false);
    assert.equal(s.containerStatuses[0]?.started, false);
    assert.deepEqual(s.containerStatuses[0]?.state, {
      waiting: {
        reason: "CrashLoopBackOff",
        message: "back-off 200ms restarting failed container=main pod=p_ns(uid-1)",
      },
    });
    assert.deepEqual(s.containerStatuses[0]?.lastState, {
      terminated: { exitCode: 3, reason: "Error", startedAt: T0, finishedAt: T1 },
    });
    assert.equal(cond(s, "Ready")?.status, "False");
    assert.equal(terminalPhase(m), undefined, "a container waiting to restart keeps the pod running");
    runAgain(c, T2);
    s = status(m, p, T2);
    assert.equal(s.containerStatuses[0]?.restartCount, 1);
    assert.deepEqual(s.containerStatuses[0]?.state, { running: { startedAt: T2 } });
    assert.equal(s.containerStatuses[0]?.lastState?.terminated?.finishedAt, T1);
  });

  test("a restarted kubelet adopts a container waiting in CrashLoopBackOff as restarted now", () => {
    const p: Pod = {
      ...pod({ restartPolicy: "OnFailure" }),
      status: {
        phase: "Running",
        startTime: T0,
        podIP: ips.podIP,
        hostIP: ips.hostIP,
        containerStatuses: [
          {
            name: "main",
            image: "busybox",
            imageID: "",
            ready: false,
            restartCount: 2,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 1, startedAt: T0, finishedAt: T1 } },
          },
        ],
      },
    };
    const m = adoptPodModel(p, ips, T2);
    assert.equal(m.containers[0]?.restartCount, 3);
    assert.deepEqual(m.containers[0]?.state, { running: { startedAt: T2 } });
    assert.equal(m.containers[0]?.lastTerminated?.exitCode, 1);
  });

  // [container kind, restartPolicy, exit code, restarts in place?] — ValidateContainerStateTransition.
  const restartTable: ["main" | "init" | "sidecar", string | undefined, number, boolean][] = [
    ["main", "Never", 0, false],
    ["main", "Never", 1, false],
    ["main", "OnFailure", 0, false],
    ["main", "OnFailure", 1, true],
    ["main", "Always", 0, true],
    ["main", undefined, 0, true],
    ["init", "OnFailure", 1, true],
    ["init", "OnFailure", 0, false],
    ["init", "Never", 1, false],
    ["init", "Always", 1, true],
    ["sidecar", "Never", 0, true],
  ];
  for (const [kind, policy, code, want] of restartTable)
    test(`exitAction ${kind} ${policy} exit ${code} → restart in place: ${want}`, () => {
      const c = { name: "c", image: "", kind, restartCount: 0, state: { running: { startedAt: T0 } }, ready: true };
      assert.equal(exitAction(c, { name: "c" }, policy, code) === "restart", want);
    });

  test("killPod: running containers end with 137, phase Failed, finished ones keep their state", () => {
    const p = pod({
      containers: [{ name: "a" }, { name: "b" }],
      initContainers: [{ name: "s", restartPolicy: "Always" }],
    });
    const m = newPodModel(p, ips, T0);
    terminate(m.containers[0]!, 0, T1);
    killPod(m, T2);
    const s = status(m, p, T2);
    assert.equal(s.phase, "Failed");
    assert.equal(s.containerStatuses[0]?.state.terminated?.exitCode, 0);
    assert.equal(s.containerStatuses[1]?.state.terminated?.exitCode, 137);
    assert.equal(s.containerStatuses[1]?.state.terminated?.reason, "Error");
    assert.equal(s.initContainerStatuses?.[0]?.state.terminated?.exitCode, 137);
    assert.equal(cond(s, "Ready")?.reason, "PodFailed");
  });

  test("readiness gates: Ready only when every gate condition is True", () => {
    const base = pod({ readinessGates: [{ conditionType: "example.com/gate" }] });
    const m = newPodModel(base, ips, T0);
    m.containers[0]!.ready = true;
    let s = status(m, base, T0);
    assert.equal(cond(s, "ContainersReady")?.status, "True");
    assert.equal(cond(s, "Ready")?.status, "False");
    assert.equal(cond(s, "Ready")?.reason, "ReadinessGatesNotReady");
    const gated: Pod = { ...base, status: { conditions: [{ type: "example.com/gate", status: "True" }] } };
    s = status(m, gated, T1);
    assert.equal(cond(s, "Ready")?.status, "True");
  });

  test("adopt: a restarted kubelet rebuilds the model from the status it published", () => {
    const p = pod({ restartPolicy: "OnFailure" });
    const m = newPodModel(p, ips, T0);
    restartInPlace(m.containers[0]!, 1, T1);
    m.containers[0]!.ready = true;
    const published = status(m, p, T1);
    const again = adoptPodModel(
      { ...p, status: published as NonNullable<Pod["status"]> },
      { podIP: "x", hostIP: "y" },
      T2,
    );
    assert.equal(again.podIP, "127.244.0.7");
    assert.equal(again.startTime, T0);
    assert.equal(again.containers[0]?.restartCount, 1);
    assert.equal(again.containers[0]?.ready, true);
    assert.deepEqual(again.containers[0]?.state, { running: { startedAt: T1 } });
    assert.equal(again.containers[0]?.lastTerminated?.exitCode, 1);
    assert.deepEqual(status(again, p, T2).conditions, published.conditions, "same conditions, same transition times");
  });

  describe("container restart rules (KEP-5307) and RestartAllContainers (KEP-5532)", () => {
    const model = (kind: "main" | "init" | "sidecar") => ({
      name: "c",
      image: "",
      kind,
      restartCount: 0,
      state: { running: { startedAt: T0 } },
      ready: true,
    });
    const restartAllNotIn0: NonNullable<Container["restartPolicyRules"]>[number] = {
      action: "RestartAllContainers",
      exitCodes: { operator: "NotIn", values: [0] },
    };
    // [kind, container spec, pod restartPolicy, exit code, action]
    const table: [string, "main" | "init" | "sidecar", Container, string | undefined, number, string][] = [
      [
        "worker fails: RestartAllContainers",
        "main",
        { name: "c", restartPolicy: "Never", restartPolicyRules: [restartAllNotIn0] },
        "Never",
        3,
        "restartAll",
      ],
      [
        "worker succeeds: no rule matches, Never",
        "main",
        { name: "c", restartPolicy: "Never", restartPolicyRules: [restartAllNotIn0] },
        "Never",
        0,
        "terminate",
      ],
      [
        "container policy overrides the pod's",
        "main",
        { name: "c", restartPolicy: "OnFailure" },
        "Never",
        1,
        "restart",
      ],
      ["container Never overrides pod Always", "main", { name: "c", restartPolicy: "Never" }, "Always", 1, "terminate"],
      [
        "Restart rule on a listed code",
        "main",
        {
          name: "c",
          restartPolicy: "Never",
          restartPolicyRules: [{ action: "Restart", exitCodes: { operator: "In", values: [42, 43] } }],
        },
        "Never",
        43,
        "restart",
      ],
      [
        "Restart rule, code not listed",
        "main",
        {
          name: "c",
          restartPolicy: "Never",
          restartPolicyRules: [{ action: "Restart", exitCodes: { operator: "In", values: [42] } }],
        },
        "Never",
        1,
        "terminate",
      ],
      [
        "first matching rule wins",
        "main",
        {
          name: "c",
          restartPolicy: "Never",
          restartPolicyRules: [{ action: "Restart", exitCodes: { operator: "In", values: [7] } }, restartAllNotIn0],
        },
        "Never",
        7,
        "restart",
      ],
      [
        "sidecar: the agent's restart code",
        "sidecar",
        {
          name: "c",
          restartPolicy: "Always",
          restartPolicyRules: [{ action: "RestartAllContainers", exitCodes: { operator: "In", values: [42] } }],
        },
        "Never",
        42,
        "restartAll",
      ],
      [
        "sidecar: another code restarts it alone",
        "sidecar",
        {
          name: "c",
          restartPolicy: "Always",
          restartPolicyRules: [{ action: "RestartAllContainers", exitCodes: { operator: "In", values: [42] } }],
        },
        "Never",
        1,
        "restart",
      ],
      [
        "init container: failure under a rule",
        "init",
        { name: "c", restartPolicy: "Never", restartPolicyRules: [restartAllNotIn0] },
        "Never",
        2,
        "restartAll",
      ],
      [
        "init container: success is done",
        "init",
        { name: "c", restartPolicyRules: [{ action: "Restart", exitCodes: { operator: "In", values: [0] } }] },
        "OnFailure",
        0,
        "terminate",
      ],
    ];
    for (const [what, kind, spec, policy, code, want] of table)
      test(`exitAction: ${what} → ${want}`, () => {
        assert.equal(exitAction(model(kind), spec, policy, code), want);
      });

    const rulePod = () =>
      pod({
        restartPolicy: "Never",
        initContainers: [{ name: "agent", restartPolicy: "Always" }, { name: "setup" }],
        containers: [{ name: "worker", restartPolicy: "Never", restartPolicyRules: [restartAllNotIn0] }],
      });

    test("AllContainersRestarting: published only for pods with a RestartAllContainers rule", () => {
      assert.equal(hasRestartAllRule(pod()), false);
      assert.equal(hasRestartAllRule(rulePod()), true);
      const plain = pod();
      assert.equal(
        status(newPodModel(plain, ips, T0), plain, T0).conditions.some((c) => c.type === AllContainersRestarting),
        false,
      );
    });

    test("AllContainersRestarting: False, True while the containers stop, False again; terminal reasons", () => {
      const p = rulePod();
      const m = newPodModel(p, ips, T0);
      const cond = (now: string) => status(m, p, now).conditions.find((c) => c.type === AllContainersRestarting);
      assert.deepEqual(cond(T0), { type: AllContainersRestarting, status: "False", lastTransitionTime: T0 });
      m.restartingAll = true;
      assert.deepEqual(cond(T1), {
        type: AllContainersRestarting,
        status: "True",
        lastTransitionTime: T1,
        reason: "RestartAllContainersStarted",
        message: "container exited with restart policy rule",
      });
      resetForRestartAll(m, T2);
      assert.deepEqual(cond(T2), { type: AllContainersRestarting, status: "False", lastTransitionTime: T2 });
      m.phase = "Succeeded";
      assert.equal(cond(T2)?.reason, "PodCompleted");
    });

    test("resetForRestartAll: every container restarts (count +1, last run kept), the pod starts over Pending", () => {
      const p = rulePod();
      const m = newPodModel(p, ips, T0);
      terminate(m.containers[0]!, 3, T1);
      resetForRestartAll(m, T2);
      const s = status(m, p, T2);
      assert.equal(s.phase, "Pending");
      const all = [...(s.initContainerStatuses ?? []), ...s.containerStatuses];
      assert.deepEqual(
        all.map((c) => [c.name, c.restartCount, c.state, c.lastState?.terminated?.exitCode]),
        [
          ["agent", 1, { waiting: { reason: "PodInitializing" } }, 137],
          ["setup", 1, { waiting: { reason: "PodInitializing" } }, 0],
          ["worker", 1, { waiting: { reason: "PodInitializing" } }, 3],
        ],
      );
      assert.equal(s.conditions.find((c) => c.type === "Initialized")?.status, "False");
    });

    test("a container whose startup probe has not passed is running but not started, and not ready", () => {
      const p = pod({ containers: [{ name: "a" }] });
      const m = newPodModel(p, ips, T0);
      m.containers[0]!.probing = true;
      assert.equal(status(m, p, T0).containerStatuses[0]?.started, false);
      m.containers[0]!.probing = false;
      assert.equal(status(m, p, T0).containerStatuses[0]?.started, true);
    });
  });
});
