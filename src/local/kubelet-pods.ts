// The fake kubelet's pod state machine: which pods are ours, one handler at a time per pod, start (or
// re-drive after a restart), container exits (restart in place per restartPolicy, or terminate and
// finish the pod), deletion (stop containers, Failed, DELETE with grace 0), and forgetting pods that are
// gone. Containers run in a runtime (kubelet-runtime.ts); the status model is kubelet-status.ts.
import { rm } from "node:fs/promises";
import type { Pod } from "../api/k8s.ts";
import { isConflict, isNotFound, type KubeClient } from "../runtime/client.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { type BackOffPolicy, goDuration } from "./kubelet-backoff.ts";
import { delay, errMsg, type KubeletLog, type KubeletStats, nowIso, transient } from "./kubelet-context.ts";
import { IpPool } from "./kubelet-ips.ts";
import { PodRun, podLogDir } from "./kubelet-pod-run.ts";
import type { ContainerRuntime, RuntimeHost } from "./kubelet-runtime.ts";
import type { LogTarget } from "./kubelet-server.ts";
import { simPlan } from "./kubelet-sim.ts";
import {
  adoptPodModel,
  type ContainerModel,
  exitAction,
  isTerminalPhase,
  killPod,
  newPodModel,
  podConditions,
  podStatusPatch,
  resetForRestartAll,
  runAgain,
  terminalPhase,
  terminate,
  waitToRestart,
} from "./kubelet-status.ts";

export interface PodLifecycleOptions {
  client: KubeClient;
  log: KubeletLog;
  stats: KubeletStats;
  runtime: "simulate" | "exec";
  dataDir: string;
  /** The IP a node advertises; "" for nodes this kubelet does not serve. */
  nodeIP: (node: string | undefined) => string;
  /** How long a container runs when the pod's annotations say nothing. */
  defaultDurationMs?: number;
  /** Containers run until deleted (or completePod) when the pod's annotations say nothing. */
  runForever?: boolean;
  /** Cap on terminationGracePeriodSeconds when killing processes. */
  maxGracePeriodMs: number;
  /** Crash-loop back-off of in-place restarts (default DefaultRestartBackOff). */
  restartBackOff?: BackOffPolicy;
  stopped: () => boolean;
}

/** Containers still running in the model end with the exit code their stopped process gave. */
function recordExits(run: PodRun, codes: ReadonlyMap<string, number>, now: string): void {
  for (const c of run.allContainers()) {
    const code = codes.get(c.name);
    if (code !== undefined && "running" in c.state) terminate(c, code, now);
  }
}

export class PodLifecycle implements RuntimeHost {
  readonly log: KubeletLog;
  private readonly o: PodLifecycleOptions;
  private readonly runs = new Map<string, PodRun>();
  /** `namespace/name` → UID of the tracked pod. */
  private readonly byName = new Map<string, string>();
  /** UIDs whose deletion we have finalized (DELETE sent): never again. */
  private readonly deleted = new Set<string>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly ips = new IpPool();
  private runtime!: ContainerRuntime;

  constructor(o: PodLifecycleOptions) {
    this.o = o;
    this.log = o.log;
  }

  /** Set once, before the first pod (the runtime needs this object as its host). */
  useRuntime(r: ContainerRuntime): void {
    this.runtime = r;
  }

  stopped(): boolean {
    return this.o.stopped();
  }

  // ---- events

  /** Runs `fn` after everything queued before for the same pod; never rejects. */
  serial(uid: string, fn: () => Promise<void> | void): Promise<void> {
    const prev = this.queues.get(uid) ?? Promise.resolve();
    const next = prev
      .then(fn)
      .catch((e) => {
        this.o.stats.apiErrors++;
        this.log("error", "pod handler failed", { uid, error: errMsg(e) });
      })
      .finally(() => {
        if (this.queues.get(uid) === next) this.queues.delete(uid);
      });
    this.queues.set(uid, next);
    return next;
  }

