// `jobset run FILE`: creates the JobSet(s) of FILE, then follows them live until they finish: the tree
// of replicated jobs → Jobs → pods, a progress bar, restarts, conditions and new events (redrawn in
// place on a terminal; one line per change otherwise). Exit 0 when every JobSet Completed, 1 otherwise.
//
// Cluster: --kubeconfig, else $KUBECONFIG, else the running `jobset up` cluster, else an ephemeral
// local cluster started for this run and removed afterwards.
import { parseArgs } from "node:util";
import { ApiVersion, Group, Kind } from "../api/constants.ts";
import type { FeatureGates } from "../api/features.ts";
import type { Pod } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import type { NodeSpec } from "../local/kubelet-status.ts";
import { ApiError, isAlreadyExists, type KubeClient } from "../runtime/client.ts";
import { JobSetClient } from "../sdk/client.ts";
import type { Outcome } from "../sdk/follow.ts";
import {
  CliError,
  type ClusterFlags,
  type Connected,
  clusterHelp,
  clusterOptions,
  connect,
  explain,
  firstLine,
  resolveKubeconfig,
} from "./cluster.ts";
import { at, formatSourceError, readDocuments } from "./documents.ts";
import { containerStarted, logContainers, podLogPath, prefixLines } from "./fetch.ts";
import { GangReporter } from "./gang-status.ts";
import type { LocalCluster } from "./local-cluster.ts";
import {
  AgentPermissionsLine,
  featureGatesOption,
  type GatesFlag,
  gatesOn,
  localClusterGates,
  nonDefaultGates,
  parseGatesFlag,
} from "./local-gates.ts";
import { nodeFlagOptions, nodeFlagsHelp, parseNodeFlags } from "./node-flags.ts";
import {
  buildView,
  changeLines,
  clipFrame,
  colorStyle,
  finishCondition,
  finished,
  humanDuration,
  type JobSetView,
  plainStyle,
  renderFrame,
} from "./render.ts";
import { useColor } from "./tree.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset run FILE [flags]

Creates the JobSet(s) in FILE (YAML or JSON, "-" for stdin) and follows them until they finish: the
replicated jobs, Jobs and pods with their phases, a progress bar of succeeded pods, restarts,
conditions and events. On a terminal the view is redrawn in place; otherwise (CI, pipes) one line is
printed per change.

The cluster is the one of --kubeconfig or $KUBECONFIG, else the running \`jobset up\` cluster, else an
ephemeral local cluster started for this run (and removed afterwards).

Exit status: 0 every JobSet Completed; 1 a JobSet Failed (its condition's reason and message are
printed), was refused, or the timeout passed; 2 bad usage.

Flags:
      --logs                 stream the pods' logs, each line prefixed by [pod]
      --timeout DURATION     give up after this long (e.g. 90s, 5m; default: no limit)
      --replace              delete an existing JobSet of the same name first
${clusterHelp}
      --no-color             never color the output
  -h, --help                 show this help

Ephemeral local cluster (when no cluster is configured):
${nodeFlagsHelp}      --runtime MODE         exec (default: containers with a command run as local processes) or simulate
      --feature-gates LIST   the JobSet controller's feature gates, e.g. InPlaceRestart=true,RestartJob=true;
                             as for \`jobset up\`: InPlaceRestart=true also installs the in-place restart
                             agent's permissions in namespace default. A JobSet with spec.scheduling
                             turns JobSetWorkloadAwareSchedulingAPI on unless this flag sets it
`;

/** Go-style durations: 90s, 5m, 1h30m, 500ms, or a bare number of seconds. */
export function parseDuration(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  let rest = s;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new UsageError(`invalid duration "${s}" (want e.g. 90s, 5m, 1h30m)`);
    ms += Number(m[1]) * (units[m[2] ?? "s"] ?? 1000);
    rest = rest.slice(m[0].length);
  }
  if (s === "") throw new UsageError("empty duration");
  return ms;
}

/** The status lines of a first-time control-plane build (binaries.ts), shown during `run`. */
export const BUILD_LINE =
  /^(building | {2}into | {2}compiled |built |waiting for another process|using KUBEBUILDER_ASSETS)/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

