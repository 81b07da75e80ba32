// Exclusive placement (spec §7): one Job per topology domain. Pure helpers shared by the pod webhooks
// and the pod controller, and the pod controller's plan (§7.4): given a scheduled leader pod, the pods
// of its Job and the leader's Node, decide whether the followers sit in the leader's domain and, if
// not, which pods to mark with a DisruptionTarget condition and delete.
import { Annotations, JobCompletionIndexAnnotation, Labels, Messages, Reasons } from "../api/constants.ts";
import type { Node, OwnerReference, Pod } from "../api/k8s.ts";

/** Name of the pod cache index: pod name without its random suffix (exclusive-placement pods only). */
export const PodNameIndex = "podName";
/** Name of the pod cache index: the `job-key` label (exclusive-placement pods only). */
export const PodJobKeyIndex = "podJobKey";
/** Upstream deletes mis-placed followers with this much parallelism. */
export const ParallelDeletions = 50;

type PodCondition = NonNullable<NonNullable<Pod["status"]>["conditions"]>[number];

export const annotation = (pod: Pod, key: string): string | undefined => pod.metadata?.annotations?.[key];
export const hasAnnotation = (pod: Pod, key: string): boolean =>
  pod.metadata?.annotations !== undefined && Object.hasOwn(pod.metadata.annotations, key);
const hasLabel = (pod: Pod, key: string): boolean =>
  pod.metadata?.labels !== undefined && Object.hasOwn(pod.metadata.labels, key);

/** A leader pod is completion index "0" of its Job. */
export const isLeaderPod = (pod: Pod): boolean => annotation(pod, JobCompletionIndexAnnotation) === "0";

export const usesExclusivePlacement = (pod: Pod): boolean => hasAnnotation(pod, Annotations.ExclusiveTopology);
export const usesNodeSelectorStrategy = (pod: Pod): boolean => hasAnnotation(pod, Annotations.NodeSelectorStrategy);

/** The pod's controller owner reference (`controller: true`), if any. */
export const controllerOf = (pod: Pod): OwnerReference | undefined =>
  pod.metadata?.ownerReferences?.find((r) => r.controller === true);

/**
 * `<jobset>-<replicatedJob>-<jobIndex>-<podIndex>-<suffix>` without the suffix; undefined for names of
 * fewer than 5 dash-separated parts.
 */
export function removePodNameSuffix(name: string): string | undefined {
  const parts = name.split("-");
  if (parts.length < 5) return undefined;
  return parts.slice(0, -1).join("-");
}

/** Index function of `podName`. */
export function podNameIndexKeys(pod: Pod): string[] {
  if (!usesExclusivePlacement(pod)) return [];
  const key = removePodNameSuffix(pod.metadata?.name ?? "");
  return key === undefined ? [] : [key];
}

/** Index function of `podJobKey`. */
export function podJobKeyIndexKeys(pod: Pod): string[] {
  if (!usesExclusivePlacement(pod)) return [];
  const labels = pod.metadata?.labels;
  if (!labels || !Object.hasOwn(labels, Labels.JobKey)) return [];
  return [labels[Labels.JobKey] ?? ""];
}

/** Name of the leader pod of a follower's Job (without the random suffix), or the missing-label error. */
export function leaderPodName(pod: Pod): { name: string } | { error: string } {
  const labels = pod.metadata?.labels ?? {};
  const parts: string[] = [];
  for (const key of [Labels.JobSetName, Labels.ReplicatedJobName, Labels.JobIndex]) {
    if (!hasLabel(pod, key)) return { error: `pod missing label: ${key}` };
    parts.push(labels[key] ?? "");
  }
  return { name: `${parts.join("-")}-0` };
}

/** Pods that can be a leader: not being deleted and not finished (#1022, #1276). */
export const isActivePod = (pod: Pod): boolean =>
  !pod.metadata?.deletionTimestamp && pod.status?.phase !== "Failed" && pod.status?.phase !== "Succeeded";

/**
 * Picks the leader of `follower` among the candidates found under the `podName` index key
 * `leaderName`, checking that exactly one is active and that it has the follower's controller owner.
 */
export function selectLeader(
  follower: Pod,
  leaderName: string,
  candidates: readonly Pod[],
): { leader: Pod } | { error: string } {
  const active = candidates.filter(isActivePod);
  if (active.length !== 1) {
    return {
      error: `expected 1 leader pod (${leaderName}), but got ${active.length}. this is an expected, transient error`,
    };
  }
  const leader = active[0] as Pod;
  const fOwner = controllerOf(follower);
  if (!fOwner) return { error: "follower pod has no owner reference" };
  const lOwner = controllerOf(leader);
  if (!lOwner) return { error: `leader pod "${leader.metadata?.name ?? ""}" has no owner reference` };
  if (fOwner.uid !== lOwner.uid) {
    return { error: `follower pod owner UID (${fOwner.uid}) != leader pod owner UID (${lOwner.uid})` };
  }
  return { leader };
}

