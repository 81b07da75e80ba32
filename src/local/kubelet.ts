// A fake kubelet: registers fake Nodes and drives the pods the scheduler binds to them through the
// real pod lifecycle (Running + Ready, then Succeeded/Failed with container exit codes, deletion
// finalized), so the real Job controller counts them exactly as it would on a cluster
// (real-control-plane.md §5). Two runtimes: "simulate" (durations and exit codes from annotations,
// see kubelet-sim.ts) and "exec" (containers' commands run as local processes). docs/fake-kubelet.md.
import { mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Container, Pod } from "../api/k8s.ts";
import { ApiError, isAlreadyExists, isConflict, isGone, isNotFound, KubeClient } from "../runtime/client.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { containerArgv, EnvError, type EnvSources, envSources, resolveEnv } from "./kubelet-env.ts";
import { type ContainerProcess, runProbe, spawnContainer } from "./kubelet-exec.ts";
import { ContainerLog } from "./kubelet-logs.ts";
import { type KubeletServer, type LogTarget, startKubeletServer } from "./kubelet-server.ts";
import { type SimPlan, simPlan, simReadyDelayMs } from "./kubelet-sim.ts";
import {
  adoptPodModel,
  type ContainerModel,
  FakeNodeIP,
  isTerminalPhase,
  killPod,
  microTime,
  type NodeSpec,
  newPodModel,
  nodeBody,
  type PodModel,
  podConditions,
  podStatusPatch,
  restartInPlace,
  restartsInPlace,
  terminalPhase,
  terminate,
} from "./kubelet-status.ts";

export { SimAnnotations, SimPrefix } from "./kubelet-sim.ts";
export type { NodeSpec, Taint } from "./kubelet-status.ts";
export { FakeNodeIP, NodeLabelKeys } from "./kubelet-status.ts";

