// What the fake kubelet writes: Node objects, and pod statuses built from an in-memory model of the
// pod's containers (real-control-plane.md §5.3). Pure: time comes in as an argument.
import type { Container, Node, Pod } from "../api/k8s.ts";

// ---------------------------------------------------------------------------------------------- nodes

export const NodeLabelKeys = {
  hostname: "kubernetes.io/hostname",
  os: "kubernetes.io/os",
  arch: "kubernetes.io/arch",
  zone: "topology.kubernetes.io/zone",
  region: "topology.kubernetes.io/region",
  pool: "cloud.google.com/gke-nodepool",
  rack: "fake.jobset.x-k8s.io/rack",
} as const;

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface NodeSpec {
  /** Default: `<namePrefix>-<i>`. */
  name?: string;
  /** Shortcuts for topology.kubernetes.io/zone, .../region, cloud.google.com/gke-nodepool and the rack label. */
  zone?: string;
  region?: string;
  pool?: string;
  rack?: string;
  /** Extra labels (win over the shortcuts; kubernetes.io/hostname is always the node name). */
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  pods?: string | number;
  /** Extra capacity (e.g. "nvidia.com/gpu": "8"); allocatable defaults to capacity. */
  capacity?: Record<string, string>;
  allocatable?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  /** Ready condition status (default true). */
  ready?: boolean;
}

/** The node-declared features (KEP-5328) a fake node reports: the ones the fake kubelet implements. */
export const DeclaredFeatures = ["RestartAllContainersOnContainerExits"] as const;

/**
 * The address every fake node advertises (InternalIP) and reports as its pods' hostIP: loopback, where
 * the fake kubelet's API listens, so nothing in the control plane ever dials a private-range address.
 */
export const FakeNodeIP = "127.0.0.1";

export interface NodeBody {
  metadata: { name: string; labels: Record<string, string> };
  spec: { providerID: string; taints?: Taint[]; unschedulable?: boolean };
  status: NonNullable<Node["status"]>;
}

/** The Node a fake kubelet registers for `spec` (the i-th node). */
export function nodeBody(
  spec: NodeSpec,
  i: number,
  now: string,
  opts: { namePrefix?: string; kubeletVersion?: string; kubeletPort?: number } = {},
): NodeBody {
  const name = spec.name ?? `${opts.namePrefix ?? "fake-node"}-${i}`;
  const labels: Record<string, string> = {
    [NodeLabelKeys.os]: "linux",
    [NodeLabelKeys.arch]: "amd64",
    "node.kubernetes.io/instance-type": "fake",
  };
  if (spec.zone !== undefined) labels[NodeLabelKeys.zone] = spec.zone;
  if (spec.region !== undefined) labels[NodeLabelKeys.region] = spec.region;
  if (spec.pool !== undefined) labels[NodeLabelKeys.pool] = spec.pool;
  if (spec.rack !== undefined) labels[NodeLabelKeys.rack] = spec.rack;
  Object.assign(labels, spec.labels ?? {});
  labels[NodeLabelKeys.hostname] = name;
  const capacity: Record<string, string> = {
    cpu: spec.cpu ?? "64",
    memory: spec.memory ?? "256Gi",
    pods: String(spec.pods ?? 110),
    "ephemeral-storage": "1Ti",
    ...spec.capacity,
  };
  const ready = spec.ready ?? true;
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const body: NodeBody = {
    metadata: { name, labels },
    spec: { providerID: `fake://${name}` },
    status: {
      capacity,
      allocatable: { ...capacity, ...spec.allocatable },
      conditions: [
        ready
          ? cond("Ready", "True", "KubeletReady", "fake kubelet is posting ready status")
          : cond("Ready", "False", "KubeletNotReady", "fake kubelet reports not ready"),
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "fake kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "fake kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "fake kubelet has sufficient PID available"),
      ],
      addresses: [
        { type: "InternalIP", address: FakeNodeIP },
        { type: "Hostname", address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: opts.kubeletPort ?? 10250 } },
      // What this kubelet implements among the node-declared features (KEP-5328): the scheduler only
      // places a pod with a RestartAllContainers rule on a node that declares it.
      declaredFeatures: [...DeclaredFeatures],
      nodeInfo: {
        kubeletVersion: opts.kubeletVersion ?? "v1.36.3",
        kubeProxyVersion: "",
        containerRuntimeVersion: "fake://1",
        operatingSystem: "linux",
        architecture: "amd64",
        kernelVersion: "fake",
        osImage: "fake",
        machineID: "",
        systemUUID: "",
        bootID: "",
      },
    },
  };
  if (spec.taints?.length) body.spec.taints = spec.taints;
  if (spec.unschedulable) body.spec.unschedulable = true;
  return body;
}

