// Cache transforms (controller-runtime's `cache.Options.DefaultTransform` / `ByObject.Transform`): an
// informer keeps only what its readers use, so that memory scales with what the controller needs and
// not with what users put in their objects. Applied by the informer to every listed and watched object
// before it is cached and handed to handlers (informer.ts).
//
// What the readers of each cache use (keep this in step with them; the tests of the pod webhook, the
// placement controller and in-place restart run over transformed caches):
// - every cache: never `metadata.managedFields` (dropped by default; a PUT without it keeps the
//   server's);
// - the JobSet-pods cache (pod webhooks, exclusive-placement pod controller, in-place restart):
//   metadata, the whole status (the placement controller PUTs pods/status from the cached pod; the
//   server takes the spec from its own copy for a status update, but would take the status from ours),
//   and of the spec only nodeName, nodeSelector, affinity, tolerations, priority, schedulingGates.
//   Containers, volumes and the rest of the spec are dropped.
// Jobs, JobSets and Services keep their spec and status: the executor sends cached Jobs back whole
// (suspend/resume updates) and reads JobSet specs everywhere.
import type { KubeObject, Pod, PodSpec } from "../api/k8s.ts";

/** The object without `metadata.managedFields` (the same object when it has none). */
export function dropManagedFields<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata;
  if (meta?.managedFields === undefined) return obj;
  const { managedFields: _, ...rest } = meta;
  return { ...obj, metadata: rest };
}

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
