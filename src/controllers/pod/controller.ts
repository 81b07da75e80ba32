// The pod controller (controller name `pod`) of exclusive placement (spec §7.4): reconciles scheduled
// leader pods from the JobSet-pods cache and carries out planPlacement's decision: a DisruptionTarget
// condition via the pod status subresource, then DELETE with propagationPolicy Background, for every
// follower of a Job whose pods left the leader's topology domain. Needs `pods/status: update` (granted
// in our RBAC, unlike upstream: spec §10.3.1) and `pods: delete`.
//
// setupPodController registers it with the Manager like the JobSet controller: the manager's queue
// and workers, leader only, reconcile errors logged ("Reconciler error") and counted in the
// controller-runtime metrics under controller="pod".
import { Labels } from "../../api/constants.ts";
import type { Node, Pod } from "../../api/k8s.ts";
import { rfc3339 } from "../../api/time.ts";
import { ParallelDeletions, PodJobKeyIndex, planPlacement, shouldReconcileLeader } from "../../controller/placement.ts";
import { isNotFound, Resources, resourcePath } from "../../runtime/client.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import type { Manager } from "../../runtime/manager.ts";
import { mapSettled } from "../../runtime/parallel.ts";
import { objectKey, splitKey } from "../../runtime/store.ts";
import { namespacedIndexValue, type PodCache } from "../pods.ts";

export const PodControllerName = "pod";

/** What the controller writes through (KubeClient fits). */
export interface PodWriter {
  update<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string, opts?: { propagationPolicy?: "Foreground" | "Background" | "Orphan" }): Promise<T>;
}

/** Reads a Node (KubeClient fits). */
export interface NodeReader {
  get<T>(path: string): Promise<T>;
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

export interface PodControllerOptions {
  /** The JobSet-pods cache, with the placement indexes (src/controllers/pods.ts). */
  pods: PodCache;
  client: PodWriter;
  getNode: (name: string) => Promise<Node | null>;
  clock?: Clock;
}

const podPath = (namespace: string, name: string, subresource?: string) =>
  resourcePath({ ...Resources.pods, namespace, name, ...(subresource ? { subresource } : {}) });

export class PodController {
  private readonly o: PodControllerOptions;
  private readonly clock: Clock;

  constructor(o: PodControllerOptions) {
    this.o = o;
    this.clock = o.clock ?? realClock;
  }

  /** One reconcile of leader pod `namespace/name`. Throws to requeue with backoff. */
  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const leader = this.o.pods.get(namespace, name);
    if (!leader || !shouldReconcileLeader(leader)) return;
    const jobKey = leader.metadata?.labels?.[Labels.JobKey];
    const jobPods =
      jobKey === undefined ? [] : this.o.pods.byIndex(PodJobKeyIndex, namespacedIndexValue(namespace, jobKey));
    const leaderNode = await this.o.getNode(leader.spec?.nodeName ?? "");
    const plan = planPlacement({
      leader,
      jobPods,
      leaderNode,
      now: rfc3339(this.clock.now()),
    });
    if (plan.kind === "valid") return;
    if (plan.kind === "error") throw new Error(plan.message);
    const results = await mapSettled(plan.evictions, ParallelDeletions, async (e) => {
      const ns = e.pod.metadata?.namespace ?? "";
      const podName = e.pod.metadata?.name ?? "";
      if (e.statusUpdate) await this.o.client.update(podPath(ns, podName, "status"), e.statusUpdate);
      try {
        await this.o.client.delete(podPath(ns, podName), { propagationPolicy: "Background" });
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

/**
 * Registers the pod controller with `manager` (leader only, `concurrency` workers, default 1): pod
 * events of scheduled leaders enqueue their key. The pod cache must be registered with the manager by
 * its owner (the assembly), since the webhooks and the JobSet controller read it too.
 */
export function setupPodController(
  manager: Manager,
  deps: { client: PodWriter & NodeReader; clock?: Clock },
  pods: PodCache,
  o: { concurrency?: number } = {},
): PodController {
  const registration = manager.addController({
    name: PodControllerName,
    concurrency: o.concurrency ?? 1,
    reconcile: (key) => controller.reconcile(key),
  });
  const controller = new PodController({
    pods,
    client: deps.client,
    getNode: nodeGetter(deps.client),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const enqueue = (p: Pod) => {
    if (shouldReconcileLeader(p)) registration.enqueue(objectKey(p));
  };
  pods.addEventHandler({ onAdd: enqueue, onUpdate: (_old, p) => enqueue(p), onDelete: enqueue });
  return controller;
}