/** Lease renewTime is a MicroTime: exactly 6 fractional digits (api/time.ts). */
export { microTime } from "../api/time.ts";

// ---------------------------------------------------------------------------------------------- pods

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed";

export interface Terminated {
  exitCode: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
  message?: string;
  containerID?: string;
}

export interface ContainerModel {
  name: string;
  image: string;
  /** init: runs to completion before the others; sidecar: an init container with restartPolicy Always. */
  kind: "init" | "sidecar" | "main";
  restartCount: number;
  state:
    | { running: { startedAt: string } }
    | { terminated: Terminated }
    | { waiting: { reason: string; message?: string } };
  lastTerminated?: Terminated;
  ready: boolean;
  /** The current run has a startup probe that has not passed yet (status `started: false`). */
  probing?: boolean;
}

export interface PodModel {
  phase: PodPhase;
  startTime: string;
  hostIP: string;
  podIP: string;
  /** spec.initContainers in order (regular init containers and sidecars). */
  init: ContainerModel[];
  containers: ContainerModel[];
  /** Whether the init containers have all completed (sidecars: started). */
  initialized: boolean;
  /** Last status and transition time of each condition type we own (kept stable across patches). */
  transitions: Record<string, { status: string; time: string }>;
  /**
   * A container exited under a RestartAllContainers rule and the others are being stopped (condition
   * AllContainersRestarting True until every container has stopped).
   */
  restartingAll?: boolean;
}

export const isTerminalPhase = (p: string | undefined): boolean => p === "Succeeded" || p === "Failed";

export const isSidecar = (c: Container): boolean => c.restartPolicy === "Always";

const containerID = (uid: string, name: string, restarts: number) => `fake://${uid}/${name}/${restarts}`;

/**
 * A pod model whose init containers completed at `now` (sidecars running) and main containers started
 * at `now`; or, when not `initialized` (the exec runtime runs init containers for real), a Pending pod
 * whose containers all wait with PodInitializing.
 */
export function newPodModel(
  pod: Pod,
  ips: { podIP: string; hostIP: string },
  now: string,
  initialized = true,
): PodModel {
  const init: ContainerModel[] = (pod.spec?.initContainers ?? []).map((c) => ({
    name: c.name,
    image: c.image ?? "",
    kind: isSidecar(c) ? "sidecar" : "init",
    restartCount: 0,
    state: !initialized
      ? { waiting: { reason: "PodInitializing" } }
      : isSidecar(c)
        ? { running: { startedAt: now } }
        : { terminated: { exitCode: 0, reason: "Completed", startedAt: now, finishedAt: now } },
    ready: false,
  }));
  const containers: ContainerModel[] = (pod.spec?.containers ?? []).map((c) => ({
    name: c.name,
    image: c.image ?? "",
    kind: "main",
    restartCount: 0,
    state: initialized ? { running: { startedAt: now } } : { waiting: { reason: "PodInitializing" } },
    ready: false,
  }));
  return {
    phase: initialized ? "Running" : "Pending",
    startTime: now,
    hostIP: ips.hostIP,
    podIP: ips.podIP,
    init,
    containers,
    initialized,
    transitions: {},
  };
}

/**
 * Rebuilds the model of a pod that a previous fake kubelet started (kubelet restart): container
 * states, restart counts and readiness come from the pod's status; missing ones start at `now`.
 */
