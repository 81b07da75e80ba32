// The pod webhooks of exclusive placement (spec §7.2, §7.3): the mutating webhook gives leader pods
// affinity/anti-affinity to their topology domain and pins followers to the leader's domain; the
// validating webhook refuses followers until the leader is scheduled. Pure logic over two lookups
// (the pod cache's `podName` index and Node reads), so it is table-tested without a server.
import { cloneJSON } from "../api/clone.ts";
import { Annotations, Labels } from "../api/constants.ts";
import type { Node, Pod } from "../api/k8s.ts";
import { goEncodePod } from "../api/roundtrip.ts";
import {
  annotation,
  hasAnnotation,
  isLeaderPod,
  leaderPodName,
  nodeTopologyError,
  selectLeader,
  usesExclusivePlacement,
  usesNodeSelectorStrategy,
} from "../controller/placement.ts";
import {
  type AdmissionRequest,
  allowed,
  defaulterResponse,
  denied,
  errored,
  type Outcome,
  otherOperation,
} from "./admission.ts";
import { decodePod } from "./decode.ts";

export interface PodWebhookLookups {
  /** Pods of `namespace` under `podName` index key `nameWithoutSuffix` (exclusive-placement pods only). */
  podsByName(namespace: string, nameWithoutSuffix: string): readonly Pod[] | Promise<readonly Pod[]>;
  /** The Node called `name`; rejects (with the error text to report) when it cannot be read or does not exist. */
  getNode(name: string): Promise<Node>;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Finds the active leader pod of a follower (spec §7.2 "Leader lookup"). */
export async function findLeader(
  follower: Pod,
  lookups: PodWebhookLookups,
): Promise<{ leader: Pod } | { error: string }> {
  const name = leaderPodName(follower);
  if ("error" in name) return name;
  let candidates: readonly Pod[];
  try {
    candidates = await lookups.podsByName(follower.metadata?.namespace ?? "", name.name);
  } catch (e) {
    return { error: errText(e) };
  }
  return selectLeader(follower, name.name, candidates);
}

const isJobSetPod = (pod: Pod): boolean => hasAnnotation(pod, Labels.JobSetName);

export type MutationResult = { pod: Pod } | { deny: string };

type PodAffinityTerm = NonNullable<
  NonNullable<
    NonNullable<NonNullable<Pod["spec"]>["affinity"]>["podAffinity"]
  >["requiredDuringSchedulingIgnoredDuringExecution"]
>[number];

/**
 * The pod mutating webhook: returns the defaulted pod (a copy; the input is untouched) or a denial
 * (plain error → 403 Forbidden).
 */
export async function mutatePod(input: Pod, lookups: PodWebhookLookups): Promise<MutationResult> {
  if (!isJobSetPod(input)) return { pod: input };
  if (usesNodeSelectorStrategy(input)) return { pod: input };
  const pod = cloneJSON(input);
  const priority = pod.spec?.priority;
  if (priority !== undefined && priority !== null) {
    pod.metadata ??= {};
    pod.metadata.labels ??= {};
    pod.metadata.labels[Labels.Priority] = String(Math.trunc(priority));
  }
  if (!usesExclusivePlacement(pod)) return { pod };
  const key = annotation(pod, Annotations.ExclusiveTopology) ?? "";
  if (isLeaderPod(pod)) {
    setExclusiveAffinities(pod, key);
    return { pod };
  }
  const found = await findLeader(pod, lookups);
  // Lookup failures and unscheduled leaders are left to the validating webhook, which refuses the pod.
  if ("error" in found) return { pod };
  const nodeName = found.leader.spec?.nodeName ?? "";
  if (nodeName === "") return { pod };
  let node: Node;
  try {
    node = await lookups.getNode(nodeName);
  } catch (e) {
    return { deny: errText(e) };
  }
  const labels = node.metadata?.labels;
  if (!labels || !Object.hasOwn(labels, key)) return { deny: nodeTopologyError(key) };
  pod.spec ??= { containers: [] };
  pod.spec.nodeSelector ??= {};
  pod.spec.nodeSelector[key] = labels[key] ?? "";
  return { pod };
}

/** Appends the leader's pod affinity (own Job) and anti-affinity (other Jobs of the same priority). */
export function setExclusiveAffinities(pod: Pod, topologyKey: string): void {
  const labels = pod.metadata?.labels ?? {};
  const jobKey = labels[Labels.JobKey] ?? "";
  const priority = labels[Labels.Priority] ?? "";
  pod.spec ??= { containers: [] };
  pod.spec.affinity ??= {};
  const affinity = pod.spec.affinity;
  affinity.podAffinity ??= {};
  affinity.podAntiAffinity ??= {};
  const same: PodAffinityTerm = {
    labelSelector: { matchExpressions: [{ key: Labels.JobKey, operator: "In", values: [jobKey] }] },
    topologyKey,
    namespaceSelector: {},
  };
  const others: PodAffinityTerm = {
    labelSelector: {
      matchExpressions: [
        { key: Labels.JobKey, operator: "Exists" },
        { key: Labels.JobKey, operator: "NotIn", values: [jobKey] },
        { key: Labels.Priority, operator: "In", values: [priority] },
      ],
    },
    topologyKey,
    namespaceSelector: {},
  };
  affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution = [
    ...(affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    same,
  ];
  affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution = [
    ...(affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    others,
  ];
}

export const PodMessages = {
  NodeSelectorNotSet: "follower pod node selector not set",
  NodeSelectorMissing: (key: string) =>
    `follower pod node selector for topology domain not found. missing selector: ${key}`,
  LeaderNotScheduled: "leader pod not yet scheduled, not creating follower pod. this is an expected, transient error",
} as const;

/** The pod validating webhook: undefined when allowed, else the denial text (plain error → 403). */
export async function validatePod(pod: Pod, lookups: PodWebhookLookups): Promise<string | undefined> {
  if (!isJobSetPod(pod)) return undefined;
  if (usesNodeSelectorStrategy(pod)) return undefined;
  if (!usesExclusivePlacement(pod)) return undefined;
  if (isLeaderPod(pod)) return undefined;
  const key = annotation(pod, Annotations.ExclusiveTopology) ?? "";
  const sel = pod.spec?.nodeSelector;
  if (sel === undefined || sel === null) return PodMessages.NodeSelectorNotSet;
  if (!Object.hasOwn(sel, key)) return PodMessages.NodeSelectorMissing(key);
  const found = await findLeader(pod, lookups);
  if ("error" in found) return found.error;
  if ((found.leader.spec?.nodeName ?? "") === "") return PodMessages.LeaderNotScheduled;
  return undefined;
}

// ---------------------------------------------------------------------------------------------- handlers

function decodeRequestPod(req: AdmissionRequest): { pod: Pod } | { outcome: Outcome } {
  const d = decodePod<Pod>(req.object);
  if (!d.ok) return { outcome: errored(400, d.message) };
  const pod = d.value;
  if (req.namespace && !pod.metadata?.namespace) {
    pod.metadata ??= {};
    pod.metadata.namespace = req.namespace;
  }
  return { pod };
}

/**
 * `/mutate--v1-pod`. Registered for CREATE; as with controller-runtime's defaulter, DELETE is allowed
 * untouched and any other operation is defaulted.
 */
export async function mutatePodRequest(req: AdmissionRequest, lookups: PodWebhookLookups): Promise<Outcome> {
  if (req.operation === "DELETE") return allowed();
  const d = decodeRequestPod(req);
  if ("outcome" in d) return d.outcome;
  // Defaulted as upstream defaults its typed Pod: the Go encoding of the decoded pod, whose round-trip
  // additions (`resources: {}`, `status: {}`) are part of the patch whenever defaulting changed anything.
  const encoded = goEncodePod(d.pod);
  const r = await mutatePod(encoded, lookups);
  if ("deny" in r) return denied(r.deny);
  const out = r.pod;
  if (req.namespace && !(req.object as { metadata?: { namespace?: string } }).metadata?.namespace) {
    // The namespace was only filled in for the look-ups; do not patch it.
    for (const p of [encoded, out]) if (p.metadata) delete p.metadata.namespace;
  }
  return defaulterResponse(req.object, encoded, out);
}

/**
 * `/validate--v1-pod`: CREATE is checked; an UPDATE is allowed once both pods decode; other operations as
 * controller-runtime's validators answer them (otherOperation).
 */
export async function validatePodRequest(req: AdmissionRequest, lookups: PodWebhookLookups): Promise<Outcome> {
  if (req.operation === "UPDATE") {
    for (const raw of [req.object, req.oldObject]) {
      const d = decodePod(raw);
      if (!d.ok) return errored(400, d.message);
    }
    return allowed();
  }
  if (req.operation !== "CREATE") return otherOperation(req, decodePod);
  const d = decodeRequestPod(req);
  if ("outcome" in d) return d.outcome;
  const msg = await validatePod(d.pod, lookups);
  return msg === undefined ? allowed() : denied(msg);
}
