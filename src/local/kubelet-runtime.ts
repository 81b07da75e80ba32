// The seam between the fake kubelet's pod state machine (kubelet-pods.ts) and the runtimes that run
// containers: simulated (kubelet-runtime-sim.ts) or local processes (kubelet-runtime-exec.ts).
import type { KubeletLog } from "./kubelet-context.ts";
import type { PodRun } from "./kubelet-pod-run.ts";
import type { ContainerModel } from "./kubelet-status.ts";

/** What a runtime may ask of the state machine. */
export interface RuntimeHost {
  log: KubeletLog;
  stopped(): boolean;
  /** Runs `fn` after everything queued before for the same pod; never rejects. */
  serial(uid: string, fn: () => Promise<void> | void): Promise<void>;
  /**
   * A container run ended with `exitCode`: restart it in place, restart all the pod's containers in
   * place (RestartAllContainers), or terminate it (and maybe finish the pod).
   */
  containerExited(
    run: PodRun,
    c: ContainerModel,
    exitCode: number,
    reason?: string,
    message?: string,
  ): Promise<void> | undefined;
  /**
   * `c` (running) ended with `exitCode` under a RestartAllContainers rule: every other container is
   * stopped, then all start over in the same pod (KEP-5532). Call it serialized with the pod's events.
   */
  restartAll(run: PodRun, c: ContainerModel, exitCode: number, reason?: string, message?: string): Promise<void>;
  /**
   * Restarts a container in the same pod, after the crash-loop back-off; `start` runs once it is
   * running again (never when the pod ends first).
   */
  restartInPlace(run: PodRun, c: ContainerModel, exitCode: number, start: () => void): void;
  /** Every main container ended (or an init container failed): the pod becomes terminal. */
  finish(run: PodRun, phase: "Succeeded" | "Failed"): void;
}

export interface ContainerRuntime {
  /** A new or re-driven pod: run what its model says is running (and publish its status). */
  startPod(run: PodRun): void;
  /** A container restarts in place: its model is running again with a grown restartCount. */
  restartContainer(run: PodRun, c: ContainerModel): void;
  /** Every container restarts (RestartAllContainers): the model was reset as a new, uninitialized pod. */
  restartAll(run: PodRun): void;
}