export const nodeTopologyError = (key: string): string => `node does not have topology label: ${key}`;

// ---------------------------------------------------------------------------------------------- pod controller

/** Event filter of the pod controller: scheduled, live leader pods using webhook-strategy exclusive placement. */
export function shouldReconcileLeader(pod: Pod): boolean {
  return (
    usesExclusivePlacement(pod) &&
    // Deviation (spec §10.3.2): node-selector-strategy pods are placed by nodeSelector/taints, not by
    // this controller; their followers have no nodeSelector[K] and would be deleted forever.
    !usesNodeSelectorStrategy(pod) &&
    isLeaderPod(pod) &&
    (pod.spec?.nodeName ?? "") !== "" &&
    !pod.metadata?.deletionTimestamp
  );
}

export interface PlacementInput {
  leader: Pod;
  /** Pods under the leader's `job-key` in the `podJobKey` index (any owner; filtered here). */
  jobPods: readonly Pod[];
  /** The leader's Node; `null` when it was not found (NotFound is not an error). */
  leaderNode: Node | null;
  /** RFC 3339 time for the condition's lastTransitionTime. */
  now: string;
}

export interface PodEviction {
  pod: Pod;
  /** The pod with the DisruptionTarget condition set, to write via the status subresource; absent when already set. */
  statusUpdate?: Pod;
}

export type PlacementPlan =
  | { kind: "valid" }
  | { kind: "error"; message: string }
  | { kind: "evict"; evictions: PodEviction[] };

/** The condition the controller puts on followers it deletes (a podFailurePolicy can ignore it). */
export function disruptionCondition(now: string): PodCondition {
  return {
    type: "DisruptionTarget",
    status: "True",
    reason: Reasons.ExclusivePlacementViolation,
    message: Messages.ExclusivePlacementViolation,
    lastTransitionTime: now,
  };
}

/**
 * upstream `updatePodCondition`: replaces a condition of the same type with a different status,
 * leaves one with the same status alone, appends it otherwise. Returns the updated pod, or undefined
 * when nothing changed.
 */
export function withPodCondition(pod: Pod, condition: PodCondition): Pod | undefined {
  const conditions = pod.status?.conditions ?? [];
  const i = conditions.findIndex((c) => c.type === condition.type);
  if (i >= 0) {
    if (conditions[i]?.status === condition.status) return undefined;
    const next = structuredClone(pod);
    const list = next.status?.conditions ?? [];
    list[i] = condition;
    return next;
  }
  if (condition.status !== "True") return undefined;
  const next = structuredClone(pod);
  next.status ??= {};
  next.status.conditions = [...(next.status.conditions ?? []), condition];
  return next;
}

/** The pod controller's decision for one scheduled leader (spec §7.4). */
export function planPlacement(input: PlacementInput): PlacementPlan {
  const { leader } = input;
  const name = leader.metadata?.name ?? "";
  const labels = leader.metadata?.labels;
  if (!labels || !Object.hasOwn(labels, Labels.JobKey)) {
    return { kind: "error", message: `job key label not found on leader pod: ${JSON.stringify(name)}` };
  }
  const owner = controllerOf(leader);
  if (!owner) return { kind: "error", message: `leader pod ${JSON.stringify(name)} has no controller owner` };
  const pods = input.jobPods.filter((p) => controllerOf(p)?.uid === owner.uid);

  const key = annotation(leader, Annotations.ExclusiveTopology) ?? "";
  let leaderTopology = "";
  if (input.leaderNode) {
    const nodeLabels = input.leaderNode.metadata?.labels;
    if (!nodeLabels || !Object.hasOwn(nodeLabels, key)) return { kind: "error", message: nodeTopologyError(key) };
    leaderTopology = nodeLabels[key] ?? "";
  }

  let valid = true;
  for (const p of pods) {
    if (isLeaderPod(p)) continue;
    const sel = p.spec?.nodeSelector;
    const followerTopology = sel && Object.hasOwn(sel, key) ? sel[key] : undefined;
    if (followerTopology === undefined || followerTopology !== leaderTopology) {
      if (leaderTopology === "") return { kind: "error", message: "leader topology is unknown (node not found)" };
      valid = false;
      break;
    }
  }
  if (valid) return { kind: "valid" };

  const condition = disruptionCondition(input.now);
  const evictions: PodEviction[] = [];
  for (const p of pods) {
    if (isLeaderPod(p)) continue;
    const updated = withPodCondition(p, condition);
    evictions.push(updated ? { pod: p, statusUpdate: updated } : { pod: p });
  }
  return { kind: "evict", evictions };
}