interface Target {
  file: string;
  doc: number;
  js: JobSet;
}

/** The JobSets of the files, or a CliError naming the first document that is not one. */
async function readJobSets(files: string[]): Promise<Target[]> {
  const read = await readDocuments(files);
  const first = read.errors[0];
  if (first) throw new CliError(formatSourceError(first));
  const out: Target[] = [];
  for (const d of read.documents) {
    const where = at(d.file, d.start);
    if (!isObject(d.value)) throw new CliError(`${where}: not a Kubernetes object, so not a JobSet`);
    const apiVersion = typeof d.value.apiVersion === "string" ? d.value.apiVersion : "";
    const kind = typeof d.value.kind === "string" ? d.value.kind : "";
    if (kind !== Kind || !apiVersion.startsWith(`${Group}/`))
      throw new CliError(
        `${where}: ${kind || "an object without kind"}${apiVersion ? ` (${apiVersion})` : ""} is not a JobSet (want apiVersion ${ApiVersion}, kind ${Kind})`,
      );
    if (apiVersion !== ApiVersion)
      throw new CliError(`${where}: apiVersion ${apiVersion} is not served (want ${ApiVersion})`);
    out.push({ file: d.file, doc: d.index, js: d.value as JobSet });
  }
  if (out.length === 0) throw new CliError(`${files.join(", ")}: no JobSet found`);
  return out;
}

/** The API's message for a refused create (webhook denial, schema error), on one line. */
function refusal(e: ApiError): string {
  return e.message.replace(/\s*\n\s*/g, " ");
}

/** Creates a JobSet through the SDK's client; the errors a user meets become one line that says what to do. */
async function create(sdk: JobSetClient, t: Target, replace: boolean): Promise<JobSet> {
  const ns = t.js.metadata?.namespace || sdk.namespace;
  const name = t.js.metadata?.name ?? t.js.metadata?.generateName ?? "";
  try {
    return await sdk.create(t.js);
  } catch (e) {
    if (isAlreadyExists(e) && replace && t.js.metadata?.name) {
      try {
        await sdk.delete(t.js.metadata.name, { namespace: ns, wait: true, timeout: 120_000 });
      } catch (d) {
        throw new CliError(`cannot replace JobSet ${ns}/${name}: ${firstLine(d)}`);
      }
      return create(sdk, t, false);
    }
    if (isAlreadyExists(e))
      throw new CliError(`JobSet ${ns}/${name} already exists: delete it (or pass --replace), or change metadata.name`);
    if (e instanceof ApiError && e.code === 404 && !e.status?.details?.name)
      throw new CliError(
        "the cluster has no JobSet API (CRD jobsets.jobset.x-k8s.io is not installed): install JobSet, or use `jobset up`",
      );
    if (e instanceof ApiError && e.code === 404)
      throw new CliError(`namespace ${ns} does not exist: create it, or set metadata.namespace / -n`);
    if (e instanceof ApiError && e.code >= 400 && e.code < 500)
      throw new CliError(`${t.file}: JobSet ${name} was refused: ${refusal(e)}`);
    throw explain(e, sdk.kube.server);
  }
}

// ---------------------------------------------------------------------------------------------- output

interface Screen {
  /** Replaces the live frame (TTY) or prints the changes (plain). */
  update(views: JobSetView[], now: number): void;
  /** Prints lines above the live frame (logs). */
  print(text: string): void;
  /** Leaves the last frame on screen. */
  end(): void;
}

function ttyScreen(out: NodeJS.WriteStream, color: boolean, started: number): Screen {
  let shown = 0;
  let last: string[] = [];
  const erase = () => {
    if (shown > 0) out.write(`\x1b[${shown}F\x1b[J`);
    shown = 0;
  };
  const draw = () => {
    if (last.length === 0) return;
    out.write(`${last.join("\n")}\n`);
    shown = last.length;
  };
  return {
    update(views, now) {
      const lines: string[] = [];
      for (const v of views) {
        if (lines.length > 0) lines.push("");
        lines.push(
          ...renderFrame(v, now, {
            style: color ? colorStyle : plainStyle,
            elapsedMs: now - started,
            maxPodsPerJob: 8,
          }),
        );
      }
      last = clipFrame(lines, Math.max(20, (out.columns ?? 100) - 1), Math.max(5, (out.rows ?? 40) - 2));
      erase();
      draw();
    },
    print(text) {
      erase();
      out.write(text);
      draw();
    },
    end() {
      shown = 0;
    },
  };
}