export type KubeletLogLevel = "debug" | "info" | "warn" | "error";
/** Structured log callback: a level, a message and fields (pod, node, error...). */
export type KubeletLog = (level: KubeletLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface FakeKubeletOptions {
  kubeconfigPath?: string;
  /** An existing client (not closed on stop); otherwise one is made from kubeconfigPath. */
  client?: KubeClient;
  /** The nodes to register, or how many (named `<namePrefix>-<i>`). Default 1. */
  nodes?: NodeSpec[] | number;
  namePrefix?: string;
  runtime?: "simulate" | "exec";
  /** Working dirs and logs (exec). Default: a temp dir, removed on stop. */
  dataDir?: string;
  /** How long a container runs when the pod's annotations say nothing (default 1000 ms). */
  defaultDurationMs?: number;
  /** Containers run until deleted (or completePod) when the pod's annotations say nothing. */
  runForever?: boolean;
  /** Delete the Nodes (and their Leases) on stop. Default true. */
  removeNodesOnStop?: boolean;
  /** Keep kube-node-lease Leases renewed (needed when node-lifecycle-controller runs). Default true. */
  leases?: boolean;
  leaseRenewMs?: number;
  /** Cap on terminationGracePeriodSeconds when killing exec processes (default 2000 ms). */
  maxGracePeriodMs?: number;
  kubeletVersion?: string;
  /** How long start waits for the first pod list (default 60 s). */
  syncTimeoutMs?: number;
  /** A pino logger (src/runtime/logger.ts); each line carries the fields (pod, node, error...). */
  logger?: Logger;
  /** A log callback (used when no logger is given). Default: warnings and errors to stderr. */
  log?: KubeletLog;
}

export interface KubeletStats {
  nodes: number;
  podsStarted: number;
  podsAdopted: number;
  podsSucceeded: number;
  podsFailed: number;
  podsKilled: number;
  podsDeleted: number;
  containerRestarts: number;
  statusPatches: number;
  apiErrors: number;
  watchRestarts: number;
  relists: number;
  /** Pods currently tracked (started and not yet gone from the API). */
  tracked: number;
}

export interface FakeKubelet {
  readonly nodeNames: string[];
  readonly runtime: "simulate" | "exec";
  readonly dataDir: string;
  readonly stats: KubeletStats;
  /** The port of the kubelet API (`/containerLogs`) on 127.0.0.1, advertised by every node. */
  readonly kubeletPort: number;
  /** The CA of the kubelet API's serving certificate (PEM). */
  readonly kubeletCaCert: string;
  /** Where a container's log is appended (exec: stdout and stderr; simulate: synthetic lines). */
  logsPath(namespace: string, pod: string, container: string): string;
  /** The captured log of a container ("" when there is none yet). */
  readLogs(namespace: string, pod: string, container: string): Promise<string>;
  /**
   * Ends the pod's running main containers (or just `container`) with `exitCode`, as if their
   * processes exited; the restartPolicy applies (OnFailure restarts a non-zero exit in place).
   * Waits up to `waitMs` (default 10 s) for the kubelet to start the pod; resolves once published.
   */
  completePod(
    namespace: string,
    name: string,
    exitCode: number,
    opts?: { container?: string; waitMs?: number },
  ): Promise<void>;
  /** Stops everything: watches, timers, leases, processes (nothing is left running); optionally removes the nodes. */
  stop(): Promise<void>;
}

interface Run {
  uid: string;
  ns: string;
  name: string;
  pod: Pod;
  model: PodModel;
  plan: SimPlan;
  timers: Set<NodeJS.Timeout>;
  procs: Map<string, ContainerProcess>;
  envs: Map<string, Record<string, string>>;
  /** Each container's log (file, runs, line times). */
  logs: Map<string, ContainerLog>;
  /** Containers whose current run is simulated (no process). */
  simulated: Set<string>;
  /** Re-driven after a kubelet restart: the first run of each container began before us. */
  adopted: boolean;
  finished: boolean;
  dirty: boolean;
  flushing: Promise<void> | undefined;
  gone: boolean;
}

const nowIso = () => new Date().toISOString();
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const transient = (e: unknown) => e instanceof ApiError && (e.code === 0 || e.code === 429 || e.code >= 500);

/** Hands out unique pod IPs from 127.244.0.0/16 (loopback: nothing ever dials out of the machine). */
class IpPool {
  private readonly used = new Set<string>();
  private cursor = Math.floor(Math.random() * 60_000);
  take(): string {
    for (let n = 0; n < 65_536; n++) {
      this.cursor = (this.cursor + 1) % 65_536;
      const hi = this.cursor >> 8;
      const lo = this.cursor & 255;
      if (lo === 0 || lo === 255) continue;
      const ip = `127.244.${hi}.${lo}`;
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
    throw new Error("fake kubelet: pod IP range 127.244.0.0/16 exhausted");
  }
  claim(ip: string): void {
    this.used.add(ip);
  }
  release(ip: string): void {
    this.used.delete(ip);
  }
}

const defaultLog: KubeletLog = (level, msg, fields) => {
  if (level === "warn" || level === "error")
    process.stderr.write(`fake-kubelet ${level}: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ""}\n`);
};

class Kubelet {
  readonly opts: FakeKubeletOptions;
  readonly runtime: "simulate" | "exec";
  readonly log: KubeletLog;
  readonly stats: KubeletStats = {
    nodes: 0,
    podsStarted: 0,
    podsAdopted: 0,
    podsSucceeded: 0,
    podsFailed: 0,
    podsKilled: 0,
    podsDeleted: 0,
    containerRestarts: 0,
    statusPatches: 0,
    apiErrors: 0,
    watchRestarts: 0,
    relists: 0,
    tracked: 0,
  };
  client!: KubeClient;
  ownsClient = false;
  dataDir = "";
  ownsDataDir = false;
  readonly nodeIPs = new Map<string, string>();
  readonly nodeUIDs = new Map<string, string>();
  readonly runs = new Map<string, Run>();
  readonly byName = new Map<string, string>();
  /** UIDs whose deletion we have finalized (DELETE sent): never again. */
  readonly deleted = new Set<string>();
  readonly queues = new Map<string, Promise<void>>();
  readonly ips = new IpPool();
  readonly abort = new AbortController();
  stopped = false;
  leaseTimer: NodeJS.Timeout | undefined;
  server: KubeletServer | undefined;
  watchLoop: Promise<void> | undefined;
  synced!: Promise<void>;
  private resolveSynced!: () => void;

  constructor(opts: FakeKubeletOptions) {
    this.opts = opts;
    this.runtime = opts.runtime ?? "simulate";
    const logger = opts.logger?.child({ component: "fake-kubelet" });
    this.log = logger ? (level, msg, fields) => logger[level](fields ?? {}, msg) : (opts.log ?? defaultLog);
    this.synced = new Promise((r) => {
      this.resolveSynced = r;
    });
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.opts.client) this.client = this.opts.client;
    else {
      this.client = await KubeClient.create({ kubeconfig: this.opts.kubeconfigPath, userAgent: "fake-kubelet" });
      this.ownsClient = true;
    }
    if (this.opts.dataDir) {
      this.dataDir = this.opts.dataDir;
      mkdirSync(this.dataDir, { recursive: true });
    } else {
      this.dataDir = await mkdtemp(join(tmpdir(), "fake-kubelet-"));
      this.ownsDataDir = true;
    }
    try {
      this.server = await startKubeletServer((ns, pod, container, previous) =>
        this.lookupLogs(ns, pod, container, previous),
      );
      await this.registerNodes();
      if (this.opts.leases ?? true) {
        await this.renewLeases();
        this.leaseTimer = setInterval(() => void this.renewLeases(), this.opts.leaseRenewMs ?? 10_000);
        this.leaseTimer.unref();
      }
      this.watchLoop = this.watchPods();
      let timeout: NodeJS.Timeout | undefined;
      const syncMs = this.opts.syncTimeoutMs ?? 60_000;
      await Promise.race([
        this.synced,
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`fake kubelet: cannot list pods within ${syncMs} ms`)), syncMs);
        }),
      ]).finally(() => clearTimeout(timeout));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await Promise.allSettled([...this.runs.values()].map((r) => this.teardown(r, 500)));
    await this.server?.close();
    await this.watchLoop?.catch(() => undefined);
    const settle = Promise.allSettled([
      ...this.queues.values(),
      ...[...this.runs.values()].map((r) => this.flushed(r)),
    ]);
    await Promise.race([settle, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (this.opts.removeNodesOnStop ?? true) {
      await Promise.allSettled(
        [...this.nodeIPs.keys()].flatMap((n) => [
          this.client.delete(resourcePath({ ...Resources.nodes, name: n })).catch((e) => {
            if (!isNotFound(e)) this.log("warn", "cannot delete node", { node: n, error: errMsg(e) });
          }),
          this.client
            .delete(resourcePath({ ...Resources.leases, namespace: "kube-node-lease", name: n }))
            .catch(() => undefined),
        ]),
      );
    }
    if (this.ownsClient) await this.client.close();
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------------------------------ nodes

  nodeSpecs(): NodeSpec[] {
    const n = this.opts.nodes ?? 1;
    return typeof n === "number" ? Array.from({ length: n }, () => ({})) : n;
  }

  async registerNodes(): Promise<void> {
    const specs = this.nodeSpecs();
    const now = nowIso();
    await Promise.all(
      specs.map(async (spec, i) => {
        const body = nodeBody(spec, i, now, {
          namePrefix: this.opts.namePrefix,
          kubeletVersion: this.opts.kubeletVersion,
          kubeletPort: this.server?.port,
        });
        const name = body.metadata.name;
        if (this.nodeIPs.has(name)) throw new Error(`fake kubelet: duplicate node name ${name}`);
        this.nodeIPs.set(name, FakeNodeIP);
        const path = resourcePath({ ...Resources.nodes, name });
        type NodeOut = { metadata?: { uid?: string }; spec?: { taints?: { key: string }[] } };
        let node: NodeOut;
        try {
          node = await this.client.create<NodeOut>(resourcePath(Resources.nodes), {
            apiVersion: "v1",
            kind: "Node",
            ...body,
          });
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
          node = await this.client.patch<NodeOut>(
            path,
            { metadata: { labels: body.metadata.labels }, spec: { ...body.spec, taints: body.spec.taints ?? null } },
            "merge",
          );
        }
        this.nodeUIDs.set(name, node.metadata?.uid ?? "");
        await this.client.patch(
          resourcePath({ ...Resources.nodes, name, subresource: "status" }),
          { status: body.status },
          "merge",
        );
        // The TaintNodesByCondition admission plugin taints new nodes not-ready; without the node
        // lifecycle controller nothing would remove it, so put back exactly the taints asked for.
        const want = new Set((body.spec.taints ?? []).map((t) => t.key));
        if ((node.spec?.taints ?? []).some((t) => !want.has(t.key)))
          await this.client.patch(path, { spec: { taints: body.spec.taints ?? null } }, "merge");
        this.stats.nodes++;
        this.log("info", "node registered", { node: name });
      }),
    );
  }

  async renewLeases(): Promise<void> {
    const renewTime = microTime(new Date());
    await Promise.allSettled(
      [...this.nodeIPs.keys()].map(async (name) => {
        const base = resourcePath({ ...Resources.leases, namespace: "kube-node-lease" });
        try {
          await this.client.patch(
            resourcePath({ ...Resources.leases, namespace: "kube-node-lease", name }),
            { spec: { renewTime, holderIdentity: name } },
            "merge",
          );
        } catch (e) {
          if (!isNotFound(e)) throw e;
          await this.client.create(base, {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: {
              name,
              namespace: "kube-node-lease",
              ownerReferences: [{ apiVersion: "v1", kind: "Node", name, uid: this.nodeUIDs.get(name) ?? "" }],
            },
            spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
          });
        }
      }),
    ).then((rs) => {
      for (const r of rs)
        if (r.status === "rejected" && !this.stopped)
          this.log("warn", "lease renewal failed", { error: errMsg(r.reason) });
    });
  }

  // ------------------------------------------------------------------------------------------ watch

  async watchPods(): Promise<void> {
    const path = resourcePath(Resources.pods);
    const fieldSelector = "spec.nodeName!=";
    let rv: string | undefined;
    let backoff = 100;
    while (!this.stopped) {
      try {
        if (rv === undefined) {
          const list = await this.client.list<Pod>(path, { fieldSelector });
          rv = list.metadata.resourceVersion ?? "0";
          const seen = new Set<string>();
          for (const pod of list.items) {
            seen.add(pod.metadata?.uid ?? "");
            this.onPod("MODIFIED", pod);
          }
          for (const [uid, run] of this.runs) if (!seen.has(uid)) this.serial(uid, () => this.forget(run.uid));
          this.resolveSynced();
        }
        const events = this.client.watch<Pod>(
          path,
          {
            fieldSelector,
            resourceVersion: rv,
            allowWatchBookmarks: true,
            timeoutSeconds: 240 + Math.floor(Math.random() * 120),
          },
          this.abort.signal,
        );
        for await (const ev of events) {
          const evRv = ev.object.metadata?.resourceVersion;
          if (evRv) rv = evRv;
          if (ev.type === "BOOKMARK") continue;
          if (ev.type === "ADDED" || ev.type === "MODIFIED" || ev.type === "DELETED") this.onPod(ev.type, ev.object);
          backoff = 100;
        }
        this.stats.watchRestarts++;
      } catch (e) {
        if (this.stopped) return;
        if (isGone(e)) {
          this.log("info", "pod watch expired (410), relisting");
          this.stats.relists++;
          rv = undefined;
          continue;
        }
        this.stats.watchRestarts++;
        this.log("warn", "pod watch failed, retrying", { error: errMsg(e), backoffMs: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  ours(pod: Pod): boolean {
    const n = pod.spec?.nodeName;
    return n !== undefined && this.nodeIPs.has(n);
  }

  /** Runs `fn` after everything queued before for the same pod; never rejects. */
  serial(uid: string, fn: () => Promise<void> | void): Promise<void> {
    const prev = this.queues.get(uid) ?? Promise.resolve();
    const next = prev
      .then(fn)
      .catch((e) => {
        this.stats.apiErrors++;
        this.log("error", "pod handler failed", { uid, error: errMsg(e) });
      })
      .finally(() => {
        if (this.queues.get(uid) === next) this.queues.delete(uid);
      });
    this.queues.set(uid, next);
    return next;
  }

  onPod(type: "ADDED" | "MODIFIED" | "DELETED", pod: Pod): void {
    if (!this.ours(pod)) return;
    const uid = pod.metadata?.uid ?? "";
    if (type === "DELETED") {
      void this.serial(uid, () => this.forget(uid));
      return;
    }
    void this.serial(uid, () => this.sync(pod));
  }

  async sync(pod: Pod): Promise<void> {
    if (this.stopped) return;
    const uid = pod.metadata?.uid ?? "";
    const run = this.runs.get(uid);
    if (run) run.pod = pod;
    if (pod.metadata?.deletionTimestamp) return this.handleDeletion(pod, run);
    if (run) {
      if (!run.finished && pod.spec?.readinessGates?.length) this.recheckGates(run);
      return;
    }
    if (isTerminalPhase(pod.status?.phase)) return;
    await this.startPod(pod);
  }

  /** A readiness gate's condition changed: republish when the Ready condition flips. */
  recheckGates(run: Run): void {
    const before = run.model.transitions.Ready?.status;
    const conds = podConditions({ ...run.model, transitions: { ...run.model.transitions } }, run.pod, nowIso());
    if (conds.find((c) => c.type === "Ready")?.status !== before) this.publish(run);
  }

  // ------------------------------------------------------------------------------------------ pods

  podDir(ns: string, name: string): string {
    return join(this.dataDir, "pods", ns, name);
  }

  logsPath(ns: string, pod: string, container: string): string {
    return join(this.dataDir, "logs", ns, pod, `${container}.log`);
  }

  async startPod(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const hostIP = this.nodeIPs.get(pod.spec?.nodeName ?? "") ?? "";
    const adopt = pod.status?.phase === "Running";
    const now = nowIso();
    let podIP = pod.status?.podIP;
    if (podIP) this.ips.claim(podIP);
    else podIP = this.ips.take();
    const hasInit = (pod.spec?.initContainers ?? []).some((c) => c.restartPolicy !== "Always");
    const model = adopt
      ? adoptPodModel(pod, { podIP, hostIP }, now)
      : newPodModel(pod, { podIP, hostIP }, now, this.runtime === "simulate" || !hasInit);
    const plan = simPlan(pod, { defaultDurationMs: this.opts.defaultDurationMs, runForever: this.opts.runForever });
    for (const w of plan.warnings) this.log("warn", `pod ${ns}/${name}: ${w}`);
    const run: Run = {
      uid,
      ns,
      name,
      pod,
      model,
      plan,
      timers: new Set(),
      procs: new Map(),
      envs: new Map(),
      logs: new Map(),
      simulated: new Set(),
      adopted: adopt,
      finished: false,
      dirty: false,
      flushing: undefined,
      gone: false,
    };
    this.runs.set(uid, run);
    this.byName.set(`${ns}/${name}`, uid);
    this.stats.tracked = this.runs.size;
    if (adopt) this.stats.podsAdopted++;
    else this.stats.podsStarted++;
    this.log("debug", adopt ? "re-driving pod" : "starting pod", { pod: `${ns}/${name}`, node: pod.spec?.nodeName });

    if (!adopt) await rm(join(this.dataDir, "logs", ns, name), { recursive: true, force: true });
    if (this.runtime === "simulate") {
      for (const c of this.runningContainers(run)) this.simulate(run, c);
      this.publish(run);
      return;
    }
    mkdirSync(this.podDir(ns, name), { recursive: true });
    this.publish(run);
    void this.execStart(run, adopt).catch((e) =>
      this.log("error", "exec start failed", { pod: `${ns}/${name}`, error: errMsg(e) }),
    );
  }

  // ------------------------------------------------------------------------------------------ logs

  containerLog(run: Run, name: string): ContainerLog {
    let l = run.logs.get(name);
    if (!l) {
      l = new ContainerLog(this.logsPath(run.ns, run.name, name));
      run.logs.set(name, l);
    }
    return l;
  }

  /**
   * Starts the log segment of the container's current run; false when it already exists or the run
   * began before this kubelet (adopted: the file so far counts as that run).
   */
  beginLog(run: Run, c: ContainerModel, watchFile: boolean): boolean {
    const l = this.containerLog(run, c.name);
    if (l.segment(c.restartCount)) return false;
    const adopted = run.adopted && !l.started;
    const startedAt = "running" in c.state ? Date.parse(c.state.running.startedAt) : Date.now();
    l.beginRun(c.restartCount, adopted ? startedAt : Date.now(), watchFile, adopted);
    return !adopted;
  }

  /** A simulated container's run ends: its synthetic log says so. */
  simulatedExit(run: Run, c: ContainerModel, exitCode: number): void {
    if (!run.simulated.has(c.name) || !("running" in c.state)) return;
    run.simulated.delete(c.name);
    const l = this.containerLog(run, c.name);
    l.append(`fake-kubelet: container ${c.name} exited with code ${exitCode}\n`, Date.now());
    l.endRun(c.restartCount);
  }

  /** What `/containerLogs/{ns}/{pod}/{container}` serves, with the kubelet's errors. */
  lookupLogs(
    ns: string,
    pod: string,
    container: string,
    previous: boolean,
  ): LogTarget | { status: number; message: string } {
    const uid = this.byName.get(`${ns}/${pod}`);
    const run = uid === undefined ? undefined : this.runs.get(uid);
    if (!run) return { status: 404, message: `pod "${pod}" does not exist` };
    const c = [...run.model.init, ...run.model.containers].find((x) => x.name === container);
    if (!c) return { status: 404, message: `container "${container}" not found in pod "${pod}"` };
    const podName = `${pod}_${ns}`;
    if (previous) {
      if (!c.lastTerminated)
        return { status: 400, message: `previous terminated container "${container}" in pod "${podName}" not found` };
      const log = this.containerLog(run, c.name);
      return { log, run: c.restartCount - 1, fallbackTime: Date.parse(c.lastTerminated.startedAt) };
    }
    if ("waiting" in c.state)
      return {
        status: 400,
        message: `container "${container}" in pod "${podName}" is waiting to start: ${c.state.waiting.reason}`,
      };
    const startedAt = Date.parse("running" in c.state ? c.state.running.startedAt : c.state.terminated.startedAt);
    const log = this.containerLog(run, c.name);
    if (!log.segment(c.restartCount)) {
      // A run that wrote nothing here (an init container without a command) or ended before this
      // kubelet started: the file as it is.
      log.beginRun(c.restartCount, startedAt, false, true);
      log.endRun(c.restartCount);
    }
    return { log, run: c.restartCount, fallbackTime: startedAt };
  }

  runningContainers(run: Run): ContainerModel[] {
    return [...run.model.init, ...run.model.containers].filter((c) => "running" in c.state);
  }

  containerSpec(run: Run, name: string): Container {
    const all = [...(run.pod.spec?.initContainers ?? []), ...(run.pod.spec?.containers ?? [])];
    return all.find((c) => c.name === name) ?? { name };
  }

  timer(run: Run, ms: number, fn: () => void): void {
    const t = setTimeout(
      () => {
        run.timers.delete(t);
        if (!run.finished && !this.stopped) fn();
      },
      Math.max(0, ms),
    );
    run.timers.add(t);
  }

  /** Simulate runtime: readiness and exit of one running container, from its startedAt. */
  simulate(run: Run, c: ContainerModel): void {
    if (!("running" in c.state)) return;
    const started = Date.parse(c.state.running.startedAt);
    const rc = c.restartCount;
    run.simulated.add(c.name);
    if (this.beginLog(run, c, false))
      this.containerLog(run, c.name).append(
        `fake-kubelet: container ${c.name} started (simulated${rc > 0 ? `, restart ${rc}` : ""})\n`,
        Date.now(),
      );
    const elapsed = Date.now() - started;
    const same = () => c.restartCount === rc && "running" in c.state;
    if (!c.ready) {
      const delay = simReadyDelayMs(this.containerSpec(run, c.name), run.plan) - elapsed;
      if (delay <= 0) c.ready = true;
      else
        this.timer(run, delay, () => {
          if (!same()) return;
          c.ready = true;
          this.publish(run);
        });
    }
    if (c.kind === "main" && Number.isFinite(run.plan.durationMs))
      this.timer(run, run.plan.durationMs - elapsed, () => {
        void this.serial(run.uid, () => {
          if (same()) this.containerExited(run, c, run.plan.exitCode(c.name, rc));
        });
      });
  }

  /** A container run ended with `exitCode`: restart in place, or terminate (and maybe finish the pod). */
  containerExited(run: Run, c: ContainerModel, exitCode: number, reason?: string, message?: string): void {
    if (run.finished || !("running" in c.state)) return;
    this.simulatedExit(run, c, exitCode);
    const now = nowIso();
    if (restartsInPlace(c, run.pod.spec?.restartPolicy, exitCode)) {
      restartInPlace(c, exitCode, now);
      this.stats.containerRestarts++;
      this.log("debug", "container restarted", { pod: `${run.ns}/${run.name}`, container: c.name, exitCode });
      if (this.runtime === "simulate" || !run.envs.has(c.name)) this.simulate(run, c);
      else this.startProcess(run, c);
      this.publish(run);
      return;
    }
    terminate(c, exitCode, now, reason, message);
    const phase = terminalPhase(run.model);
    if (phase) this.finish(run, phase);
    this.publish(run);
  }

  /** Every main container ended: sidecars stop (reported exit 0), the pod becomes terminal. */
  finish(run: Run, phase: "Succeeded" | "Failed"): void {
    const now = nowIso();
    for (const c of run.model.init)
      if ("running" in c.state) {
        this.simulatedExit(run, c, 0);
        terminate(c, 0, now);
      }
    run.model.phase = phase;
    run.finished = true;
    void this.teardown(run, 0);
    if (phase === "Succeeded") this.stats.podsSucceeded++;
    else this.stats.podsFailed++;
    this.log("debug", `pod ${phase}`, { pod: `${run.ns}/${run.name}` });
  }

  /** Stops timers and processes of a pod; resolves with the exit of each process that was running. */
  async teardown(run: Run, graceMs: number): Promise<Map<string, number>> {
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    const procs = [...run.procs];
    run.procs.clear();
    const codes = new Map<string, number>();
    await Promise.all(
      procs.map(async ([name, p]) => {
        codes.set(name, (await p.kill(graceMs)).exitCode);
      }),
    );
    for (const l of run.logs.values()) l.endRun();
    return codes;
  }

  /** Publishes the model (coalesced: at most one patch in flight per pod, always the latest state). */
  publish(run: Run): void {
    run.dirty = true;
    if (run.flushing) return;
    run.flushing = (async () => {
      try {
        while (run.dirty && !run.gone) {
          run.dirty = false;
          await this.patchStatus(run);
        }
      } finally {
        run.flushing = undefined;
      }
    })();
  }

  async flushed(run: Run): Promise<void> {
    while (run.flushing) await run.flushing;
  }

  async patchStatus(run: Run): Promise<void> {
    const path = resourcePath({ ...Resources.pods, namespace: run.ns, name: run.name, subresource: "status" });
    for (let attempt = 0; ; attempt++) {
      const body = podStatusPatch(run.model, run.pod, nowIso());
      try {
        await this.client.patch(path, body, "strategic");
        this.stats.statusPatches++;
        return;
      } catch (e) {
        if (isNotFound(e)) {
          run.gone = true;
          return;
        }
        this.stats.apiErrors++;
        if (!transient(e) || attempt >= 6 || this.stopped) {
          this.log("error", "pod status patch failed", { pod: `${run.ns}/${run.name}`, error: errMsg(e) });
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  // ------------------------------------------------------------------------------------------ deletion

  graceMs(pod: Pod): number {
    const secs = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.min(secs * 1000, this.opts.maxGracePeriodMs ?? 2000);
  }

  /**
   * The pod is being deleted: stop its containers, move a non-terminal pod to Failed (exit 137 in
   * simulate mode, the processes' exit codes in exec mode), then DELETE it with grace 0 (uid precondition).
   */
  async handleDeletion(pod: Pod, run: Run | undefined): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    if (this.deleted.has(uid)) return;
    this.deleted.add(uid);
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    if (run) {
      const wasTerminal = run.finished;
      run.finished = true;
      if (!wasTerminal) for (const c of [...run.model.init, ...run.model.containers]) this.simulatedExit(run, c, 137);
      const codes = await this.teardown(run, this.graceMs(pod));
      if (!wasTerminal) {
        const now = nowIso();
        for (const c of [...run.model.init, ...run.model.containers]) {
          const code = codes.get(c.name);
          if (code !== undefined && "running" in c.state) terminate(c, code, now);
        }
        killPod(run.model, now);
        this.stats.podsKilled++;
        this.publish(run);
        await this.flushed(run);
      }
    } else if (!isTerminalPhase(pod.status?.phase)) {
      const now = nowIso();
      const hostIP = this.nodeIPs.get(pod.spec?.nodeName ?? "") ?? "";
      const ips = { podIP: pod.status?.podIP || this.ips.take(), hostIP };
      const model = pod.status?.phase === "Running" ? adoptPodModel(pod, ips, now) : newPodModel(pod, ips, now, false);
      killPod(model, now);
      try {
        await this.client.patch(
          resourcePath({ ...Resources.pods, namespace: ns, name, subresource: "status" }),
          podStatusPatch(model, pod, now),
          "strategic",
        );
        this.stats.podsKilled++;
      } catch (e) {
        if (!isNotFound(e))
          this.log("warn", "cannot mark deleted pod Failed", { pod: `${ns}/${name}`, error: errMsg(e) });
      }
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.delete(resourcePath({ ...Resources.pods, namespace: ns, name }), {
          gracePeriodSeconds: 0,
          preconditions: { uid },
        });
        this.stats.podsDeleted++;
        this.log("debug", "pod deletion finalized", { pod: `${ns}/${name}` });
        return;
      } catch (e) {
        if (isNotFound(e) || isConflict(e)) return;
        this.stats.apiErrors++;
        if (!transient(e) || attempt >= 6 || this.stopped) {
          this.deleted.delete(uid);
          throw e;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  /** The pod is gone from the API (or from a relist): drop everything about it. */
  async forget(uid: string): Promise<void> {
    const run = this.runs.get(uid);
    this.deleted.delete(uid);
    if (!run) return;
    run.gone = true;
    run.finished = true;
    this.runs.delete(uid);
    if (this.byName.get(`${run.ns}/${run.name}`) === uid) this.byName.delete(`${run.ns}/${run.name}`);
    this.ips.release(run.model.podIP);
    this.stats.tracked = this.runs.size;
    await this.teardown(run, 0);
  }

  // ------------------------------------------------------------------------------------------ exec runtime

  async fetchSources(run: Run, containers: Container[]): Promise<EnvSources> {
    const out: EnvSources = { configMaps: {}, secrets: {} };
    for (const c of containers) {
      const want = envSources(c);
      for (const [kind, names, store] of [
        ["configmaps", want.configMaps, out.configMaps],
        ["secrets", want.secrets, out.secrets],
      ] as const) {
        for (const n of names) {
          if (n in store) continue;
          try {
            const obj = await this.client.get<{ data?: Record<string, string> }>(
              resourcePath({ group: "", version: "v1", resource: kind, namespace: run.ns, name: n }),
            );
            store[n] = obj.data ?? {};
          } catch (e) {
            if (!isNotFound(e)) throw e;
            store[n] = undefined;
          }
        }
      }
    }
    return out;
  }

  /** Exec runtime: resolve envs, run init containers in order, then start sidecars and main containers. */
  async execStart(run: Run, adopt: boolean): Promise<void> {
    const spec = run.pod.spec;
    const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: this.podDir(run.ns, run.name),
      HOSTNAME: spec?.hostname ?? run.name,
    };
    try {
      const sources = await this.fetchSources(run, all);
      for (const c of all) {
        const r = resolveEnv(run.pod, c, { podIP: run.model.podIP, hostIP: run.model.hostIP }, sources, base);
        for (const w of r.warnings) this.log("warn", `pod ${run.ns}/${run.name} container ${c.name}: ${w}`);
        if ((c.command?.length ?? 0) + (c.args?.length ?? 0) > 0) run.envs.set(c.name, r.env);
      }
    } catch (e) {
      if (!(e instanceof EnvError)) throw e;
      for (const c of run.model.containers)
        c.state = { waiting: { reason: "CreateContainerConfigError", message: e.message } };
      run.model.phase = "Pending";
      this.publish(run);
      return;
    }
    if (run.finished) return;
    if (!run.model.initialized) {
      for (const ic of run.model.init) {
        if (run.finished) return;
        ic.state = { running: { startedAt: nowIso() } };
        if (ic.kind === "sidecar") {
          this.startProcess(run, ic);
          continue;
        }
        this.publish(run);
        const code = await this.runToEnd(run, ic);
        if (run.finished || code === undefined) return;
        if (code !== 0) {
          terminate(ic, code, nowIso());
          this.finish(run, "Failed");
          this.publish(run);
          return;
        }
        terminate(ic, 0, nowIso());
      }
      const now = nowIso();
      run.model.initialized = true;
      run.model.phase = "Running";
      for (const c of run.model.containers) c.state = { running: { startedAt: now } };
    }
    for (const c of this.runningContainers(run)) if (!run.procs.has(c.name)) this.startProcess(run, c);
    if (adopt)
      this.log("info", "exec runtime restarted the processes of a re-driven pod", { pod: `${run.ns}/${run.name}` });
    this.publish(run);
  }

  /** Runs an init container's process to its end; undefined when the pod was torn down meanwhile. */
  async runToEnd(run: Run, c: ContainerModel): Promise<number | undefined> {
    const env = run.envs.get(c.name);
    if (!env) return 0;
    this.beginLog(run, c, true);
    const proc = spawnContainer({
      argv: containerArgv(this.containerSpec(run, c.name), env),
      env,
      cwd: this.podDir(run.ns, run.name),
      logFile: this.logsPath(run.ns, run.name, c.name),
    });
    run.procs.set(c.name, proc);
    const e = await proc.exited;
    this.containerLog(run, c.name).endRun(c.restartCount);
    if (run.procs.get(c.name) !== proc) return undefined;
    run.procs.delete(c.name);
    return e.exitCode;
  }

  /** Starts (or restarts) the process of a running container, with its readiness handling. */
  startProcess(run: Run, c: ContainerModel): void {
    const env = run.envs.get(c.name);
    if (!env) {
      // No command: the image's entrypoint cannot run here, so the container is simulated.
      this.simulate(run, c);
      return;
    }
    const spec = this.containerSpec(run, c.name);
    run.simulated.delete(c.name);
    this.beginLog(run, c, true);
    const proc = spawnContainer({
      argv: containerArgv(spec, env),
      env,
      cwd: this.podDir(run.ns, run.name),
      logFile: this.logsPath(run.ns, run.name, c.name),
    });
    run.procs.set(c.name, proc);
    const rc = c.restartCount;
    void proc.exited.then((e) => {
      this.containerLog(run, c.name).endRun(rc);
      if (run.procs.get(c.name) !== proc) return;
      run.procs.delete(c.name);
      void this.serial(run.uid, () => {
        if (c.restartCount === rc)
          this.containerExited(run, c, e.exitCode, e.error ? "StartError" : undefined, e.error);
      });
    });
    const probe = spec.readinessProbe;
    if (!probe) {
      c.ready = true;
      return;
    }
    if (!probe.exec?.command) {
      this.timer(run, (probe.initialDelaySeconds ?? 0) * 1000, () => {
        if (c.restartCount !== rc || !("running" in c.state)) return;
        c.ready = true;
        this.publish(run);
      });
      return;
    }
    const argv = containerArgv({ name: c.name, command: probe.exec.command }, env);
    const period = (probe.periodSeconds ?? 10) * 1000;
    const timeout = (probe.timeoutSeconds ?? 1) * 1000;
    const successes = probe.successThreshold ?? 1;
    const failures = probe.failureThreshold ?? 3;
    let ok = 0;
    let bad = 0;
    const tick = async () => {
      if (c.restartCount !== rc || !("running" in c.state)) return;
      const pass = await runProbe({ argv, env, cwd: this.podDir(run.ns, run.name) }, timeout);
      if (run.finished || this.stopped || c.restartCount !== rc || !("running" in c.state)) return;
      if (pass) {
        ok++;
        bad = 0;
        if (!c.ready && ok >= successes) {
          c.ready = true;
          this.publish(run);
        }
      } else {
        bad++;
        ok = 0;
        if (c.ready && bad >= failures) {
          c.ready = false;
          this.publish(run);
        }
      }
      this.timer(run, period, () => void tick());
    };
    this.timer(run, (probe.initialDelaySeconds ?? 0) * 1000, () => void tick());
  }

  // ------------------------------------------------------------------------------------------ test hooks

  async completePod(
    ns: string,
    name: string,
    exitCode: number,
    opts: { container?: string; waitMs?: number } = {},
  ): Promise<void> {
    const deadline = Date.now() + (opts.waitMs ?? 10_000);
    let uid = this.byName.get(`${ns}/${name}`);
    while (uid === undefined) {
      if (Date.now() > deadline || this.stopped)
        throw new Error(`fake kubelet: pod ${ns}/${name} is not running on its nodes`);
      await new Promise((r) => setTimeout(r, 50));
      uid = this.byName.get(`${ns}/${name}`);
    }
    const id = uid;
    let run: Run | undefined;
    let failure: Error | undefined;
    await this.serial(id, async () => {
      run = this.runs.get(id);
      if (!run) {
        failure = new Error(`fake kubelet: pod ${ns}/${name} is gone`);
        return;
      }
      if (run.finished) return;
      const r = run;
      const targets = r.model.containers.filter(
        (c) => "running" in c.state && (opts.container === undefined || c.name === opts.container),
      );
      if (opts.container !== undefined && targets.length === 0) {
        failure = new Error(`fake kubelet: pod ${ns}/${name} has no running container ${opts.container}`);
        return;
      }
      for (const c of targets) {
        const p = r.procs.get(c.name);
        if (p) {
          r.procs.delete(c.name);
          await p.kill(0);
        }
        this.containerExited(r, c, exitCode);
      }
    });
    if (failure) throw failure;
    if (run) await this.flushed(run);
  }
}

/** Registers the nodes, lists and watches their pods, and resolves once the first list is handled. */
export async function startFakeKubelet(opts: FakeKubeletOptions): Promise<FakeKubelet> {
  if (!opts.client && !opts.kubeconfigPath) throw new Error("startFakeKubelet: pass client or kubeconfigPath");
  const k = new Kubelet(opts);
  await k.start();
  return {
    nodeNames: [...k.nodeIPs.keys()],
    runtime: k.runtime,
    dataDir: k.dataDir,
    stats: k.stats,
    kubeletPort: k.server?.port ?? 0,
    kubeletCaCert: k.server?.caCert ?? "",
    logsPath: (ns, pod, container) => k.logsPath(ns, pod, container),
    readLogs: async (ns, pod, container) => {
      try {
        return await readFile(k.logsPath(ns, pod, container), "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
        throw e;
      }
    },
    completePod: (ns, name, exitCode, o) => k.completePod(ns, name, exitCode, o),
    stop: () => k.stop(),
  };
}
