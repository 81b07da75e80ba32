// The in-place restart agent process (behavior spec §8.2): watches its own JobSet (one object, selected
// on the server by name in its own namespace), writes its pod's attempt annotation with server-side
// apply, exits with the restart code when the controller marks its attempt stale, and lifts the barrier
// for the worker: a startup-probe server (sidecar mode) or the worker command (main container mode).
// The decisions are reconcile.ts; this file carries them out.
import { type ChildProcess, spawn } from "node:child_process";
import type { Server } from "node:http";
import { JobSetResource } from "../api/constants.ts";
import type { JobSet } from "../api/types.ts";
import type { KubeClient } from "../runtime/client.ts";
import { Informer } from "../runtime/informer.ts";
import type { Logger } from "../runtime/logger.ts";
import { http } from "../runtime/node-http.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { type AgentConfig, AgentFieldManager } from "./config.ts";
import {
  type AgentState,
  type AgentStep,
  applyStep,
  attemptApplyBody,
  initialAgentState,
  nextStep,
  workerExitCode,
} from "./reconcile.ts";

export interface AgentDeps {
  client: KubeClient;
  log: Logger;
  /** The shell that runs WORKER_COMMAND (default $SHELL, else bash). */
  shell?: string;
  /** Retry delays after a failed write or watch (ms; default 200 ms doubling up to 30 s). */
  retryBaseMs?: number;
}

/** A running agent: `exited` resolves with the process exit code the agent chose. */
export interface RunningAgent {
  exited: Promise<number>;
  /** Stops the agent as on SIGINT/SIGTERM: the worker is stopped and `exited` resolves with 128 + signal. */
  signal(sig: "SIGINT" | "SIGTERM"): void;
  /** The bound address of the startup-probe server once it listens (sidecar mode). */
  probeAddress(): { port: number } | undefined;
}

const SignalNumbers = { SIGINT: 2, SIGTERM: 15 } as const;

export function startAgent(cfg: AgentConfig, deps: AgentDeps): RunningAgent {
  const { client, log } = deps;
  const abort = new AbortController();
  const base = deps.retryBaseMs ?? 200;
  let state: AgentState = initialAgentState();
  let latest: JobSet | undefined;
  let busy = false;
  let dirty = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let server: Server | undefined;
  let worker: ChildProcess | undefined;
  let finish!: (code: number) => void;
  let done = false;
  const exited = new Promise<number>((resolve) => {
    finish = (code) => {
      if (done) return;
      done = true;
      abort.abort();
      if (retryTimer) clearTimeout(retryTimer);
      server?.close();
      server?.closeAllConnections();
      stopWorker();
      void client.close().finally(() => resolve(code));
    };
  });

  const stopWorker = () => {
    const w = worker;
    if (!w || w.exitCode !== null || w.signalCode !== null || w.pid === undefined) return;
    // The worker shares the agent's process group, as it shares its container: when the agent ends,
    // the container (or the local kubelet's process group) ends whatever the worker left behind.
    w.kill("SIGTERM");
  };

  const podPath = resourcePath({ ...Resources.pods, namespace: cfg.namespace, name: cfg.podName });
  const jobSetsPath = resourcePath({ ...JobSetResource, namespace: cfg.namespace });

  const carryOut = async (step: AgentStep): Promise<void> => {
    switch (step.kind) {
      case "annotate":
        await client.patch(podPath, attemptApplyBody(cfg.namespace, cfg.podName, step.attempt), "apply", {
          fieldManager: AgentFieldManager,
          force: true,
        });
        log.info({ attempt: step.attempt }, "pod in-place restart attempt annotated");
        return;
      case "restart":
        log.info(
          { podAttempt: step.podAttempt, previousInPlaceRestartAttempt: step.previous, exitCode: cfg.exitCode },
          "attempt is stale: exiting with the in-place restart exit code",
        );
        finish(cfg.exitCode);
        return;
      case "lift":
        log.info({ reason: step.reason, mode: cfg.mode.kind }, "lifting the barrier");
        if (cfg.mode.kind === "sidecar") await serveProbe(cfg.mode.probePath, cfg.mode.probePort, cfg.mode.probeHost);
        else runWorker(cfg.mode.workerCommand);
        return;
    }
  };

  const serveProbe = (path: string, port: number, host: string | undefined): Promise<void> =>
    new Promise((resolve) => {
      const s = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://agent");
        res.statusCode = url.pathname === path ? 200 : 404;
        res.end();
      });
      server = s;
      s.once("error", (e) => {
        log.error({ err: e, port, host }, "startup probe server failed");
        finish(1);
        resolve();
      });
      s.listen(port, host, () => resolve());
    });

  const runWorker = (command: string) => {
    const shell = deps.shell ?? (process.env.SHELL || "bash");
    const w = spawn(shell, ["-c", command], { stdio: "inherit" });
    worker = w;
    let spawnError: Error | undefined;
    w.once("error", (e) => {
      spawnError = e;
      log.error({ err: e, shell }, "worker command could not start");
      finish(1);
    });
    w.once("exit", (code, signal) => {
      if (done) return;
      const exitCode = workerExitCode({ code, signal, ...(spawnError ? { error: spawnError } : {}) });
      log.info({ code, signal, exitCode }, "worker command ended: the agent exits with its code");
      finish(exitCode);
    });
  };

  const reconcile = async (): Promise<void> => {
    if (busy) {
      dirty = true;
      return;
    }
    busy = true;
    try {
      do {
        dirty = false;
        for (let step = nextStep(state, latest); step && !done; step = nextStep(state, latest)) {
          await carryOut(step);
          state = applyStep(state, step);
        }
      } while (dirty && !done);
      failures = 0;
    } catch (e) {
      if (done) return;
      failures++;
      const delay = Math.min(30_000, base * 2 ** Math.min(failures - 1, 10));
      log.error({ err: e, retryInMs: delay }, "reconcile failed; retrying");
      retryTimer = setTimeout(() => void reconcile(), delay);
    } finally {
      busy = false;
    }
  };

  const observe = (js: JobSet | undefined) => {
    latest = js;
    void reconcile();
  };

  // The one JobSet, selected on the server by name: the runtime's informer lists, watches, relists
  // after 410 and backs off on errors; a JobSet gone from a relist arrives as a delete.
  const jobSet = new Informer<JobSet>({
    client,
    path: jobSetsPath,
    name: "jobset",
    fieldSelector: `metadata.name=${cfg.jobSetName}`,
    resyncPeriodMs: 0,
    backoff: { initialMs: base, maxMs: 30_000 },
    logger: log,
  });
  jobSet.addEventHandler({
    onAdd: (js) => observe(js),
    onUpdate: (_old, js) => observe(js),
    onDelete: () => observe(undefined),
  });
  abort.signal.addEventListener("abort", () => void jobSet.stop(), { once: true });

  log.info(
    { namespace: cfg.namespace, jobSet: cfg.jobSetName, pod: cfg.podName, mode: cfg.mode.kind, exitCode: cfg.exitCode },
    "in-place restart agent starting",
  );
  jobSet.start();

  return {
    exited,
    signal(sig) {
      log.info({ signal: sig }, "received signal, shutting down");
      finish(128 + SignalNumbers[sig]);
    },
    probeAddress() {
      const a = server?.address();
      return a && typeof a === "object" ? { port: a.port } : undefined;
    },
  };
}
