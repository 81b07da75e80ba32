// The simulated runtime: no processes; each container becomes ready and exits on timers, with the
// durations and exit codes the pod's annotations give (kubelet-sim.ts), and a synthetic log.
import type { PodRun } from "./kubelet-pod-run.ts";
import type { ContainerRuntime, RuntimeHost } from "./kubelet-runtime.ts";
import { simReadyDelayMs } from "./kubelet-sim.ts";
import type { ContainerModel } from "./kubelet-status.ts";

export class SimulatedRuntime implements ContainerRuntime {
  private readonly host: RuntimeHost;

  constructor(host: RuntimeHost) {
    this.host = host;
  }

  startPod(run: PodRun): void {
    for (const c of run.runningContainers()) this.simulate(run, c);
    run.status.publish();
  }

  restartContainer(run: PodRun, c: ContainerModel): void {
    this.simulate(run, c);
  }

  /** Every container restarted: init containers complete at once, sidecars and main containers run. */
  restartAll(run: PodRun): void {
    const now = new Date().toISOString();
    for (const c of run.model.init)
      c.state =
        c.kind === "sidecar"
          ? { running: { startedAt: now } }
          : { terminated: { exitCode: 0, reason: "Completed", startedAt: now, finishedAt: now } };
    for (const c of run.model.containers) c.state = { running: { startedAt: now } };
    run.model.initialized = true;
    run.model.phase = "Running";
    this.startPod(run);
  }

  /** Readiness and exit of one running container, timed from its startedAt. */
  simulate(run: PodRun, c: ContainerModel): void {
    if (!("running" in c.state)) return;
    const started = Date.parse(c.state.running.startedAt);
    const rc = c.restartCount;
    run.simulated.add(c.name);
    if (run.beginLog(c, false))
      run
        .containerLog(c.name)
        .append(
          `fake-kubelet: container ${c.name} started (simulated${rc > 0 ? `, restart ${rc}` : ""})\n`,
          Date.now(),
        );
    const elapsed = Date.now() - started;
    const same = () => c.restartCount === rc && "running" in c.state;
    if (!c.ready) {
      const delay = simReadyDelayMs(run.containerSpec(c.name), run.plan) - elapsed;
      if (delay <= 0) c.ready = true;
      else
        run.timer(delay, () => {
          if (!same()) return;
          c.ready = true;
          run.status.publish();
        });
    }
    if (c.kind === "main" && Number.isFinite(run.plan.durationMs))
      run.timer(run.plan.durationMs - elapsed, () => {
        void this.host.serial(run.uid, () => {
          if (same()) return this.host.containerExited(run, c, run.plan.exitCode(c.name, rc));
        });
      });
  }
}
