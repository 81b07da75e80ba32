// A small JobSet client on the project's own Kubernetes client (src/runtime/client.ts): create or
// apply, get, list, watch, delete, and waitFor() a terminal state with progress callbacks — the same
// follow engine `jobset run` uses (follow.ts). Pods' logs too, for what a JobSet printed.
import { Labels } from "../api/constants.ts";
import type { Event, Job, Pod } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import { jobsetsPath } from "../cli/cluster.ts";
import { podLog, podLogPath, podsPath } from "../cli/fetch.ts";
import { buildView, finishCondition, finished, jobSetState } from "../cli/render.ts";
import { type DeleteOptions, isNotFound, KubeClient, type WatchEvent } from "../runtime/client.ts";
import { type FollowOptions, followJobSets, type Outcome, type Snapshot, waitGone } from "./follow.ts";

export type { WatchEvent } from "../runtime/client.ts";
export { ApiError, isAlreadyExists, isConflict, isNotFound } from "../runtime/client.ts";

/** A JobSet's end: Completed (its success policy was met) or Failed. */
export type TerminalState = "Completed" | "Failed";

export interface ConnectOptions {
  /** kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else the in-cluster service account). */
  kubeconfig?: string;
  /** kubeconfig context (default: its current context). */
  context?: string;
  /** Namespace for JobSets without one (default: the context's namespace, else "default"). */
  namespace?: string;
}

/** Where a followed JobSet is, as waitFor's onProgress sees it. */
export interface Progress {
  jobset: JobSet;
  /** Pending, Running, Restarting, Suspended, Completed or Failed. */
  state: string;
  /** Pods of the current attempt: expected in total (Σ replicas × completions), and how they fare. */
  pods: { total: number; succeeded: number; failed: number; running: number };
  /** Times the whole JobSet was restarted. */
  restarts: number;
  /** Time since waitFor started. */
  elapsedMs: number;
  /** The raw children: the JobSet's Jobs, their pods, and the events about the JobSet. */
  children: { jobs: readonly Job[]; pods: readonly Pod[]; events: readonly Event[] };
}

export interface WaitOptions {
  /** Give up after this many milliseconds (default: no limit). */
  timeout?: number;
  /** Stop waiting when aborted (the JobSet keeps running). */
  signal?: AbortSignal;
  /** Called first and then whenever the state, the pod counts or the restarts change. */
  onProgress?: (p: Progress) => void;
  /** Time between two looks at the cluster (default 500 ms). */
  intervalMs?: number;
}

/** Why waitFor gave up: the JobSet ended in the other state, was deleted, the timeout, or the signal. */
export class WaitError extends Error {
  override name = "WaitError";
  readonly reason: "OtherState" | "Deleted" | "Timeout" | "Aborted";
  /** The JobSet as last seen. */
  readonly jobset: JobSet;
  constructor(reason: WaitError["reason"], message: string, jobset: JobSet) {
    super(message);
    this.reason = reason;
    this.jobset = jobset;
  }
}

const key = (js: JobSet) => `${js.metadata?.namespace}/${js.metadata?.name}`;

function progressOf(s: Snapshot, started: number, now: number): Progress {
  const v = buildView(s);
  return {
    jobset: s.jobset,
    state: jobSetState(s.jobset),
    pods: v.progress,
    restarts: v.restarts,
    elapsedMs: now - started,
    children: { jobs: s.jobs, pods: s.pods, events: s.events },
  };
}

/**
 * JobSets on a cluster: `await JobSetClient.connect()` (kubeconfig as kubectl finds it), then create or
 * apply, get, list, watch, delete, waitFor a terminal state, and read the pods' logs. Errors of the API
 * server are ApiError (`code`, `reason`, `message`); isNotFound/isAlreadyExists/isConflict test them.
 */
export class JobSetClient {
  /** The underlying Kubernetes client (any other resource: `kube.get(path)`, `kube.list(path)`…). */
  readonly kube: KubeClient;
  /** Namespace of JobSets that have none. */
  readonly namespace: string;

  constructor(kube: KubeClient, namespace?: string) {
    this.kube = kube;
    this.namespace = namespace || kube.defaultNamespace;
  }

  /** A client for a kubeconfig (see ConnectOptions); `close()` it when done. */
  static async connect(o: ConnectOptions = {}): Promise<JobSetClient> {
    const kube = await KubeClient.create({
      ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
      ...(o.context ? { context: o.context } : {}),
      userAgent: "jobset-sdk",
    });
    return new JobSetClient(kube, o.namespace);
  }

  private ns(js: JobSet | undefined, namespace?: string): string {
    return namespace || js?.metadata?.namespace || this.namespace;
  }

  /** Creates the JobSet; returns it as stored (uid, defaults). Throws ApiError (409 AlreadyExists, a webhook refusal…). */
  create(js: JobSet): Promise<JobSet> {
    const ns = this.ns(js);
    return this.kube.create<JobSet>(jobsetsPath(ns), { ...js, metadata: { ...js.metadata, namespace: ns } });
  }

  /** Creates or updates the JobSet by server-side apply (field manager "jobset-sdk"; conflicts are forced). */
  apply(js: JobSet, o: { fieldManager?: string } = {}): Promise<JobSet> {
    const ns = this.ns(js);
    const name = js.metadata?.name;
    if (!name) throw new Error("apply needs metadata.name (generateName is for create)");
    const { status: _status, ...body } = { ...js, metadata: { ...js.metadata, namespace: ns } };
    return this.kube.patch<JobSet>(jobsetsPath(ns, name), body, "apply", {
      fieldManager: o.fieldManager ?? "jobset-sdk",
      force: true,
    });
  }

