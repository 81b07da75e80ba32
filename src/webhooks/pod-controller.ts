// The pod controller of exclusive placement (spec §7.4): watches pods through the shared pod informer,
// reconciles scheduled leaders, and carries out planPlacement's decision: a DisruptionTarget
// condition via the pod status subresource, then DELETE with propagationPolicy Background, for every
// follower of a Job whose pods left the leader's topology domain. Needs `pods/status: update` (granted
// in our RBAC, unlike upstream: spec §10.3.1) and `pods: delete`.
//
// Also home of the pod cache indexes shared with the pod webhooks, and of the webhook lookups built
// on that cache.
import type { Node, Pod } from "../api/k8s.ts";
import {
  ParallelDeletions,
  PodJobKeyIndex,
  PodNameIndex,
  planPlacement,
  podJobKeyIndexKeys,
  podNameIndexKeys,
  shouldReconcileLeader,
} from "../controller/placement.ts";
import { ApiError, isNotFound, Resources, resourcePath } from "../runtime/client.ts";
import { type Clock, realClock } from "../runtime/clock.ts";
import { mapSettled } from "../runtime/parallel.ts";
import { type ReconcileOutcome, runWorkers, WorkQueue } from "../runtime/workqueue.ts";
import type { PodWebhookLookups } from "./pod-webhook.ts";

/** The pod cache the controller and the webhooks read (an Informer<Pod> fits). */
export interface PodCache {
  get(namespace: string, name: string): Pod | undefined;
  addIndex(name: string, fn: (p: Pod) => string[]): void;
  byIndex(name: string, value: string): Pod[];
  addEventHandler(h: { onAdd?(p: Pod): void; onUpdate?(old: Pod, p: Pod): void; onDelete?(p: Pod): void }): () => void;
}

/** What the controller writes through (KubeClient fits). */
export interface PodWriter {
  update<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string, opts?: { propagationPolicy?: "Foreground" | "Background" | "Orphan" }): Promise<T>;
}

/** Reads a Node (KubeClient fits). */
export interface NodeReader {
  get<T>(path: string): Promise<T>;
}

/** Namespaced index keys: the cache is cluster-wide, lookups are per namespace (client.InNamespace). */
const nsKey = (ns: string, key: string) => `${ns}/${key}`;

/** Registers the `podName` and `podJobKey` indexes (namespace-qualified) on the pod cache. */
export function addPodIndexes(cache: PodCache): void {
  const ns = (p: Pod) => p.metadata?.namespace ?? "";
  cache.addIndex(PodNameIndex, (p) => podNameIndexKeys(p).map((k) => nsKey(ns(p), k)));
  cache.addIndex(PodJobKeyIndex, (p) => podJobKeyIndexKeys(p).map((k) => nsKey(ns(p), k)));
}

/** GET a Node by name: null when it does not exist. */
export function nodeGetter(client: NodeReader): (name: string) => Promise<Node | null> {
  return async (name) => {
    try {
      return await client.get<Node>(resourcePath({ ...Resources.nodes, name }));
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  };
}

/** The pod webhooks' lookups over the pod cache and a Node getter (NotFound → `Node "<name>" not found`). */
export function podWebhookLookups(cache: PodCache, getNode: (name: string) => Promise<Node | null>): PodWebhookLookups {
  return {
    podsByName: (namespace, name) => cache.byIndex(PodNameIndex, nsKey(namespace, name)),
    getNode: async (name) => {
      const n = await getNode(name);
      if (!n) throw new ApiError(404, "NotFound", `Node ${JSON.stringify(name)} not found`);
      return n;
    },
  };
}

export interface PodControllerOptions {
  pods: PodCache;
  client: PodWriter;
  getNode: (name: string) => Promise<Node | null>;
  clock?: Clock;
  concurrency?: number;
  onResult?: (key: string, outcome: ReconcileOutcome, seconds: number, error?: unknown) => void;
}

export class PodController {
  private readonly o: PodControllerOptions;
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;
  private workers: Promise<void> | undefined;

  constructor(o: PodControllerOptions) {
    this.o = o;
    this.queue = new WorkQueue({ name: "pod", clock: o.clock ?? realClock });
  }

  /** Subscribes to the pod cache (indexes must be added before the informer starts) and runs workers. */
  start(): void {
    const enqueue = (p: Pod) => {
      if (shouldReconcileLeader(p)) this.queue.add(`${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`);
    };
    this.unsubscribe = this.o.pods.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, p) => enqueue(p),
      onDelete: enqueue,
    });
    this.workers = runWorkers(this.queue, this.o.concurrency ?? 1, (key) => this.reconcile(key), {
      ...(this.o.onResult ? { onResult: this.o.onResult } : {}),
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.queue.shutDown();
    await this.workers;
  }

  /** One reconcile of leader pod `namespace/name`. Throws to requeue with backoff. */
  async reconcile(key: string): Promise<void> {
    const slash = key.indexOf("/");
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const leader = this.o.pods.get(namespace, name);
    if (!leader || !shouldReconcileLeader(leader)) return;
    const jobKey = leader.metadata?.labels?.["jobset.sigs.k8s.io/job-key"];
    const jobPods = jobKey === undefined ? [] : this.o.pods.byIndex(PodJobKeyIndex, nsKey(namespace, jobKey));
    const leaderNode = await this.o.getNode(leader.spec?.nodeName ?? "");
    const plan = planPlacement({
      leader,
      jobPods,
      leaderNode,
      now: new Date((this.o.clock ?? realClock).now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    if (plan.kind === "valid") return;
    if (plan.kind === "error") throw new Error(plan.message);
    const results = await mapSettled(plan.evictions, ParallelDeletions, async (e) => {
      const ns = e.pod.metadata?.namespace ?? "";
      const podName = e.pod.metadata?.name ?? "";
      if (e.statusUpdate) {
        await this.o.client.update(
          resourcePath({ ...Resources.pods, namespace: ns, name: podName, subresource: "status" }),
          e.statusUpdate,
        );
      }
      try {
        await this.o.client.delete(resourcePath({ ...Resources.pods, namespace: ns, name: podName }), {
          propagationPolicy: "Background",
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    if (errors.length > 0) {
      throw new AggregateError(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; "));
    }
  }
}
