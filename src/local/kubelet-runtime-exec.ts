// The exec runtime: containers' commands run as local processes (kubelet-exec.ts) in the pod's work dir,
// with the environment resolved as a kubelet does (kubelet-env.ts): init containers in order, then
// sidecars and main containers. Startup probes run (exec, httpGet and tcpSocket against the pod's own
// loopback address, kubelet-probes.ts) and gate the containers after a sidecar, as a kubelet's do;
// readiness probes run when they are exec probes, others pass after their delay. Containers restart in
// place per restartPolicy and restartPolicyRules, alone or all together (RestartAllContainers). A
// container without a command cannot run its image's entrypoint here, so it is simulated. The pod's
// service account is mounted under its work dir (kubelet-serviceaccount.ts).
import { mkdirSync } from "node:fs";
import type { Container } from "../api/k8s.ts";
import { isNotFound, type KubeClient } from "../runtime/client.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { errMsg, nowIso } from "./kubelet-context.ts";
import { containerArgv, EnvError, type EnvSources, envSources, resolveEnv } from "./kubelet-env.ts";
import { runProbe, spawnContainer } from "./kubelet-exec.ts";
import { LocalPodIPEnv } from "./kubelet-ips.ts";
import type { PodRun } from "./kubelet-pod-run.ts";
import { type Probe, probeOnce } from "./kubelet-probes.ts";
import type { ContainerRuntime, RuntimeHost } from "./kubelet-runtime.ts";
import type { SimulatedRuntime } from "./kubelet-runtime-sim.ts";
import { mountServiceAccount } from "./kubelet-serviceaccount.ts";
import { type ContainerModel, exitAction, terminate } from "./kubelet-status.ts";

export class ExecRuntime implements ContainerRuntime {
  /** The pod lifecycle it reports to, the API client (ConfigMaps/Secrets for env), the simulator for containers without a command. */
  private readonly deps: { host: RuntimeHost; client: KubeClient; sim: SimulatedRuntime };

  constructor(deps: { host: RuntimeHost; client: KubeClient; sim: SimulatedRuntime }) {
    this.deps = deps;
  }

  startPod(run: PodRun): void {
    mkdirSync(run.workDir, { recursive: true });
    run.status.publish();
    void this.start(run).catch((e) =>
      this.deps.host.log("error", "exec start failed", { pod: run.key, error: errMsg(e) }),
    );
  }

  restartContainer(run: PodRun, c: ContainerModel): void {
    this.startProcess(run, c);
  }

  restartAll(run: PodRun): void {
    void this.start(run).catch((e) =>
      this.deps.host.log("error", "exec restart of all containers failed", { pod: run.key, error: errMsg(e) }),
    );
  }

