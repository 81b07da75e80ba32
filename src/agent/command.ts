// `jobset agent`: the in-place restart agent (behavior spec §8.2) in the same image as the controller.
// Configured by the environment only, as upstream's agent; the exit code is the agent's answer
// (restart code, worker's code, 128 + signal, or 1 on a configuration or manager error).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KubeClient } from "../runtime/client.ts";
import { loadKubeConfig } from "../runtime/kubeconfig.ts";
import { createLogger } from "../runtime/logger.ts";
import { startAgent } from "./agent.ts";
import { AgentConfigError, AgentEnv, DefaultServiceAccountDir, parseAgentConfig } from "./config.ts";

export const agentUsage = `Usage: jobset agent

Runs the in-place restart agent inside a JobSet's pod (restartStrategy: InPlaceRestart). It is configured
by environment variables:

  JOBSET_NAME                 the pod's JobSet (required)
  POD_NAME                    the pod's name (required)
  IN_PLACE_RESTART_EXIT_CODE  exit code that restarts the pod in place (default 1)
  WORKER_COMMAND              main container mode: the worker command, run with $SHELL -c once the barrier lifts
  STARTUP_PROBE_PATH          sidecar mode: path answered 200 once the barrier lifts (default /barrier-is-down)
  STARTUP_PROBE_PORT          sidecar mode: port of that server (default 8081)

The namespace is read from ${DefaultServiceAccountDir}/namespace
(${AgentEnv.ServiceAccountDir} names another directory); the API server is reached with $KUBECONFIG when
set, else the pod's service account. See docs/in-place-restart.md.
`;

export async function agent(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help) {
    process.stdout.write(agentUsage);
    return 0;
  }
  const log = createLogger({ name: "in-place-restart-agent" });
  const saDir = process.env[AgentEnv.ServiceAccountDir] || DefaultServiceAccountDir;
  let namespaceFile: string | undefined;
  try {
    namespaceFile = readFileSync(join(saDir, "namespace"), "utf8");
  } catch {
    namespaceFile = undefined;
  }
  let client: KubeClient;
  let running: ReturnType<typeof startAgent>;
  try {
    const cfg = parseAgentConfig(process.env, namespaceFile, saDir);
    client = new KubeClient(loadKubeConfig({ serviceAccountDir: saDir }), {
      userAgent: "jobset-in-place-restart-agent",
    });
    running = startAgent(cfg, { client, log });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.error({ kind: e instanceof AgentConfigError ? "configuration" : "client" }, msg);
    process.stderr.write(`jobset agent: ${msg}\n`);
    return 1;
  }
  const onSignal = (sig: "SIGINT" | "SIGTERM") => running.signal(sig);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const code = await running.exited;
  log.flush?.();
  // The exit code is the agent's whole answer to the kubelet: leave now rather than wait for idle sockets.
  process.exit(code);
}
