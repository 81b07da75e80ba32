// The in-place restart agent as a pod's main container on the local exec kubelet: `jobset agent` from this
// checkout, told its JobSet and pod through the downward API, running the worker command (main-container
// mode, spec §8.2). Shared by the in-place restart e2e test and its benchmark.

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