function plainScreen(out: NodeJS.WritableStream, started: number): Screen {
  const prev = new Map<string, JobSetView>();
  const stamp = (now: number) => `+${((now - started) / 1000).toFixed(1).padStart(5)}s`;
  return {
    update(views, now) {
      for (const v of views) {
        const lines = changeLines(prev.get(v.uid), v, now);
        prev.set(v.uid, v);
        const tag = views.length > 1 ? `${v.name}: ` : "";
        for (const l of lines) out.write(`${stamp(now)} ${tag}${l}\n`);
      }
    },
    print(text) {
      out.write(text);
    },
    end() {},
  };
}

// ---------------------------------------------------------------------------------------------- logs

/**
 * Follows the logs of every container of the pods it is shown (pods/log with follow, which ends when the
 * container's run ends; a restarted container is followed again), printing whole lines with a [pod]
 * prefix. On the local cluster the API server proxies this to the fake kubelet, as on any cluster.
 */
const MAX_LOG_STREAMS = 64;

class LogFollower {
  /** The last run (restart count) followed, per pod UID and container. */
  private readonly followed = new Map<string, number>();
  private readonly client: KubeClient;
  private readonly abort = new AbortController();
  private readonly print: (text: string) => void;
  private readonly streams = new Set<Promise<void>>();

  constructor(client: KubeClient, print: (text: string) => void) {
    this.client = client;
    this.print = print;
  }

  private prefix(pod: Pod, container: string): string {
    const name = pod.metadata?.name ?? "";
    return logContainers(pod).length > 1 ? `[${name}/${container}] ` : `[${name}] `;
  }

  poll(pods: readonly Pod[]): void {
    for (const p of pods) {
      for (const c of logContainers(p)) {
        if (!containerStarted(p, c)) continue;
        const status = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].find(
          (s) => s.name === c,
        );
        const run = status?.restartCount ?? 0;
        const key = `${p.metadata?.uid ?? ""}/${c}`;
        const last = this.followed.get(key);
        if (last !== undefined && last >= run) continue;
        // Each follow holds a connection of the client's pool, which the status polls share.
        if (this.streams.size >= MAX_LOG_STREAMS) return;
        this.followed.set(key, run);
        const s = this.stream(p, c).finally(() => this.streams.delete(s));
        this.streams.add(s);
      }
    }
  }

  private async stream(p: Pod, container: string): Promise<void> {
    let buf = "";
    const prefix = this.prefix(p, container);
    try {
      for await (const chunk of this.client.streamText(
        podLogPath(p.metadata?.namespace ?? "", p.metadata?.name ?? ""),
        { container, follow: true },
        this.abort.signal,
      )) {
        buf += chunk;
        const nl = buf.lastIndexOf("\n");
        if (nl >= 0) {
          this.print(prefixLines(buf.slice(0, nl + 1), prefix));
          buf = buf.slice(nl + 1);
        }
      }
      if (buf) this.print(prefixLines(buf, prefix));
    } catch (e) {
      // A pod deleted meanwhile (a JobSet restart, a TTL) has no log any more: nothing to say.
      if (this.abort.signal.aborted || (e instanceof ApiError && e.code === 404)) return;
      this.print(`${prefix}(logs unavailable: ${firstLine(e)})\n`);
    }
  }

  /** Lets the streams of finished containers end by themselves (up to `graceMs`), then cuts the rest. */
  async stop(graceMs: number): Promise<void> {
    if (graceMs > 0 && this.streams.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.streams]),
        new Promise((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.abort.abort();
    await Promise.allSettled([...this.streams]);
  }
}

// ---------------------------------------------------------------------------------------------- the command

