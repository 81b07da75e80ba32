// The JobSet-pods cache: one informer over the pods labelled `jobset.sigs.k8s.io/jobset-name` (the label
// selector keeps it small), shared by the JobSet controller (in-place restart), the pod controller
// (placement repair) and the pod webhooks. Built here only, with every index its readers use, so all
// processes (`jobset controller`, `jobset up`, the test stacks) watch the same thing the same way.
import { Labels } from "../api/constants.ts";
import type { KubeObject, Pod, PodSpec } from "../api/k8s.ts";
import { PodJobKeyIndex, PodNameIndex, podJobKeyIndexKeys, podNameIndexKeys } from "../controller/placement.ts";
import { Resources, resourcePath } from "../runtime/client.ts";
import { Informer } from "../runtime/informer.ts";
import { namespacedLabelIndex } from "../runtime/store.ts";
import type { ControllerDeps } from "./deps.ts";

/** Index of pods by `<namespace>/<jobset-name label>` (spec §5.1 `podsIndexByJobSet`). */
export const PodsByJobSetIndex = "podsIndexByJobSet";

/** The pod cache the pod controller and the pod webhooks read (an Informer<Pod> fits). */
export interface PodCache {
  get(namespace: string, name: string): Pod | undefined;
  addIndex(name: string, fn: (p: Pod) => string[]): void;
  byIndex(name: string, value: string): Pod[];
  addEventHandler(h: { onAdd?(p: Pod): void; onUpdate?(old: Pod, p: Pod): void; onDelete?(p: Pod): void }): () => void;
}

/** Namespaced index value: the cache is cluster-wide, lookups are per namespace (client.InNamespace). */
export const namespacedIndexValue = (namespace: string, value: string): string => `${namespace}/${value}`;

/** Adds the placement indexes `podName` and `podJobKey` (namespace-qualified) to a pod cache. */
export function addPlacementIndexes(cache: PodCache): void {
  const ns = (p: Pod) => p.metadata?.namespace ?? "";
  cache.addIndex(PodNameIndex, (p) => podNameIndexKeys(p).map((k) => namespacedIndexValue(ns(p), k)));
  cache.addIndex(PodJobKeyIndex, (p) => podJobKeyIndexKeys(p).map((k) => namespacedIndexValue(ns(p), k)));
}

export interface JobSetPodsOptions {
  /** Watch only this namespace; default all namespaces. */
  namespace?: string;
  /** Informer resync period (default the informer's, 10 min). */
  resyncPeriodMs?: number;
}

/** The JobSet-pods informer, with the JobSet index and the placement indexes. Register it with the manager. */
export function jobSetPodsInformer(deps: ControllerDeps, o: JobSetPodsOptions = {}): Informer<Pod> {
  const pods = new Informer<Pod>({
    client: deps.client,
    path: resourcePath({ ...Resources.pods, ...(o.namespace ? { namespace: o.namespace } : {}) }),
    name: "pods",
    labelSelector: Labels.JobSetName,
    transform: jobSetPodCacheTransform,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(o.resyncPeriodMs !== undefined ? { resyncPeriodMs: o.resyncPeriodMs } : {}),
    ...(deps.metrics ? { metrics: deps.metrics.informerSink("pods") } : {}),
  });
  pods.addIndex(PodsByJobSetIndex, namespacedLabelIndex<Pod>(Labels.JobSetName));
  addPlacementIndexes(pods);
  return pods;
}

// The JobSet-pods cache keeps only what its readers (pod webhooks, exclusive-placement pod controller,
// in-place restart) use: metadata, the whole status (the placement controller PUTs pods/status from the
// cached pod; the server takes the spec from its own copy for a status update, but would take the status
// from ours), and of the spec only the fields below. Containers, volumes and the rest of the spec are
// dropped. Keep this in step with the readers; their tests run over transformed caches.
/** The pod spec fields that readers of the JobSet-pods cache use. */
const KeptPodSpecFields = [
  "nodeName",
  "nodeSelector",
  "affinity",
  "tolerations",
  "priority",
  "schedulingGates",
] as const;

/**
 * The transform of the JobSet-pods cache: pod spec trimmed to the fields its readers use (see above).
 * `spec.containers` becomes `[]` (the type requires it): no reader of this cache may read containers.
 */
export function jobSetPodCacheTransform(obj: KubeObject): KubeObject {
  const pod = obj as Pod;
  if (!pod.spec) return pod;
  const spec: PodSpec = { containers: [] };
  for (const k of KeptPodSpecFields) {
    const v = pod.spec[k];
    if (v !== undefined) (spec as Record<string, unknown>)[k] = v;
  }
  return { ...pod, spec };
}
