// The JobSet controller's Job cache keeps what its readers use (controller-runtime's cache transforms):
// the metadata (labels, annotations, owner references, resourceVersion…), the whole status, and of the
// spec only `suspend`, `parallelism`, `completions` (plan and status) and the pod-template fields a
// resume merges (labels, annotations, nodeSelector, tolerations, schedulingGates — suspend.ts). The
// containers, volumes, affinity and the rest of the pod template, most of a Job's size, are dropped:
// the controller never sends a cached Job back whole (Job writes are merge patches, executor.ts step
// 7). Keep this in step with the readers; their tests run over transformed caches.
import type { Job, KubeObject, PodSpec, PodTemplateSpec } from "../../api/k8s.ts";
import { ResumedPodSpecFields } from "../../controller/suspend.ts";

const KeptJobSpecFields = ["suspend", "parallelism", "completions"] as const;

/**
 * The transform of the Job cache. `spec.template.spec.containers` becomes `[]` (the type requires it):
 * no reader of this cache may read containers.
 */
export function jobCacheTransform(obj: KubeObject): KubeObject {
  const job = obj as Job;
  if (!job.spec) return job;
  const from = job.spec;
  const template: PodTemplateSpec = {};
  const meta = from.template?.metadata;
  if (meta?.labels !== undefined || meta?.annotations !== undefined) {
    template.metadata = {};
    if (meta.labels !== undefined) template.metadata.labels = meta.labels;
    if (meta.annotations !== undefined) template.metadata.annotations = meta.annotations;
  }
  const podSpec: PodSpec = { containers: [] };
  for (const k of ResumedPodSpecFields) {
    const v = from.template?.spec?.[k];
    if (v !== undefined) (podSpec as Record<string, unknown>)[k] = v;
  }
  template.spec = podSpec;
  const spec: NonNullable<Job["spec"]> = { template };
  for (const k of KeptJobSpecFields) {
    const v = from[k];
    if (v !== undefined) (spec as Record<string, unknown>)[k] = v;
  }
  return { ...job, spec };
}
