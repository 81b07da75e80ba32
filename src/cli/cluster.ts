// How the cluster-facing commands (get, describe, tree, logs, run) find their cluster, and the errors a
// user meets on the way, each as one line that says what to do.
//
// Which kubeconfig: --kubeconfig, else $KUBECONFIG, else the local cluster of a running `jobset up
// --detach` (its state file), else ~/.kube/config (not for `jobset run`, which starts an ephemeral
// local cluster instead of submitting to whatever ~/.kube/config points at).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { JobSetResource } from "../api/constants.ts";
import { ApiError, KubeClient } from "../runtime/client.ts";
import { resourcePath } from "../runtime/resources.ts";
import { CliError, firstLine } from "./errors.ts";
import { type LocalState, readLocalState } from "./local-state.ts";

export { CliError, firstLine } from "./errors.ts";

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** parseArgs options shared by every cluster-facing command. */
export const clusterOptions = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", short: "n" },
} as const;

export const clusterHelp = `      --kubeconfig PATH      kubeconfig file (default: $KUBECONFIG, the running \`jobset up\` cluster, ~/.kube/config)
      --context NAME         kubeconfig context to use
  -n, --namespace NS         namespace (default: the context's namespace, else "default")`;

export const NO_CLUSTER_HINT = "start a local cluster with `jobset up --detach`, or set KUBECONFIG";

export interface Resolved {
  kubeconfig: string | undefined;
  /** Where the kubeconfig came from. */
  source: "flag" | "env" | "local" | "home" | "none";
  /** The running `jobset up` cluster, when the kubeconfig is its own. */
  local: LocalState | undefined;
}

/** Picks the kubeconfig (see the header); `allowHome: false` skips ~/.kube/config. */
export function resolveKubeconfig(flags: ClusterFlags, o: { allowHome?: boolean } = {}): Resolved {
  const local = readLocalState();
  const mine = (p: string | undefined) => (local && p && local.kubeconfig === p ? local : undefined);
  if (flags.kubeconfig) return { kubeconfig: flags.kubeconfig, source: "flag", local: mine(flags.kubeconfig) };
  const env = process.env.KUBECONFIG;
  const first = env?.split(delimiter).find((f) => f !== "");
  if (first) return { kubeconfig: first, source: "env", local: mine(first) };
  if (local) return { kubeconfig: local.kubeconfig, source: "local", local };
  const home = join(homedir(), ".kube", "config");
  if (o.allowHome !== false && existsSync(home)) return { kubeconfig: home, source: "home", local: undefined };
  return { kubeconfig: undefined, source: "none", local: undefined };
}

export interface Connected {
  client: KubeClient;
  namespace: string;
  local: LocalState | undefined;
}

/** A client for the resolved cluster, or a CliError that says what to do. */
export async function connect(flags: ClusterFlags, o: { allowHome?: boolean } = {}): Promise<Connected> {
  const r = resolveKubeconfig(flags, o);
  if (!r.kubeconfig) throw new CliError(`no cluster configured: ${NO_CLUSTER_HINT}`);
  // $KUBECONFIG may list several files: the loader merges them as kubectl does (first file wins).
  const fromEnv = r.source === "env";
  const files = fromEnv ? (process.env.KUBECONFIG ?? "").split(delimiter).filter((f) => f !== "") : [r.kubeconfig];
  if (!files.some((f) => existsSync(f))) {
    const from = r.source === "flag" ? "--kubeconfig" : fromEnv ? "KUBECONFIG" : "kubeconfig";
    throw new CliError(`${from} file ${files.join(delimiter)} does not exist: ${NO_CLUSTER_HINT}`);
  }
  let client: KubeClient;
  try {
    client = await KubeClient.create({
      ...(fromEnv ? {} : { kubeconfig: r.kubeconfig }),
      ...(flags.context ? { context: flags.context } : {}),
      userAgent: "jobset-cli",
    });
  } catch (e) {
    throw new CliError(
      `cannot use kubeconfig ${fromEnv ? `KUBECONFIG=${process.env.KUBECONFIG}` : r.kubeconfig}: ${firstLine(e)}`,
    );
  }
  // The local cluster of `jobset up`, recognized by its API server URL (whichever kubeconfig led here).
  const state = r.local ?? readLocalState();
  const local = state && state.server === client.server ? state : undefined;
  return { client, namespace: flags.namespace || client.defaultNamespace, local };
}

/** Turns the errors a user meets into one line that says what to do; other errors pass through. */
export function explain(e: unknown, server?: string): Error {
  if (e instanceof CliError) return e;
  if (e instanceof ApiError) {
    if (e.code === 0)
      return new CliError(`cannot reach the Kubernetes API server${server ? ` at ${server}` : ""}: ${NO_CLUSTER_HINT}`);
    if (e.code === 401 || e.code === 403) return new CliError(`the API server refused us (${e.code}): ${e.message}`);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** Path of the JobSet collection (one namespace, or all with `namespace` undefined). */
export const jobsetsPath = (namespace?: string, name?: string): string =>
  resourcePath({ ...JobSetResource, namespace, name });

/** A 404 on a collection means the CRD is missing: say so. */
export function explainNotFound(e: unknown, what: string): Error {
  if (e instanceof ApiError && e.code === 404) {
    const msg = e.message || "";
    if (/could not find the requested resource/.test(msg) || !e.status?.details?.name)
      return new CliError(
        `the cluster has no JobSet API (CRD jobsets.jobset.x-k8s.io is not installed): install JobSet, or use \`jobset up\``,
      );
    return new CliError(`${what} not found`);
  }
  return explain(e);
}
