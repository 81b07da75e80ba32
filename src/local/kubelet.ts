// A fake kubelet: registers fake Nodes and drives the pods the scheduler binds to them through the
// real pod lifecycle (Running + Ready, then Succeeded/Failed with container exit codes, deletion
// finalized), so the real Job controller counts them exactly as it would on a cluster
// (real-control-plane.md §5). Two runtimes: "simulate" (durations and exit codes from annotations,
// see kubelet-sim.ts) and "exec" (containers' commands run as local processes). docs/fake-kubelet.md.
//
// This file assembles the parts: nodes and leases (kubelet-nodes.ts), the pod list/watch
// (kubelet-watch.ts), the pod state machine (kubelet-pods.ts) over one PodRun per pod
// (kubelet-pod-run.ts, with its status writer kubelet-status-writer.ts), the runtimes
// (kubelet-runtime-sim.ts, kubelet-runtime-exec.ts) and the kubelet API for logs (kubelet-server.ts).
import { mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { KubeClient } from "../runtime/client.ts";
import { type BackOffPolicy, RestartBackOff } from "./kubelet-backoff.ts";
import { defaultKubeletLog, type KubeletLog, type KubeletStats, newKubeletStats } from "./kubelet-context.ts";
import { NodeRegistry } from "./kubelet-nodes.ts";
import { containerLogPath } from "./kubelet-pod-run.ts";
import { PodLifecycle } from "./kubelet-pods.ts";
import { ExecRuntime } from "./kubelet-runtime-exec.ts";
import { SimulatedRuntime } from "./kubelet-runtime-sim.ts";
import { type KubeletServer, startKubeletServer } from "./kubelet-server.ts";
import type { NodeSpec } from "./kubelet-status.ts";
import { watchScheduledPods } from "./kubelet-watch.ts";

export { type BackOffPolicy, DefaultRestartBackOff } from "./kubelet-backoff.ts";
export type { KubeletLog, KubeletLogLevel, KubeletStats } from "./kubelet-context.ts";
export { SimAnnotations, SimPrefix } from "./kubelet-sim.ts";
export type { NodeSpec, Taint } from "./kubelet-status.ts";
export { FakeNodeIP, NodeLabelKeys } from "./kubelet-status.ts";

export interface FakeKubeletOptions {
  kubeconfigPath?: string;
  /** An existing client (not closed on stop); otherwise one is made from kubeconfigPath. */
  client?: KubeClient;
  /** The nodes to register, or how many (named `<namePrefix>-<i>`). Default 1. */
  nodes?: NodeSpec[] | number;
  namePrefix?: string;
  runtime?: "simulate" | "exec";
  /** Working dirs and logs (exec). Default: a temp dir, removed on stop. */
  dataDir?: string;
  /** How long a container runs when the pod's annotations say nothing (default 1000 ms). */
  defaultDurationMs?: number;
  /** Containers run until deleted (or completePod) when the pod's annotations say nothing. */
  runForever?: boolean;
  /** Delete the Nodes (and their Leases) on stop. Default true. */
  removeNodesOnStop?: boolean;
  /** Keep kube-node-lease Leases renewed (needed when node-lifecycle-controller runs). Default true. */
  leases?: boolean;
  leaseRenewMs?: number;
  /** Cap on terminationGracePeriodSeconds when killing exec processes (default 2000 ms). */
  maxGracePeriodMs?: number;
  /**
   * Crash-loop back-off of containers restarted in place: the first restart is immediate, then
   * initialMs, doubling up to maxMs (default 200 ms and 5 s; a kubelet uses 10 s and 300 s).
   */
  restartBackOff?: BackOffPolicy;
  kubeletVersion?: string;
  /** How long start waits for the first pod list (default 60 s). */
  syncTimeoutMs?: number;
  /** A pino logger (src/runtime/logger.ts); each line carries the fields (pod, node, error...). */
  logger?: Logger;
  /** A log callback (used when no logger is given). Default: warnings and errors to stderr. */
  log?: KubeletLog;
}

export interface FakeKubelet {
  readonly nodeNames: string[];
  readonly runtime: "simulate" | "exec";
  readonly dataDir: string;
  readonly stats: KubeletStats;
  /** The port of the kubelet API (`/containerLogs`) on 127.0.0.1, advertised by every node. */
  readonly kubeletPort: number;
  /** The CA of the kubelet API's serving certificate (PEM). */
  readonly kubeletCaCert: string;
  /** Where a container's log is appended (exec: stdout and stderr; simulate: synthetic lines). */
  logsPath(namespace: string, pod: string, container: string): string;
  /** The captured log of a container ("" when there is none yet). */
  readLogs(namespace: string, pod: string, container: string): Promise<string>;
  /**
   * Ends the pod's running main containers (or just `container`) with `exitCode`, as if their
   * processes exited; the restartPolicy applies (OnFailure restarts a non-zero exit in place).
   * Waits up to `waitMs` (default 10 s) for the kubelet to start the pod; resolves once published.
   */
  completePod(
    namespace: string,
    name: string,
    exitCode: number,
    opts?: { container?: string; waitMs?: number },
  ): Promise<void>;
  /** Stops everything: watches, timers, leases, processes (nothing is left running); optionally removes the nodes. */
  stop(): Promise<void>;
}

/** The parts, put together; started by {@link startFakeKubelet}. */
class Kubelet {
  readonly runtime: "simulate" | "exec";
  readonly stats: KubeletStats = newKubeletStats();
  dataDir = "";
  server: KubeletServer | undefined;
  nodes!: NodeRegistry;
  private readonly opts: FakeKubeletOptions;
  private readonly log: KubeletLog;
  private client!: KubeClient;
  private ownsClient = false;
  private ownsDataDir = false;
  private pods!: PodLifecycle;
  private readonly abort = new AbortController();
  private stopped = false;
  private watchLoop: Promise<void> | undefined;

  constructor(opts: FakeKubeletOptions) {
    this.opts = opts;
    this.runtime = opts.runtime ?? "simulate";
    if (opts.restartBackOff) new RestartBackOff(opts.restartBackOff); // validates it (each pod has its own)
    const logger = opts.logger?.child({ component: "fake-kubelet" });
    this.log = logger ? (level, msg, fields) => logger[level](fields ?? {}, msg) : (opts.log ?? defaultKubeletLog);
  }

  logsPath(ns: string, pod: string, container: string): string {
    return containerLogPath(this.dataDir, ns, pod, container);
  }

  async start(): Promise<void> {
    if (this.opts.client) this.client = this.opts.client;
    else {
      this.client = await KubeClient.create({ kubeconfig: this.opts.kubeconfigPath, userAgent: "fake-kubelet" });
      this.ownsClient = true;
    }
    if (this.opts.dataDir) {
      this.dataDir = this.opts.dataDir;
      mkdirSync(this.dataDir, { recursive: true });
    } else {
      this.dataDir = await mkdtemp(join(tmpdir(), "fake-kubelet-"));
      this.ownsDataDir = true;
    }
    const stopped = () => this.stopped;
    this.nodes = new NodeRegistry(this.client, this.log, this.stats);
    this.pods = new PodLifecycle({
      client: this.client,
      log: this.log,
      stats: this.stats,
      runtime: this.runtime,
      dataDir: this.dataDir,
      nodeIP: (n) => this.nodes.ipOf(n),
      defaultDurationMs: this.opts.defaultDurationMs,
      runForever: this.opts.runForever,
      maxGracePeriodMs: this.opts.maxGracePeriodMs ?? 2000,
      restartBackOff: this.opts.restartBackOff,
      stopped,
    });
    const sim = new SimulatedRuntime(this.pods);
    this.pods.useRuntime(
      this.runtime === "simulate" ? sim : new ExecRuntime({ host: this.pods, client: this.client, sim }),
    );
    try {
      this.server = await startKubeletServer((ns, pod, container, previous) =>
        this.pods.lookupLogs(ns, pod, container, previous),
      );
      await this.nodes.register({
        nodes: this.opts.nodes ?? 1,
        namePrefix: this.opts.namePrefix,
        kubeletVersion: this.opts.kubeletVersion,
        kubeletPort: this.server.port,
      });
      if (this.opts.leases ?? true) await this.nodes.keepLeases(this.opts.leaseRenewMs ?? 10_000);
      await this.watchUntilSynced();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Starts the pod watch; resolves once its first list was handled. */
  private async watchUntilSynced(): Promise<void> {
    let synced!: () => void;
    const listed = new Promise<void>((r) => {
      synced = r;
    });
    this.watchLoop = watchScheduledPods(
      { client: this.client, log: this.log, stats: this.stats, signal: this.abort.signal },
      {
        onPod: (type, pod) => this.pods.onPod(type, pod),
        onList: (uids) => {
          this.pods.onList(uids);
          synced();
        },
      },
    );
    let timeout: NodeJS.Timeout | undefined;
    const syncMs = this.opts.syncTimeoutMs ?? 60_000;
    await Promise.race([
      listed,
      new Promise((_, reject) => {
        timeout = setTimeout(() => reject(new Error(`fake kubelet: cannot list pods within ${syncMs} ms`)), syncMs);
      }),
    ]).finally(() => clearTimeout(timeout));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.nodes?.stop();
    await this.pods?.teardownAll(500);
    await this.server?.close();
    await this.watchLoop?.catch(() => undefined);
    if (this.pods) await Promise.race([this.pods.settled(), new Promise((r) => setTimeout(r, 5000).unref())]);
    if (this.nodes && (this.opts.removeNodesOnStop ?? true)) await this.nodes.remove();
    if (this.ownsClient) await this.client.close();
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  completePod(ns: string, name: string, exitCode: number, o?: { container?: string; waitMs?: number }): Promise<void> {
    return this.pods.completePod(ns, name, exitCode, o);
  }
}

/** Registers the nodes, lists and watches their pods, and resolves once the first list is handled. */
export async function startFakeKubelet(opts: FakeKubeletOptions): Promise<FakeKubelet> {
  if (!opts.client && !opts.kubeconfigPath) throw new Error("startFakeKubelet: pass client or kubeconfigPath");
  const k = new Kubelet(opts);
  await k.start();
  return {
    nodeNames: k.nodes.names,
    runtime: k.runtime,
    dataDir: k.dataDir,
    stats: k.stats,
    kubeletPort: k.server?.port ?? 0,
    kubeletCaCert: k.server?.caCert ?? "",
    logsPath: (ns, pod, container) => k.logsPath(ns, pod, container),
    readLogs: async (ns, pod, container) => {
      try {
        return await readFile(k.logsPath(ns, pod, container), "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
        throw e;
      }
    },
    completePod: (ns, name, exitCode, o) => k.completePod(ns, name, exitCode, o),
    stop: () => k.stop(),
  };
}