interface RunOptions {
  files: string[];
  cluster: ClusterFlags;
  logs: boolean;
  timeoutMs: number | undefined;
  /** The --timeout text, for the message when it passes. */
  timeout: string | undefined;
  replace: boolean;
  noColor: boolean | undefined;
  /** The ephemeral local cluster's nodes, runtime and controller feature gates (--feature-gates). */
  nodes: NodeSpec[];
  runtime: "exec" | "simulate";
  featureGates: GatesFlag;
  /** Whether --feature-gates was given (it applies to an ephemeral cluster only). */
  featureGatesGiven: boolean;
}

/** The flags of `jobset run`, checked (a bad one is a UsageError); undefined after printing --help. */
export function parseRunFlags(argv: string[]): RunOptions | undefined {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...clusterOptions,
      logs: { type: "boolean" },
      timeout: { type: "string" },
      replace: { type: "boolean" },
      "no-color": { type: "boolean" },
      ...nodeFlagOptions,
      runtime: { type: "string" },
      ...featureGatesOption,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return undefined;
  }
  if (positionals.length === 0) throw new UsageError("a FILE with JobSets is required (- for stdin)");
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout);
  const runtime = values.runtime ?? "exec";
  if (runtime !== "exec" && runtime !== "simulate") throw new UsageError(`--runtime ${runtime}: want exec or simulate`);
  const nodes = parseNodeFlags(values);
  const featureGates = parseGatesFlag(values["feature-gates"]);
  const cluster: ClusterFlags = {};
  if (values.kubeconfig !== undefined) cluster.kubeconfig = values.kubeconfig;
  if (values.context !== undefined) cluster.context = values.context;
  if (values.namespace !== undefined) cluster.namespace = values.namespace;
  return {
    files: positionals,
    cluster,
    logs: values.logs === true,
    timeoutMs,
    timeout: values.timeout,
    replace: values.replace === true,
    noColor: values["no-color"],
    nodes,
    runtime,
    featureGates,
    featureGatesGiven: values["feature-gates"] !== undefined,
  };
}

/**
 * The gates of the ephemeral cluster: --feature-gates, and JobSetWorkloadAwareSchedulingAPI on when a
 * JobSet asks for gang scheduling (spec.scheduling) unless the flag sets that gate.
 */
export function ephemeralGates(o: RunOptions, jobSets: readonly JobSet[]): FeatureGates {
  return localClusterGates(o.featureGates, { wantsScheduling: jobSets.some((js) => js.spec?.scheduling != null) });
}

/** Starts the ephemeral local cluster of a run with no cluster configured (building it the first time). */
async function startEphemeral(o: RunOptions, gates: FeatureGates): Promise<LocalCluster> {
  const { startLocalCluster } = await import("./local-cluster.ts");
  const { GoMissingError } = await import("../local/binaries.ts");
  const shown = nonDefaultGates(gates) ? `, feature gates on: ${gatesOn(gates)}` : "";
  process.stderr.write(
    `No cluster configured (--kubeconfig, KUBECONFIG or \`jobset up\`): starting an ephemeral local cluster (${o.nodes.length} nodes, ${o.runtime} runtime${shown})…\n`,
  );
  const t0 = Date.now();
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({
      nodes: o.nodes,
      runtime: o.runtime,
      // With gate JobSetWorkloadAwareSchedulingAPI on, the local cluster serves the Workload API.
      featureGates: gates,
      log: (l) => {
        if (BUILD_LINE.test(l) || l.startsWith(AgentPermissionsLine)) process.stderr.write(`${l}\n`);
      },
    });
  } catch (e) {
    if (e instanceof GoMissingError) throw new CliError(e.message);
    throw new CliError(`cannot start the local cluster: ${firstLine(e)}`);
  }
  process.stderr.write(`Local cluster ready in ${humanDuration(Date.now() - t0)}.\n`);
  return cluster;
}