  /** The ConfigMaps and Secrets the containers' env refers to (undefined: absent). */
  private async fetchSources(run: PodRun, containers: Container[]): Promise<EnvSources> {
    const out: EnvSources = { configMaps: {}, secrets: {} };
    for (const c of containers) {
      const want = envSources(c);
      for (const [resource, names, store] of [
        [Resources.configmaps, want.configMaps, out.configMaps],
        [Resources.secrets, want.secrets, out.secrets],
      ] as const) {
        for (const n of names) {
          if (n in store) continue;
          try {
            const obj = await this.deps.client.get<{ data?: Record<string, string> }>(
              resourcePath({ ...resource, namespace: run.ns, name: n }),
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

  /** Resolves envs, runs init containers in order, then starts sidecars and main containers. */
  private async start(run: PodRun): Promise<void> {
    const gen = run.generation;
    const spec = run.pod.spec;
    const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: run.workDir,
      HOSTNAME: spec?.hostname ?? run.name,
      // The address the pod's processes listen on: every pod shares this machine's ports.
      [LocalPodIPEnv]: run.model.podIP,
    };
    try {
      const sa = await mountServiceAccount(this.deps.client, run.pod, run.workDir).catch((e: unknown) => {
        this.deps.host.log("warn", `pod ${run.key}: service account not mounted: ${errMsg(e)}`);
        return undefined;
      });
      Object.assign(base, sa);
      const sources = await this.fetchSources(run, all);
      for (const c of all) {
        const r = resolveEnv(run.pod, c, { podIP: run.model.podIP, hostIP: run.model.hostIP }, sources, base);
        for (const w of r.warnings) this.deps.host.log("warn", `pod ${run.key} container ${c.name}: ${w}`);
        if ((c.command?.length ?? 0) + (c.args?.length ?? 0) > 0) run.envs.set(c.name, r.env);
      }
    } catch (e) {
      if (!(e instanceof EnvError)) throw e;
      for (const c of run.model.containers)
        c.state = { waiting: { reason: "CreateContainerConfigError", message: e.message } };
      run.model.phase = "Pending";
      run.status.publish();
      return;
    }
    if (run.finished || run.generation !== gen) return;
    if (!run.model.initialized && !(await this.runInitContainers(run, gen))) return;
    for (const c of run.runningContainers()) if (!run.procs.has(c.name)) this.startProcess(run, c);
    if (run.adopted)
      this.deps.host.log("info", "exec runtime restarted the processes of a re-driven pod", { pod: run.key });
    run.status.publish();
  }

  /**
   * Runs the init containers in order (sidecars are started and left running; one with a startup probe
   * holds back what follows it until the probe passes), then marks the pod initialized with its main
   * containers running. A failed init container is retried unless the pod's restartPolicy is Never.
   * False when the pod ended or restarted (`gen` is no longer current) meanwhile, or an init container
   * failed for good (the pod is then Failed).
   */
  private async runInitContainers(run: PodRun, gen: number): Promise<boolean> {
    const current = () => !run.finished && run.generation === gen;
    for (const ic of run.model.init) {
      if (!current()) return false;
      ic.state = { running: { startedAt: nowIso() } };
      if (ic.kind === "sidecar") {
        this.startProcess(run, ic);
        run.status.publish();
        // Restarted while its probe has not passed yet: still waiting (probing, or in back-off).
        while (current() && (ic.probing === true || !("running" in ic.state))) await run.nextChange();
        if (!current()) return false;
        continue;
      }
      for (;;) {
        run.status.publish();
        const code = await this.runToEnd(run, ic);
        if (!current() || code === undefined) return false;
        if (code === 0) break;
        const action = exitAction(ic, run.containerSpec(ic.name), run.pod.spec?.restartPolicy, code);
        if (action === "restartAll") {
          void this.deps.host.serial(run.uid, () => this.deps.host.restartAll(run, ic, code));
          return false;
        }
        if (action === "terminate") {
          terminate(ic, code, nowIso());
          this.deps.host.finish(run, "Failed");
          run.status.publish();
          return false;
        }
        // Retried in place (restartPolicy OnFailure/Always), after the back-off; the pod stays Pending.
        await new Promise<void>((resolve) => this.deps.host.restartInPlace(run, ic, code, resolve));
      }
      terminate(ic, 0, nowIso());
    }
    if (!current()) return false;
    const now = nowIso();
    run.model.initialized = true;
    run.model.phase = "Running";
    for (const c of run.model.containers) c.state = { running: { startedAt: now } };
    return true;
  }

  /** Runs an init container's process to its end; undefined when the pod was torn down meanwhile. */
  private async runToEnd(run: PodRun, c: ContainerModel): Promise<number | undefined> {
    const env = run.envs.get(c.name);
    if (!env) return 0;
    run.beginLog(c, true);
    const proc = spawnContainer({
      argv: containerArgv(run.containerSpec(c.name), env),
      env,
      cwd: run.workDir,
      logFile: run.logPath(c.name),
    });
    run.procs.set(c.name, proc);
    const e = await proc.exited;
    run.containerLog(c.name).endRun(c.restartCount);
    if (run.procs.get(c.name) !== proc) return undefined;
    run.procs.delete(c.name);
    return e.exitCode;
  }

  /** Starts (or restarts) the process of a running container, with its readiness handling. */
  private startProcess(run: PodRun, c: ContainerModel): void {
    const env = run.envs.get(c.name);
    if (!env) {
      // No command: the image's entrypoint cannot run here, so the container is simulated.
      this.deps.sim.simulate(run, c);
      return;
    }
    const spec = run.containerSpec(c.name);
    run.simulated.delete(c.name);
    run.beginLog(c, true);
    const proc = spawnContainer({
      argv: containerArgv(spec, env),
      env,
      cwd: run.workDir,
      logFile: run.logPath(c.name),
    });
    run.procs.set(c.name, proc);
    const rc = c.restartCount;
    void proc.exited.then((e) => {
      run.containerLog(c.name).endRun(rc);
      if (run.procs.get(c.name) !== proc) return;
      run.procs.delete(c.name);
      void this.deps.host.serial(run.uid, () => {
        if (c.restartCount === rc)
          return this.deps.host.containerExited(run, c, e.exitCode, e.error ? "StartError" : undefined, e.error);
      });
    });
    if (spec.startupProbe) this.watchStartup(run, c, spec, env, spec.startupProbe);
    else this.watchReadiness(run, c, spec, env);
  }

  /**
   * The startup probe of a container's current run: `started` stays false (and readiness is not probed)
   * until it passes; `failureThreshold` failures in a row kill the container, which then restarts (or
   * not) as any exit would.
   */
  private watchStartup(
    run: PodRun,
    c: ContainerModel,
    spec: Container,
    env: Record<string, string>,
    probe: Probe,
  ): void {
    const rc = c.restartCount;
    c.probing = true;
    c.ready = false;
    const same = () => !run.finished && !this.deps.host.stopped() && c.restartCount === rc && "running" in c.state;
    const period = (probe.periodSeconds ?? 10) * 1000;
    const failures = probe.failureThreshold ?? 3;
    const target = { container: spec, env, cwd: run.workDir, podIP: run.model.podIP };
    let bad = 0;
    const tick = async () => {
      if (!same()) return;
      const pass = await probeOnce(probe, target);
      if (!same()) return;
      if (pass) {
        c.probing = false;
        run.notifyChange();
        this.watchReadiness(run, c, spec, env);
        run.status.publish();
        return;
      }
      if (++bad >= failures) {
        this.deps.host.log("info", "container failed its startup probe, killing it", {
          pod: run.key,
          container: c.name,
          failures: bad,
        });
        void run.procs.get(c.name)?.kill((run.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
        return;
      }
      run.timer(period, () => void tick());
    };
    run.timer((probe.initialDelaySeconds ?? 0) * 1000, () => void tick());
  }

  /** Readiness of a container's current run: its exec probe, or ready after the probe's delay (or at once). */
  private watchReadiness(run: PodRun, c: ContainerModel, spec: Container, env: Record<string, string>): void {
    const probe = spec.readinessProbe;
    const rc = c.restartCount;
    if (!probe) {
      c.ready = true;
      return;
    }
    if (!probe.exec?.command) {
      run.timer((probe.initialDelaySeconds ?? 0) * 1000, () => {
        if (c.restartCount !== rc || !("running" in c.state)) return;
        c.ready = true;
        run.status.publish();
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
      const pass = await runProbe({ argv, env, cwd: run.workDir }, timeout);
      if (run.finished || this.deps.host.stopped() || c.restartCount !== rc || !("running" in c.state)) return;
      if (pass) {
        ok++;
        bad = 0;
        if (!c.ready && ok >= successes) {
          c.ready = true;
          run.status.publish();
        }
      } else {
        bad++;
        ok = 0;
        if (c.ready && bad >= failures) {
          c.ready = false;
          run.status.publish();
        }
      }
      run.timer(period, () => void tick());
    };
    run.timer((probe.initialDelaySeconds ?? 0) * 1000, () => void tick());
  }
}