export function adoptPodModel(pod: Pod, ips: { podIP: string; hostIP: string }, now: string): PodModel {
  const st = pod.status ?? {};
  const m = newPodModel(pod, { podIP: st.podIP || ips.podIP, hostIP: st.hostIP || ips.hostIP }, st.startTime ?? now);
  const adopt = (list: ContainerModel[], statuses: NonNullable<typeof st.containerStatuses> | undefined) => {
    for (const c of list) {
      const s = statuses?.find((x) => x.name === c.name);
      if (!s) continue;
      c.restartCount = s.restartCount ?? 0;
      c.ready = s.ready ?? false;
      const t = s.state?.terminated;
      if (s.state?.running) c.state = { running: { startedAt: s.state.running.startedAt ?? now } };
      else if (s.state?.waiting?.reason === CrashLoopBackOff) {
        // It was waiting for a restart: the restart happens now.
        c.restartCount += 1;
        c.state = { running: { startedAt: now } };
      } else if (t)
        c.state = {
          terminated: {
            exitCode: t.exitCode,
            reason: t.reason ?? (t.exitCode === 0 ? "Completed" : "Error"),
            startedAt: t.startedAt ?? now,
            finishedAt: t.finishedAt ?? now,
          },
        };
      const lt = s.lastState?.terminated;
      if (lt)
        c.lastTerminated = {
          exitCode: lt.exitCode,
          reason: lt.reason ?? "Error",
          startedAt: lt.startedAt ?? now,
          finishedAt: lt.finishedAt ?? now,
        };
    }
  };
  adopt(m.init, st.initContainerStatuses);
  adopt(m.containers, st.containerStatuses);
  m.phase = (st.phase as PodPhase | undefined) ?? "Running";
  for (const c of st.conditions ?? [])
    if (c.lastTransitionTime) m.transitions[c.type] = { status: c.status, time: c.lastTransitionTime };
  return m;
}

const running = (c: ContainerModel) => "running" in c.state;

/** The pod's phase once every main container is terminated (or undefined while some still run). */
export function terminalPhase(m: PodModel): "Succeeded" | "Failed" | undefined {
  const states = m.containers.map((c) => c.state);
  if (states.some((s) => !("terminated" in s))) return undefined;
  return states.every((s) => "terminated" in s && s.terminated.exitCode === 0) ? "Succeeded" : "Failed";
}