  /** A pod from the watch: handled in order with the pod's other events, when it is on one of our nodes. */
  onPod(type: "ADDED" | "MODIFIED" | "DELETED", pod: Pod): void {
    if (!this.o.nodeIP(pod.spec?.nodeName)) return;
    const uid = pod.metadata?.uid ?? "";
    if (type === "DELETED") {
      void this.serial(uid, () => this.forget(uid));
      return;
    }
    void this.serial(uid, () => this.sync(pod));
  }

  /** After a (re)list: pods we track that it did not hold are gone. */
  onList(seen: Set<string>): void {
    for (const uid of this.runs.keys()) if (!seen.has(uid)) void this.serial(uid, () => this.forget(uid));
  }

  private async sync(pod: Pod): Promise<void> {
    if (this.stopped()) return;
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
  private recheckGates(run: PodRun): void {
    const before = run.model.transitions.Ready?.status;
    const conds = podConditions({ ...run.model, transitions: { ...run.model.transitions } }, run.pod, nowIso());
    if (conds.find((c) => c.type === "Ready")?.status !== before) run.status.publish();
  }

  // ---- start

  private async startPod(pod: Pod): Promise<void> {
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const hostIP = this.o.nodeIP(pod.spec?.nodeName);
    const adopt = pod.status?.phase === "Running";
    const now = nowIso();
    let podIP = pod.status?.podIP;
    if (podIP) this.ips.claim(podIP);
    else podIP = this.ips.take();
    // Init containers to run, or sidecars whose startup probe gates the containers after them.
    const hasInit = (pod.spec?.initContainers ?? []).some((c) => c.restartPolicy !== "Always" || c.startupProbe);
    const model = adopt
      ? adoptPodModel(pod, { podIP, hostIP }, now)
      : newPodModel(pod, { podIP, hostIP }, now, this.o.runtime === "simulate" || !hasInit);
    const plan = simPlan(pod, { defaultDurationMs: this.o.defaultDurationMs, runForever: this.o.runForever });
    for (const w of plan.warnings) this.log("warn", `pod ${ns}/${name}: ${w}`);
    const run = new PodRun({
      pod,
      model,
      plan,
      adopted: adopt,
      dataDir: this.o.dataDir,
      client: this.o.client,
      log: this.log,
      stats: this.o.stats,
      stopped: this.o.stopped,
      restartBackOff: this.o.restartBackOff,
    });
    this.runs.set(run.uid, run);
    this.byName.set(run.key, run.uid);
    this.o.stats.tracked = this.runs.size;
    if (adopt) this.o.stats.podsAdopted++;
    else this.o.stats.podsStarted++;
    this.log("debug", adopt ? "re-driving pod" : "starting pod", { pod: run.key, node: pod.spec?.nodeName });
    if (!adopt) await rm(podLogDir(this.o.dataDir, ns, name), { recursive: true, force: true });
    this.runtime.startPod(run);
  }

  // ---- containers

  containerExited(
    run: PodRun,
    c: ContainerModel,
    exitCode: number,
    reason?: string,
    message?: string,
  ): Promise<void> | undefined {
    if (run.finished || !("running" in c.state)) return;
    const action = exitAction(c, run.containerSpec(c.name), run.pod.spec?.restartPolicy, exitCode);
    if (action === "restartAll") return this.restartAll(run, c, exitCode, reason, message);
    run.simulatedExit(c, exitCode);
    if (action === "restart") {
      this.restartInPlace(run, c, exitCode, () => this.runtime.restartContainer(run, c));
      return;
    }
    terminate(c, exitCode, nowIso(), reason, message);
    const phase = terminalPhase(run.model);
    if (phase) this.finish(run, phase);
    run.status.publish();
  }

  async restartAll(run: PodRun, c: ContainerModel, exitCode: number, reason?: string, message?: string): Promise<void> {
    if (run.finished || !("running" in c.state)) return;
    for (const x of run.allContainers()) run.simulatedExit(x, x === c ? exitCode : 137);
    terminate(c, exitCode, nowIso(), reason, message);
    run.generation++;
    run.model.restartingAll = true;
    run.status.publish();
    // Written before the containers stop, so the API shows the restart (a kubelet's next status sync).
    await run.status.flushed();
    this.log("debug", "container exited under a RestartAllContainers rule: restarting every container", {
      pod: run.key,
      container: c.name,
      exitCode,
    });
    // No preStop hooks (KEP-5532); the pod's grace period, capped, before SIGKILL.
    const codes = await run.stopContainers(this.graceMs(run.pod));
    if (run.finished) return;
    const now = nowIso();
    recordExits(run, codes, now);
    resetForRestartAll(run.model, now);
    this.o.stats.containerRestarts += run.allContainers().length;
    this.o.stats.podRestartsAll++;
    run.status.publish();
    this.runtime.restartAll(run);
  }

  /**
   * Restarts a container whose run ended, in the same pod: at once the first time, later after the
   * crash-loop back-off (waiting with reason CrashLoopBackOff meanwhile). `start` is called once the
   * container is running again (restartCount grown); never when the pod ends first.
   */
  restartInPlace(run: PodRun, c: ContainerModel, exitCode: number, start: () => void): void {
    const exitedAt = Date.now();
    const rc = c.restartCount;
    const restart = () => {
      const at = Date.now();
      run.backOff.restarted(c.name, exitedAt, at);
      runAgain(c, new Date(at).toISOString());
      this.o.stats.containerRestarts++;
      this.log("debug", "container restarted", { pod: run.key, container: c.name, exitCode });
      start();
      run.status.publish();
    };
    const wait = run.backOff.delayMs(c.name, exitedAt, exitedAt);
    if (wait === 0) {
      waitToRestart(c, exitCode, new Date(exitedAt).toISOString(), "");
      restart();
      return;
    }
    const message = `back-off ${goDuration(wait)} restarting failed container=${c.name} pod=${run.name}_${run.ns}(${run.uid})`;
    waitToRestart(c, exitCode, new Date(exitedAt).toISOString(), message);
    this.log("debug", "container in back-off", { pod: run.key, container: c.name, exitCode, backOffMs: wait });
    run.status.publish();
    run.timer(wait, () => {
      void this.serial(run.uid, () => {
        if (!run.finished && c.restartCount === rc && "waiting" in c.state) restart();
      });
    });
  }

  /** Every main container ended: sidecars stop (reported exit 0), the pod becomes terminal. */
  finish(run: PodRun, phase: "Succeeded" | "Failed"): void {
    const now = nowIso();
    for (const c of run.model.init)
      if ("running" in c.state) {
        run.simulatedExit(c, 0);
        terminate(c, 0, now);
      }
    run.model.phase = phase;
    run.finished = true;
    void run.teardown(0);
    if (phase === "Succeeded") this.o.stats.podsSucceeded++;
    else this.o.stats.podsFailed++;
    this.log("debug", `pod ${phase}`, { pod: run.key });
  }

  // ---- deletion

  private graceMs(pod: Pod): number {
    const secs = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.min(secs * 1000, this.o.maxGracePeriodMs);
  }

  /**
   * The pod is being deleted: stop its containers, move a non-terminal pod to Failed (exit 137 in
   * simulate mode, the processes' exit codes in exec mode), then DELETE it with grace 0 (uid precondition).
   */
  private async handleDeletion(pod: Pod, run: PodRun | undefined): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    if (this.deleted.has(uid)) return;
    this.deleted.add(uid);
    if (run) await this.killRun(run, this.graceMs(pod));
    else if (!isTerminalPhase(pod.status?.phase)) await this.markKilled(pod);
    await this.finalizeDeletion(pod);
  }

