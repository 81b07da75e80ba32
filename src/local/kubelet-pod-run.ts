// One pod as the fake kubelet runs it: its model (what the status says), its timers and processes,
// its containers' logs, and its status writer. The state machine that moves it is kubelet-pods.ts; the
// runtimes that run its containers are kubelet-runtime-sim.ts and kubelet-runtime-exec.ts.
import { join } from "node:path";
import type { Container, Pod } from "../api/k8s.ts";
import type { KubeClient } from "../runtime/client.ts";
import { type BackOffPolicy, RestartBackOff } from "./kubelet-backoff.ts";
import { type KubeletLog, type KubeletStats, nowIso } from "./kubelet-context.ts";
import type { ContainerProcess } from "./kubelet-exec.ts";
import { ContainerLog } from "./kubelet-logs.ts";
import type { LogTarget } from "./kubelet-server.ts";
import type { SimPlan } from "./kubelet-sim.ts";
import { type ContainerModel, type PodModel, podStatusPatch } from "./kubelet-status.ts";
import { StatusWriter } from "./kubelet-status-writer.ts";

/** Where the fake kubelet keeps a pod's files under its data dir. */
export const podLogDir = (dataDir: string, ns: string, pod: string): string => join(dataDir, "logs", ns, pod);
export const containerLogPath = (dataDir: string, ns: string, pod: string, container: string): string =>
  join(podLogDir(dataDir, ns, pod), `${container}.log`);
export const podWorkDir = (dataDir: string, ns: string, pod: string): string => join(dataDir, "pods", ns, pod);

export interface PodRunOptions {
  pod: Pod;
  model: PodModel;
  plan: SimPlan;
  /** Re-driven after a kubelet restart: the first run of each container began before us. */
  adopted: boolean;
  dataDir: string;
  client: KubeClient;
  log: KubeletLog;
  stats: KubeletStats;
  /** True once the kubelet stops: timers no longer fire. */
  stopped: () => boolean;
  restartBackOff?: BackOffPolicy;
}

export class PodRun {
  readonly uid: string;
  readonly ns: string;
  readonly name: string;
  /** The pod as last seen from the API. */
  pod: Pod;
  readonly model: PodModel;
  readonly plan: SimPlan;
  readonly adopted: boolean;
  /** Each running container's process (exec runtime). */
  readonly procs = new Map<string, ContainerProcess>();
  /** Resolved environment of each container that has a command (exec runtime). */
  readonly envs = new Map<string, Record<string, string>>();
  /** Containers whose current run is simulated (no process). */
  readonly simulated = new Set<string>();
  /** Terminal (or being deleted): no more container runs or timers. */
  finished = false;
  /** Grows each time every container restarts (RestartAllContainers): work of an older start stops. */
  generation = 0;
  readonly status: StatusWriter;
  /** Crash-loop back-off of the containers' in-place restarts. */
  readonly backOff: RestartBackOff;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly changeWaiters = new Set<() => void>();
  private readonly logs = new Map<string, ContainerLog>();
  private readonly dataDir: string;
  private readonly stopped: () => boolean;

  constructor(o: PodRunOptions) {
    this.pod = o.pod;
    this.uid = o.pod.metadata?.uid ?? "";
    this.ns = o.pod.metadata?.namespace ?? "";
    this.name = o.pod.metadata?.name ?? "";
    this.model = o.model;
    this.plan = o.plan;
    this.adopted = o.adopted;
    this.dataDir = o.dataDir;
    this.stopped = o.stopped;
    this.backOff = new RestartBackOff(o.restartBackOff);
    this.status = new StatusWriter({
      client: o.client,
      log: o.log,
      stats: o.stats,
      namespace: this.ns,
      name: this.name,
      render: () => podStatusPatch(this.model, this.pod, nowIso()),
      stopped: o.stopped,
    });
  }

  /** `namespace/name`, for logs and lookups. */
  get key(): string {
    return `${this.ns}/${this.name}`;
  }

  get workDir(): string {
    return podWorkDir(this.dataDir, this.ns, this.name);
  }

  logPath(container: string): string {
    return containerLogPath(this.dataDir, this.ns, this.name, container);
  }

  /** Init containers (and sidecars), then main containers. */
  allContainers(): ContainerModel[] {
    return [...this.model.init, ...this.model.containers];
  }

  runningContainers(): ContainerModel[] {
    return this.allContainers().filter((c) => "running" in c.state);
  }