interface PodConditionOut {
  type: string;
  status: string;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

/** The conditions the kubelet owns, for the model's current state. */
export function podConditions(m: PodModel, pod: Pod, now: string): PodConditionOut[] {
  const terminal = isTerminalPhase(m.phase);
  const unready = [...m.init.filter((c) => c.kind === "sidecar"), ...m.containers]
    .filter((c) => !c.ready)
    .map((c) => c.name);
  const out: PodConditionOut[] = [];
  const add = (type: string, ok: boolean, reason?: string, message?: string) => {
    const status = ok ? "True" : "False";
    const prev = m.transitions[type];
    const time = prev && prev.status === status ? prev.time : now;
    m.transitions[type] = { status, time };
    const c: PodConditionOut = { type, status, lastTransitionTime: time };
    if (reason !== undefined) c.reason = reason;
    if (message !== undefined) c.message = message;
    out.push(c);
  };
  add("PodReadyToStartContainers", !terminal);
  if (hasRestartAllRule(pod)) {
    if (terminal) add(AllContainersRestarting, false, m.phase === "Succeeded" ? "PodCompleted" : "PodFailed");
    else if (m.restartingAll)
      add(AllContainersRestarting, true, "RestartAllContainersStarted", "container exited with restart policy rule");
    else add(AllContainersRestarting, false);
  }
  if (m.initialized) add("Initialized", true);
  else {
    const pending = m.init.filter(
      (c) => c.kind === "init" && !("terminated" in c.state && c.state.terminated.exitCode === 0),
    );
    add(
      "Initialized",
      false,
      "ContainersNotInitialized",
      `containers with incomplete status: [${pending.map((c) => c.name).join(" ")}]`,
    );
  }
  if (terminal) {
    const reason = m.phase === "Succeeded" ? "PodCompleted" : "PodFailed";
    add("ContainersReady", false, reason);
    add("Ready", false, reason);
    return out;
  }
  const containersReady = unready.length === 0 && m.initialized;
  const notReadyMsg = `containers with unready status: [${unready.join(" ")}]`;
  add(
    "ContainersReady",
    containersReady,
    containersReady ? undefined : "ContainersNotReady",
    containersReady ? undefined : notReadyMsg,
  );
  if (!containersReady) {
    add("Ready", false, "ContainersNotReady", notReadyMsg);
    return out;
  }
  // Readiness gates: every gate's condition must be True.
  for (const g of pod.spec?.readinessGates ?? []) {
    const c = pod.status?.conditions?.find((x) => x.type === g.conditionType);
    if (!c) {
      add(
        "Ready",
        false,
        "ReadinessGatesNotReady",
        `corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`,
      );
      return out;
    }
    if (c.status !== "True") {
      add(
        "Ready",
        false,
        "ReadinessGatesNotReady",
        `the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`,
      );
      return out;
    }
  }
  add("Ready", true);
  return out;
}

function containerStatus(uid: string, c: ContainerModel) {
  const id = containerID(uid, c.name, c.restartCount);
  const s: Record<string, unknown> = {
    name: c.name,
    image: c.image,
    imageID: "",
    ready: c.ready,
    started: running(c) && c.probing !== true,
    restartCount: c.restartCount,
    state: "terminated" in c.state ? { terminated: { ...c.state.terminated, containerID: id } } : c.state,
  };
  if (!("waiting" in c.state)) s.containerID = id;
  if (c.lastTerminated) s.lastState = { terminated: c.lastTerminated };
  return s;
}

/** The strategic-merge patch for `/status` that publishes the model. */
export function podStatusPatch(m: PodModel, pod: Pod, now: string): { status: Record<string, unknown> } {
  const uid = pod.metadata?.uid ?? "";
  const status: Record<string, unknown> = {
    phase: m.phase,
    startTime: m.startTime,
    hostIP: m.hostIP,
    hostIPs: [{ ip: m.hostIP }],
    podIP: m.podIP,
    podIPs: [{ ip: m.podIP }],
    conditions: podConditions(m, pod, now),
    containerStatuses: m.containers.map((c) => containerStatus(uid, c)),
  };
  if (m.init.length > 0) status.initContainerStatuses = m.init.map((c) => containerStatus(uid, c));
  return { status };
}

/** Ends a container run: terminated with `exitCode` (reason Completed for 0, else Error unless given). */
export function terminate(c: ContainerModel, exitCode: number, now: string, reason?: string, message?: string): void {
  const startedAt = "running" in c.state ? c.state.running.startedAt : now;
  const t: Terminated = {
    exitCode,
    reason: reason ?? (exitCode === 0 ? "Completed" : "Error"),
    startedAt,
    finishedAt: now,
  };
  if (message) t.message = message;
  c.state = { terminated: t };
  c.ready = false;
}

/** Restarts a container in place at once: the run that ended becomes lastState, restartCount goes up. */
export function restartInPlace(c: ContainerModel, exitCode: number, now: string): void {
  waitToRestart(c, exitCode, now, "");
  runAgain(c, now);
}

/** The reason of a container waiting for its next restart (what `kubectl get pods` shows). */
export const CrashLoopBackOff = "CrashLoopBackOff";

/**
 * A container run ended and the container will restart after a back-off: the run becomes lastState,
 * the container waits with reason CrashLoopBackOff; restartCount grows when it runs again ({@link runAgain}).
 */
export function waitToRestart(c: ContainerModel, exitCode: number, now: string, message: string): void {
  const startedAt = "running" in c.state ? c.state.running.startedAt : now;
  c.lastTerminated = { exitCode, reason: exitCode === 0 ? "Completed" : "Error", startedAt, finishedAt: now };
  c.state = message ? { waiting: { reason: CrashLoopBackOff, message } } : { waiting: { reason: CrashLoopBackOff } };
  c.ready = false;
}

/** The container runs again after an in-place restart: restartCount goes up. */
export function runAgain(c: ContainerModel, now: string): void {
  c.restartCount += 1;
  c.state = { running: { startedAt: now } };
  c.ready = false;
}

/** The pod condition the kubelet publishes for pods with a RestartAllContainers rule (KEP-5532). */
export const AllContainersRestarting = "AllContainersRestarting";

type RestartRule = NonNullable<Container["restartPolicyRules"]>[number];

/** The first of the container's restartPolicyRules whose exit codes match (KEP-5307), if any. */
export function matchingRestartRule(spec: Container, exitCode: number): RestartRule | undefined {
  return (spec.restartPolicyRules ?? []).find((r) => {
    const codes = r.exitCodes;
    if (!codes) return false;
    const listed = (codes.values ?? []).includes(exitCode);
    return codes.operator === "In" ? listed : codes.operator === "NotIn" ? !listed : false;
  });
}

/** Whether any container of the pod restarts the whole pod in place on some exit. */
export function hasRestartAllRule(pod: Pod): boolean {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some((c) =>
    (c.restartPolicyRules ?? []).some((r) => r.action === "RestartAllContainers"),
  );
}

/**
 * What the kubelet does when a container's run ends with `exitCode`: restart that container in place,
 * restart every container of the pod in place (a matching RestartAllContainers rule, KEP-5532), or
 * leave it terminated. The first matching restartPolicyRule decides; otherwise sidecars always restart,
 * and others follow the container's restartPolicy, else the pod's (ValidateContainerStateTransition:
 * with Never nothing leaves terminated, with OnFailure only non-zero exits do); a regular init container
 * that succeeded is done, one that failed is retried unless the policy is Never.
 */
export function exitAction(
  c: ContainerModel,
  spec: Container,
  podRestartPolicy: string | undefined,
  exitCode: number,
): "restart" | "restartAll" | "terminate" {
  const rule = matchingRestartRule(spec, exitCode);
  if (rule?.action === "RestartAllContainers") return "restartAll";
  if (rule?.action === "Restart") return c.kind === "init" && exitCode === 0 ? "terminate" : "restart";
  if (c.kind === "sidecar") return "restart";
  const p = spec.restartPolicy ?? podRestartPolicy ?? "Always";
  if (c.kind === "init") return p !== "Never" && exitCode !== 0 ? "restart" : "terminate";
  return p === "Always" || (p === "OnFailure" && exitCode !== 0) ? "restart" : "terminate";
}

/**
 * Every container of the pod is restarted in place after a RestartAllContainers exit (KEP-5532), once
 * all have stopped: each run that ended becomes lastState, restartCount grows, and the pod starts over
 * like a new one (init containers, then sidecars, then main containers; Pending until they run).
 */
export function resetForRestartAll(m: PodModel, now: string): void {
  for (const c of [...m.init, ...m.containers]) {
    if ("running" in c.state) terminate(c, 137, now);
    if ("terminated" in c.state) c.lastTerminated = c.state.terminated;
    c.restartCount += 1;
    c.state = { waiting: { reason: "PodInitializing" } };
    c.ready = false;
    c.probing = false;
  }
  m.initialized = false;
  m.phase = "Pending";
  m.restartingAll = false;
}

/**
 * Marks the pod as killed (deletion of a non-terminal pod): every container still running or
 * waiting ends with `exitCode` (137 by default) and the pod becomes Failed.
 */
export function killPod(m: PodModel, now: string, exitCode = 137): void {
  for (const c of [...m.init, ...m.containers]) {
    if (!("terminated" in c.state)) terminate(c, exitCode, now, exitCode === 0 ? "Completed" : "Error");
    c.ready = false;
  }
  m.phase = "Failed";
}
