// `jobset up`: the local Kubernetes with the JobSet controller and webhooks, in one process tree
// (see local-cluster.ts). Foreground by default (Ctrl-C stops everything); `--detach` starts the same
// process in the background, returns once it is ready and prints the KUBECONFIG line; `jobset down`
// stops it. State (kubeconfig, data, kubelet logs, pid): see local-state.ts.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { FeatureGates } from "../api/features.ts";
import { GoMissingError } from "../local/binaries.ts";
import type { NodeSpec } from "../local/kubelet-status.ts";
import { pidAlive } from "../local/supervise.ts";
import { CliError, firstLine } from "./cluster.ts";
import { featureGatesOption, localClusterGates, parseGatesFlag } from "./local-gates.ts";
import { type LocalState, readLocalState, stateDir, stateFile } from "./local-state.ts";
import { nodeFlagOptions, nodeFlagsHelp, parseNodeFlags } from "./node-flags.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset up [flags]

Starts a local Kubernetes on this machine: etcd, kube-apiserver, kube-controller-manager and
kube-scheduler (built from source with Go the first time, with progress), a fake kubelet with N
nodes, the JobSet CRD, the JobSet webhooks and the JobSet controller. Stays in the foreground until
Ctrl-C, which stops everything; with --detach it runs in the background until \`jobset down\`.

Flags:
${nodeFlagsHelp}      --runtime MODE         exec (default): containers with a command run as local processes (their
                             output is what \`jobset logs\` shows); simulate: nothing runs, pods follow
                             the fake.jobset.x-k8s.io/* annotations (docs/fake-kubelet.md)
      --no-ui                do not serve the web view (\`jobset ui\`) on 127.0.0.1 beside the cluster
      --feature-gates LIST   the JobSet controller's feature gates, e.g. InPlaceRestart=true,RestartJob=true
                             (as for \`jobset lint\`/\`plan\`). With InPlaceRestart=true, the in-place restart
                             agent's ServiceAccount, Role and RoleBinding (namespace default) and its
                             admission policy are installed too (docs/in-place-restart.md)
      --workload-api         serve the Kubernetes Workload API with the gang and topology scheduler
                             plugins, and allow spec.scheduling (docs/gang-scheduling.md); the same as
                             --feature-gates JobSetWorkloadAwareSchedulingAPI=true, and refused with
                             JobSetWorkloadAwareSchedulingAPI=false
  -d, --detach               start in the background, print the KUBECONFIG line once ready
  -h, --help                 show this help

State: ${stateFile("$JOBSET_STATE_DIR")} (default dir: $XDG_STATE_HOME/jobset or ~/.local/state/jobset).
`;

const CHILD_ENV = "JOBSET_UP_CHILD";
const bin = fileURLToPath(new URL("../../bin/jobset.js", import.meta.url));

export function exportLine(kubeconfig: string): string {
  return `export KUBECONFIG=${kubeconfig}`;
}

export interface UpOptions {
  nodes: NodeSpec[];
  runtime: "exec" | "simulate";
  detach: boolean;
  ui: boolean;
  /** The JobSet controller's gates (--feature-gates, with --workload-api folded in). */
  gates: FeatureGates;
}

/** The flags of `jobset up`, checked (a bad one is a UsageError); undefined after printing --help. */
export function parseUpFlags(argv: string[]): UpOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...nodeFlagOptions,
      runtime: { type: "string" },
      detach: { type: "boolean", short: "d" },
      "workload-api": { type: "boolean" },
      ...featureGatesOption,
      "no-ui": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return undefined;
  }
  const runtime = values.runtime ?? "exec";
  if (runtime !== "exec" && runtime !== "simulate") throw new UsageError(`--runtime ${runtime}: want exec or simulate`);
  const gates = localClusterGates(parseGatesFlag(values["feature-gates"]), {
    workloadApi: values["workload-api"] === true,
  });
  return {
    nodes: parseNodeFlags(values),
    runtime,
    detach: values.detach === true,
    ui: values["no-ui"] !== true,
    gates,
  };
}

/**
 * The arguments of the background `jobset up` that `--detach` starts: the same flags (it parses them
 * again, --feature-gates included) without --detach.
 */
export function detachedArgv(argv: string[]): string[] {
  return argv.filter((a) => a !== "--detach" && a !== "-d");
}

export async function up(argv: string[]): Promise<number> {
  const o = parseUpFlags(argv);
  if (!o) return 0;

  const dir = stateDir();
  const running = readLocalState(dir);
  if (running)
    throw new CliError(
      `a local cluster is already running (pid ${running.pid}): ${exportLine(running.kubeconfig)}; stop it with \`jobset down\``,
    );
  await mkdir(dir, { recursive: true });

  if (o.detach && process.env[CHILD_ENV] !== "1") return detach(dir, detachedArgv(argv));
  return foreground(dir, o, process.env[CHILD_ENV] === "1");
}