  /** The JobSet `name` of `namespace` (default: the client's). Throws ApiError 404 when there is none. */
  get(name: string, namespace?: string): Promise<JobSet> {
    return this.kube.get<JobSet>(jobsetsPath(this.ns(undefined, namespace), name));
  }

  /** JobSets of a namespace (default: the client's), or of all namespaces. */
  async list(o: { namespace?: string; allNamespaces?: boolean; labelSelector?: string } = {}): Promise<JobSet[]> {
    const path = jobsetsPath(o.allNamespaces ? undefined : this.ns(undefined, o.namespace));
    return (await this.kube.list<JobSet>(path, o.labelSelector ? { labelSelector: o.labelSelector } : {})).items;
  }

  /**
   * Watch events of the JobSets of a namespace (one JobSet with `name`), from `resourceVersion` (default:
   * the current state, as ADDED events). Ends when the server closes the watch or `signal` aborts.
   */
  watch(
    o: { namespace?: string; name?: string; resourceVersion?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<WatchEvent<JobSet>> {
    const query: Record<string, string> = {};
    if (o.name) query.fieldSelector = `metadata.name=${o.name}`;
    if (o.resourceVersion) query.resourceVersion = o.resourceVersion;
    return this.kube.watch<JobSet>(jobsetsPath(this.ns(undefined, o.namespace)), query, o.signal);
  }

  /**
   * Deletes the JobSet with its Jobs and pods (foreground propagation by default). With `wait`, returns
   * once it is gone (or throws after `timeout` ms, default 120 s). A JobSet already gone is not an error.
   */
  async delete(
    name: string,
    o: {
      namespace?: string;
      propagationPolicy?: DeleteOptions["propagationPolicy"];
      wait?: boolean;
      timeout?: number;
    } = {},
  ): Promise<void> {
    const path = jobsetsPath(this.ns(undefined, o.namespace), name);
    try {
      await this.kube.delete(path, { propagationPolicy: o.propagationPolicy ?? "Foreground" });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (o.wait) await waitGone(this.kube, path, Date.now() + (o.timeout ?? 120_000));
  }

  /** The pods of a JobSet (all attempts), by its name label. */
  async pods(js: JobSet | string, namespace?: string): Promise<Pod[]> {
    const name = typeof js === "string" ? js : (js.metadata?.name ?? "");
    const ns = this.ns(typeof js === "string" ? undefined : js, namespace);
    return (await this.kube.list<Pod>(podsPath(ns), { labelSelector: `${Labels.JobSetName}=${name}` })).items;
  }

  /** A container's log (default: the pod's first container). */
  logs(pod: Pod, o: { container?: string; previous?: boolean; tailLines?: number } = {}): Promise<string> {
    const container = o.container ?? pod.spec?.containers[0]?.name ?? "";
    const opts: { previous?: boolean; tailLines?: number } = {};
    if (o.previous !== undefined) opts.previous = o.previous;
    if (o.tailLines !== undefined) opts.tailLines = o.tailLines;
    return podLog(this.kube, pod.metadata?.namespace ?? this.namespace, pod.metadata?.name ?? "", container, opts);
  }

  /** Follows a container's log as it is written, chunk by chunk, until the container ends or `signal` aborts. */
  followLogs(pod: Pod, o: { container?: string; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    const container = o.container ?? pod.spec?.containers[0]?.name ?? "";
    const path = podLogPath(pod.metadata?.namespace ?? this.namespace, pod.metadata?.name ?? "");
    return this.kube.streamText(path, { container, follow: true }, o.signal);
  }

  /**
   * Follows created JobSets (with uids) until each finished or was deleted, the deadline, or the signal:
   * the engine of `jobset run` and of waitFor.
   */
  follow(created: JobSet[], o: FollowOptions = {}): Promise<Outcome> {
    return followJobSets(this.kube, created, o);
  }

  /**
   * Waits until the JobSet reaches `state` and returns it as last seen. Throws WaitError when it ends
   * in the other state (with its condition's reason and message), is deleted first, the timeout
   * passes, or the signal aborts. Calls `onProgress` first and on every change.
   */
  async waitFor(jobset: JobSet | string, state: TerminalState, o: WaitOptions = {}): Promise<JobSet> {
    let js = typeof jobset === "string" ? await this.get(jobset) : jobset;
    if (!js.metadata?.uid) js = await this.get(js.metadata?.name ?? "", js.metadata?.namespace);
    const started = Date.now();
    let shown = "";
    const outcome = await this.follow([js], {
      ...(o.timeout !== undefined ? { deadline: started + o.timeout } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.intervalMs !== undefined ? { intervalMs: o.intervalMs } : {}),
      onSnapshots: (snaps, now) => {
        const s = snaps[0];
        if (!s || !o.onProgress) return;
        const p = progressOf(s, started, now);
        const sig = JSON.stringify([p.state, p.pods, p.restarts]);
        if (sig === shown) return;
        shown = sig;
        o.onProgress(p);
      },
    });
    const uid = js.metadata?.uid ?? "";
    const last = outcome.last.get(uid)?.jobset ?? js;
    const end = finished(last);
    if (end === state) return last;
    if (end) {
      const c = finishCondition(last);
      throw new WaitError(
        "OtherState",
        `JobSet ${key(last)} ${end === "Failed" ? "failed" : "completed"}${c ? `: ${c.reason}: ${c.message}` : ""} (waited for ${state})`,
        last,
      );
    }
    if (outcome.deleted.has(uid))
      throw new WaitError("Deleted", `JobSet ${key(last)} was deleted before it finished`, last);
    if (outcome.timedOut)
      throw new WaitError("Timeout", `JobSet ${key(last)} did not reach ${state} within ${o.timeout} ms`, last);
    throw new WaitError("Aborted", `stopped waiting for JobSet ${key(last)}: aborted`, last);
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.kube.close();
  }
}