  /** Stops a tracked pod's containers; a pod that was not terminal yet becomes Failed. */
  private async killRun(run: PodRun, graceMs: number): Promise<void> {
    const wasTerminal = run.finished;
    run.finished = true;
    if (!wasTerminal) for (const c of run.allContainers()) run.simulatedExit(c, 137);
    const codes = await run.teardown(graceMs);
    if (wasTerminal) return;
    const now = nowIso();
    recordExits(run, codes, now);
    killPod(run.model, now);
    this.o.stats.podsKilled++;
    run.status.publish();
    await run.status.flushed();
  }

  /** A deleted pod we never ran (e.g. deleted while we were down): Failed, as a kubelet reports it. */
  private async markKilled(pod: Pod): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const now = nowIso();
    const ips = { podIP: pod.status?.podIP || this.ips.take(), hostIP: this.o.nodeIP(pod.spec?.nodeName) };
    const model = pod.status?.phase === "Running" ? adoptPodModel(pod, ips, now) : newPodModel(pod, ips, now, false);
    killPod(model, now);
    try {
      await this.o.client.patch(
        resourcePath({ ...Resources.pods, namespace, name, subresource: "status" }),
        podStatusPatch(model, pod, now),
        "strategic",
      );
      this.o.stats.podsKilled++;
    } catch (e) {
      if (!isNotFound(e))
        this.log("warn", "cannot mark deleted pod Failed", { pod: `${namespace}/${name}`, error: errMsg(e) });
    }
  }

  /** DELETE with grace 0 and a UID precondition (never another pod of the same name); retried when transient. */
  private async finalizeDeletion(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.client.delete(resourcePath({ ...Resources.pods, namespace: ns, name }), {
          gracePeriodSeconds: 0,
          preconditions: { uid },
        });
        this.o.stats.podsDeleted++;
        this.log("debug", "pod deletion finalized", { pod: `${ns}/${name}` });
        return;
      } catch (e) {
        if (isNotFound(e) || isConflict(e)) return;
        this.o.stats.apiErrors++;
        if (!transient(e) || attempt >= 6 || this.stopped()) {
          this.deleted.delete(uid);
          throw e;
        }
        await delay(100 * 2 ** attempt);
      }
    }
  }

  /** The pod is gone from the API (or from a relist): drop everything about it. */
  private async forget(uid: string): Promise<void> {
    const run = this.runs.get(uid);
    this.deleted.delete(uid);
    if (!run) return;
    run.status.gone = true;
    run.finished = true;
    this.runs.delete(uid);
    if (this.byName.get(run.key) === uid) this.byName.delete(run.key);
    this.ips.release(run.model.podIP);
    this.o.stats.tracked = this.runs.size;
    await run.teardown(0);
  }

  // ---- queries and test hooks

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
    return run.logTarget(container, previous);
  }

  /** Ends the pod's running main containers (or just `container`) with `exitCode`; see FakeKubelet.completePod. */
  async completePod(
    ns: string,
    name: string,
    exitCode: number,
    opts: { container?: string; waitMs?: number } = {},
  ): Promise<void> {
    const deadline = Date.now() + (opts.waitMs ?? 10_000);
    let uid = this.byName.get(`${ns}/${name}`);
    while (uid === undefined) {
      if (Date.now() > deadline || this.stopped())
        throw new Error(`fake kubelet: pod ${ns}/${name} is not running on its nodes`);
      await delay(50);
      uid = this.byName.get(`${ns}/${name}`);
    }
    const id = uid;
    let run: PodRun | undefined;
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
    if (run) await run.status.flushed();
  }

  // ---- stop

  /** Stops every pod's timers and processes (within `graceMs`). */
  async teardownAll(graceMs: number): Promise<void> {
    await Promise.allSettled([...this.runs.values()].map((r) => r.teardown(graceMs)));
  }

  /** Resolves when queued handlers and status writes are done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.queues.values(), ...[...this.runs.values()].map((r) => r.status.flushed())]);
  }
}