  containerSpec(name: string): Container {
    const all = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])];
    return all.find((c) => c.name === name) ?? { name };
  }

  /** Runs `fn` after `ms` unless the pod finished or the kubelet stopped meanwhile. */
  timer(ms: number, fn: () => void): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        if (!this.finished && !this.stopped()) fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(t);
  }

  // ---- logs

  containerLog(name: string): ContainerLog {
    let l = this.logs.get(name);
    if (!l) {
      l = new ContainerLog(this.logPath(name));
      this.logs.set(name, l);
    }
    return l;
  }

  /**
   * Starts the log segment of the container's current run; false when it already exists or the run
   * began before this kubelet (adopted: the file so far counts as that run).
   */
  beginLog(c: ContainerModel, watchFile: boolean): boolean {
    const l = this.containerLog(c.name);
    if (l.segment(c.restartCount)) return false;
    const adopted = this.adopted && !l.started;
    const startedAt = "running" in c.state ? Date.parse(c.state.running.startedAt) : Date.now();
    l.beginRun(c.restartCount, adopted ? startedAt : Date.now(), watchFile, adopted);
    return !adopted;
  }

  /** A simulated container's run ends: its synthetic log says so. */
  simulatedExit(c: ContainerModel, exitCode: number): void {
    if (!this.simulated.has(c.name) || !("running" in c.state)) return;
    this.simulated.delete(c.name);
    const l = this.containerLog(c.name);
    l.append(`fake-kubelet: container ${c.name} exited with code ${exitCode}\n`, Date.now());
    l.endRun(c.restartCount);
  }

  /** What `/containerLogs/{ns}/{pod}/{container}` serves for this pod, with the kubelet's errors. */
  logTarget(container: string, previous: boolean): LogTarget | { status: number; message: string } {
    const c = this.allContainers().find((x) => x.name === container);
    if (!c) return { status: 404, message: `container "${container}" not found in pod "${this.name}"` };
    const podName = `${this.name}_${this.ns}`;
    // The run that ended last: the current one's predecessor, or (waiting to restart) the current count.
    const lastRun = "waiting" in c.state ? c.restartCount : c.restartCount - 1;
    if (previous) {
      if (!c.lastTerminated)
        return { status: 400, message: `previous terminated container "${container}" in pod "${podName}" not found` };
      const log = this.containerLog(c.name);
      return { log, run: lastRun, fallbackTime: Date.parse(c.lastTerminated.startedAt) };
    }
    // Waiting to restart: the run that just ended, as a kubelet serves it.
    if ("waiting" in c.state && c.lastTerminated)
      return { log: this.containerLog(c.name), run: lastRun, fallbackTime: Date.parse(c.lastTerminated.startedAt) };
    if ("waiting" in c.state)
      return {
        status: 400,
        message: `container "${container}" in pod "${podName}" is waiting to start: ${c.state.waiting.reason}`,
      };
    const startedAt = Date.parse("running" in c.state ? c.state.running.startedAt : c.state.terminated.startedAt);
    const log = this.containerLog(c.name);
    if (!log.segment(c.restartCount)) {
      // A run that wrote nothing here (an init container without a command) or ended before this
      // kubelet started: the file as it is.
      log.beginRun(c.restartCount, startedAt, false, true);
      log.endRun(c.restartCount);
    }
    return { log, run: c.restartCount, fallbackTime: startedAt };
  }

  /** Resolves at the next {@link notifyChange}: a container started, or the pod restarted or ended. */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.add(resolve));
  }

  notifyChange(): void {
    const waiters = [...this.changeWaiters];
    this.changeWaiters.clear();
    for (const w of waiters) w();
  }

  /**
   * Stops every container (timers and processes, SIGKILL after `graceMs`) and ends their log runs;
   * resolves with the exit code of each process that was running. The pod itself goes on.
   */
  async stopContainers(graceMs: number): Promise<Map<string, number>> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const procs = [...this.procs];
    this.procs.clear();
    this.simulated.clear();
    this.notifyChange();
    const codes = new Map<string, number>();
    await Promise.all(
      procs.map(async ([name, p]) => {
        codes.set(name, (await p.kill(graceMs)).exitCode);
      }),
    );
    for (const l of this.logs.values()) l.endRun();
    return codes;
  }

  /** Stops timers and processes for good; resolves with the exit of each process that was running. */
  teardown(graceMs: number): Promise<Map<string, number>> {
    return this.stopContainers(graceMs);
  }
}
