// The in-place restart agent's configuration (behavior spec §8.2): the pod's namespace from the
// service-account directory, and environment variables. Pure: the environment and the namespace file's
// text come in as arguments, so every rule is table-tested.

import { LocalPodIPEnv } from "../local/kubelet-ips.ts";

/** Where a pod's service-account files are mounted (namespace, token, ca.crt). */
export const DefaultServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

export const AgentEnv = {
  JobSetName: "JOBSET_NAME",
  PodName: "POD_NAME",
  ExitCode: "IN_PLACE_RESTART_EXIT_CODE",
  WorkerCommand: "WORKER_COMMAND",
  ProbePath: "STARTUP_PROBE_PATH",
  ProbePort: "STARTUP_PROBE_PORT",
  /**
   * Not part of upstream's agent: another service-account directory. The local cluster's exec kubelet
   * runs containers as local processes, mounts the service account under the pod's work directory and
   * names it in this variable (src/local/kubelet-serviceaccount.ts).
   */
  ServiceAccountDir: "JOBSET_LOCAL_SERVICE_ACCOUNT_DIR",
  /**
   * Not part of upstream's agent: the address the startup-probe server listens on (default: every
   * address). The local cluster's exec kubelet sets it to the pod's own loopback IP, since all its pods
   * share one machine's ports (src/local/kubelet-ips.ts).
   */
  ListenHost: LocalPodIPEnv,
} as const;

export const AgentDefaults = {
  exitCode: 1,
  probePath: "/barrier-is-down",
  probePort: 8081,
} as const;

/** The field manager (and controller name) of the agent, as upstream. */
export const AgentFieldManager = "in-place-restart-agent";

export type AgentMode =
  /** The agent is a native sidecar; the worker container waits for its startup probe. */
  | { kind: "sidecar"; probePath: string; probePort: number; probeHost?: string }
  /** The agent is the main container and runs the worker command itself. */
  | { kind: "main"; workerCommand: string };

export interface AgentConfig {
  namespace: string;
  jobSetName: string;
  podName: string;
  exitCode: number;
  mode: AgentMode;
}

/** A configuration the agent cannot start with; the process exits 1 with this message. */
export class AgentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentConfigError";
  }
}

const isInteger = (s: string) => /^[+-]?\d+$/.test(s);

/**
 * Reads the configuration. `namespaceFile` is the text of `<serviceAccountDir>/namespace`, or undefined
 * when it cannot be read.
 */
export function parseAgentConfig(
  env: Record<string, string | undefined>,
  namespaceFile: string | undefined,
  serviceAccountDir = DefaultServiceAccountDir,
): AgentConfig {
  if (namespaceFile === undefined)
    throw new AgentConfigError(
      `cannot read the pod's namespace from ${serviceAccountDir}/namespace: ` +
        "check that automountServiceAccountToken is not false on the pod or its service account",
    );
  const namespace = namespaceFile.trim();
  if (!namespace) throw new AgentConfigError(`${serviceAccountDir}/namespace is empty`);
  const required = (name: string): string => {
    const v = env[name];
    if (!v) throw new AgentConfigError(`env ${name} must be set (and not empty)`);
    return v;
  };
  const jobSetName = required(AgentEnv.JobSetName);
  const podName = required(AgentEnv.PodName);
  const rawCode = env[AgentEnv.ExitCode] || String(AgentDefaults.exitCode);
  if (!isInteger(rawCode))
    throw new AgentConfigError(`env ${AgentEnv.ExitCode}: ${JSON.stringify(rawCode)} is not an integer`);
  const exitCode = Number(rawCode);
  const workerCommand = env[AgentEnv.WorkerCommand] ?? "";
  const rawPath = env[AgentEnv.ProbePath] ?? "";
  const rawPort = env[AgentEnv.ProbePort] ?? "";
  if (workerCommand && (rawPath || rawPort))
    throw new AgentConfigError(
      `env ${AgentEnv.WorkerCommand} (main container mode) cannot be set together with ` +
        `${AgentEnv.ProbePath} or ${AgentEnv.ProbePort} (sidecar mode): unset one of them`,
    );
  if (workerCommand) return { namespace, jobSetName, podName, exitCode, mode: { kind: "main", workerCommand } };
  const probePath = rawPath || AgentDefaults.probePath;
  if (!probePath.startsWith("/"))
    throw new AgentConfigError(`env ${AgentEnv.ProbePath}: ${JSON.stringify(probePath)} must start with "/"`);
  const portText = rawPort || String(AgentDefaults.probePort);
  const probePort = Number(portText);
  if (!/^\d+$/.test(portText) || probePort < 1 || probePort > 65535)
    throw new AgentConfigError(`env ${AgentEnv.ProbePort}: ${JSON.stringify(portText)} is not a port (1-65535)`);
  const probeHost = env[AgentEnv.ListenHost];
  return {
    namespace,
    jobSetName,
    podName,
    exitCode,
    mode: { kind: "sidecar", probePath, probePort, ...(probeHost ? { probeHost } : {}) },
  };
}