/** Prints one line per JobSet saying how it ended; returns the exit code. */
function report(
  created: JobSet[],
  o: Outcome,
  run: { timeout?: string; interrupted: boolean; ephemeral: boolean },
): number {
  let code = 0;
  for (const js of created) {
    const key = js.metadata?.uid ?? "";
    const snap = o.last.get(key);
    const name = `${js.metadata?.namespace}/${js.metadata?.name}`;
    const state = snap ? finished(snap.jobset) : undefined;
    if (state === "Completed") {
      process.stdout.write(
        `JobSet ${name} completed${o.deleted.has(key) ? " (then deleted: ttlSecondsAfterFinished)" : ""}\n`,
      );
    } else if (state === "Failed") {
      const c = snap ? finishCondition(snap.jobset) : undefined;
      process.stdout.write(`JobSet ${name} failed: ${c ? `${c.reason}: ${c.message}` : "(no condition)"}\n`);
      code = 1;
    } else if (o.deleted.has(key)) {
      process.stdout.write(`JobSet ${name} was deleted before it finished\n`);
      code = 1;
    } else if (o.timedOut) {
      process.stdout.write(`JobSet ${name} did not finish within ${run.timeout}\n`);
      code = 1;
    } else if (run.interrupted) {
      process.stdout.write(`Interrupted: JobSet ${name} is still running${run.ephemeral ? "" : " on the cluster"}\n`);
      code = 130;
    }
  }
  return code;
}

export async function run(argv: string[]): Promise<number> {
  const o = parseRunFlags(argv);
  if (!o) return 0;
  const targets = await readJobSets(o.files);
  const resolved = resolveKubeconfig(o.cluster, { allowHome: false });
  let ephemeral: LocalCluster | undefined;
  let conn: Connected | undefined;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    if (resolved.kubeconfig) {
      if (o.featureGatesGiven)
        process.stderr.write(
          "warning: --feature-gates only applies to an ephemeral local cluster; this cluster's controller keeps its own gates (start a local one with `jobset up --feature-gates ...`)\n",
        );
      conn = await connect(o.cluster, { allowHome: false });
    } else {
      const gates = ephemeralGates(
        o,
        targets.map((x) => x.js),
      );
      ephemeral = await startEphemeral(o, gates);
      if (abort.signal.aborted) return 130;
      conn = await connect({ ...o.cluster, kubeconfig: ephemeral.kubeconfigPath });
    }
    const { client, namespace } = conn;
    const sdk = new JobSetClient(client, namespace);

    // The clock of the progress lines starts when the JobSets are applied (not counting a cluster start
    // or a first-time build). Every JobSet is created first: a refused one stops the run before any is followed.
    const started = Date.now();
    const created: JobSet[] = [];
    for (const t of targets) {
      const js = await create(sdk, t, o.replace);
      created.push(js);
      process.stderr.write(
        `jobset.jobset.x-k8s.io/${js.metadata?.name} created in namespace ${js.metadata?.namespace}\n`,
      );
    }

    const screen = process.stdout.isTTY
      ? ttyScreen(process.stdout, useColor(o.noColor), started)
      : plainScreen(process.stdout, started);
    const logs = o.logs ? new LogFollower(client, (t) => screen.print(t)) : undefined;
    const gangs = new GangReporter(client, (t) => screen.print(t)); // says why a gang cannot be placed
    // The SDK's follow engine (waitFor uses it too): one snapshot per JobSet every 500 ms.
    const outcome = await sdk.follow(created, {
      ...(o.timeoutMs === undefined ? {} : { deadline: Date.now() + o.timeoutMs }),
      signal: abort.signal,
      onSnapshots: async (snaps, now) => {
        screen.update(snaps.map(buildView), now);
        logs?.poll(snaps.flatMap((s) => s.pods));
        await gangs.poll(snaps);
      },
    });
    const interrupted = abort.signal.aborted;
    if (logs) {
      // Containers that ran between two looks are followed too; the streams of finished containers end
      // by themselves once everything they printed is out.
      logs.poll([...outcome.last.values()].flatMap((s) => s.pods));
      await logs.stop(interrupted || outcome.timedOut ? 0 : 5000);
    }
    screen.end();
    const runInfo = { interrupted, ephemeral: ephemeral !== undefined };
    return report(created, outcome, o.timeout === undefined ? runInfo : { ...runInfo, timeout: o.timeout });
  } catch (e) {
    throw explain(e, conn?.client.server);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await conn?.client.close().catch(() => {});
    if (ephemeral) {
      process.stderr.write("Stopping the ephemeral local cluster…\n");
      await ephemeral.stop();
    }
  }
}