/** Runs the cluster in this process until SIGINT/SIGTERM. */
async function foreground(dir: string, o: UpOptions, child: boolean): Promise<number> {
  const { nodes, runtime } = o;
  const { startLocalCluster } = await import("./local-cluster.ts");
  let stopping = false;
  let cluster: Awaited<ReturnType<typeof startLocalCluster>> | undefined;
  let ui: { close(): Promise<void> } | undefined;
  let signalled = false;
  let stopped = (): void => {};
  const done = new Promise<void>((r) => {
    stopped = r;
  });
  const stop = () => {
    signalled = true;
    if (!cluster) return; // the start finishes first, then we stop
    const c = cluster;
    if (stopping) return;
    stopping = true;
    void (async () => {
      process.stderr.write("Stopping the local cluster…\n");
      await ui?.close().catch(() => {});
      await c.stop();
      rmSync(stateFile(dir), { force: true });
      stopped();
    })();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  try {
    cluster = await startLocalCluster({
      nodes,
      runtime,
      dataDir: join(dir, "cluster"),
      log: (l) => process.stderr.write(`${l}\n`),
      featureGates: o.gates,
    });
  } catch (e) {
    if (e instanceof GoMissingError) throw new CliError(e.message);
    throw new CliError(`cannot start the local cluster: ${firstLine(e)}`);
  }
  // Before the state file: `up --detach` returns once that file exists, having echoed our output so far.
  if (!signalled && o.ui) ui = await startWebView(cluster.kubeconfigPath);
  const state: LocalState = {
    pid: process.pid,
    kubeconfig: cluster.kubeconfigPath,
    server: cluster.server,
    dataDir: cluster.dataDir,
    kubeletDir: cluster.kubeletDir,
    runtime,
    nodes: cluster.nodes,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
  if (signalled) stop();
  else {
    process.stderr.write(`Local JobSet cluster ready (logs in ${cluster.logDir}).\n`);
    process.stdout.write(`${exportLine(cluster.kubeconfigPath)}\n`);
    if (!child) process.stderr.write("Press Ctrl-C to stop it.\n");
  }
  await done;
  process.stderr.write("Local cluster stopped.\n");
  return 0;
}

/**
 * The web view (`jobset ui`) of the local cluster on 127.0.0.1, its URL printed. The cluster works without
 * it: a failure to start it is a warning.
 */
async function startWebView(kubeconfig: string): Promise<{ close(): Promise<void> } | undefined> {
  try {
    const [{ KubeClient }, { startUiServer }] = await Promise.all([
      import("../runtime/client.ts"),
      import("../ui/server.ts"),
    ]);
    const client = await KubeClient.create({ kubeconfig, userAgent: "jobset-ui" });
    const server = await startUiServer({ client });
    process.stderr.write(`JobSet web view: ${server.url}\n`);
    return {
      close: async () => {
        await server.close();
        await client.close();
      },
    };
  } catch (e) {
    process.stderr.write(`warning: the web view did not start (${firstLine(e)}); run \`jobset ui\` instead\n`);
    return undefined;
  }
}

/** Starts `jobset up` in the background and waits until it is ready (or has failed). */
async function detach(dir: string, argv: string[]): Promise<number> {
  const logPath = join(dir, "up.log");
  rmSync(logPath, { force: true });
  const fd = openSync(logPath, "a");
  const child = spawn(process.execPath, [bin, "up", ...argv], {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, [CHILD_ENV]: "1" },
  });
  closeSync(fd);
  child.unref();
  let exited: number | undefined;
  child.on("exit", (code) => {
    exited = code ?? 1;
  });
  let shown = 0;
  const echo = () => {
    // Echo the child's progress (e.g. the first-time build) to our stderr.
    let text = "";
    try {
      if (statSync(logPath).size > shown) text = readFileSync(logPath, "utf8").slice(shown);
    } catch {
      return;
    }
    const end = text.lastIndexOf("\n") + 1;
    if (end > 0) {
      process.stderr.write(text.slice(0, end).replace(/^export KUBECONFIG=.*\n/m, ""));
      shown += Buffer.byteLength(text.slice(0, end));
    }
  };
  for (;;) {
    echo();
    const s = readLocalState(dir);
    if (s && s.pid === child.pid) {
      process.stderr.write(`Running in the background (pid ${s.pid}); stop it with \`jobset down\`.\n`);
      process.stdout.write(`${exportLine(s.kubeconfig)}\n`);
      return 0;
    }
    if (exited !== undefined || (child.pid !== undefined && !pidAlive(child.pid))) {
      echo();
      const last = readFileSync(logPath, "utf8").trim().split("\n").pop() ?? "";
      throw new CliError(last.replace(/^jobset up: /, "") || `jobset up exited with code ${exited}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
