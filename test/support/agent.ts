// The in-place restart agent on the local exec kubelet: `jobset agent` from this checkout, told its JobSet
// and pod through the downward API, as the pod's main container running the worker command (main
// container mode, spec §8.2) or as a native sidecar whose startup probe holds the worker back (sidecar
// mode). Shared by the in-place restart e2e test and its benchmark.

import { Labels } from "../../src/api/constants.ts";
import type { Container } from "../../src/api/k8s.ts";
import { packagePath } from "../../src/package-root.ts";

export const fieldRef = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });

/** The agent container; `env` goes between the agent's own variables and WORKER_COMMAND. */
export function agentContainer(workerCommand: string, env: NonNullable<Container["env"]> = []): Container {
  return {
    name: "agent",
    image: "jobset-controller",
    command: [process.execPath, packagePath("bin", "jobset.js"), "agent"],
    env: [
      { name: "JOBSET_NAME", ...fieldRef(`metadata.labels['${Labels.JobSetName}']`) },
      { name: "POD_NAME", ...fieldRef("metadata.name") },
      ...env,
      { name: "WORKER_COMMAND", value: workerCommand },
    ],
  };
}

/** The restart code the sidecar agent exits with when its attempt is stale (restarts every container). */
export const SidecarRestartExitCode = 42;

/** Every container of the pod restarts in place when this container exits with a code this rule matches. */
export const restartAllOn = (operator: "In" | "NotIn", values: number[]) => ({
  action: "RestartAllContainers",
  exitCodes: { operator, values },
});

/**
 * The agent as a native sidecar (init container, restartPolicy Always): its exit with
 * {@link SidecarRestartExitCode} restarts every container of the pod; its startup probe passes once
 * the barrier lifts.
 */
export function sidecarAgentContainer(): Container {
  return {
    name: "agent",
    image: "jobset-controller",
    command: [process.execPath, packagePath("bin", "jobset.js"), "agent"],
    restartPolicy: "Always",
    restartPolicyRules: [restartAllOn("In", [SidecarRestartExitCode])],
    env: [
      { name: "JOBSET_NAME", ...fieldRef(`metadata.labels['${Labels.JobSetName}']`) },
      { name: "POD_NAME", ...fieldRef("metadata.name") },
      { name: "IN_PLACE_RESTART_EXIT_CODE", value: String(SidecarRestartExitCode) },
    ],
    startupProbe: { httpGet: { path: "/barrier-is-down", port: 8081 }, periodSeconds: 1, failureThreshold: 3600 },
  };
}

/**
 * The pod spec fields of sidecar mode: the sidecar agent, and the worker (a shell script, told its pod name)
 * as a container of its own that restarts every container of the pod when it fails.
 */
export function sidecarModePod(workerScript: string, env: NonNullable<Container["env"]> = []) {
  return {
    restartPolicy: "Never",
    initContainers: [sidecarAgentContainer()],
    containers: [
      {
        name: "worker",
        image: "busybox",
        command: ["/bin/sh", "-c", workerScript],
        env: [{ name: "POD_NAME", ...fieldRef("metadata.name") }, ...env],
        restartPolicy: "Never",
        restartPolicyRules: [restartAllOn("NotIn", [0])],
      },
    ],
  };
}
