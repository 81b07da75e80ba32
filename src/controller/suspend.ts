// Suspend / resume of child Jobs (spec §6.7, §5.2 step m). Suspending flips `spec.suspend` of every
// active Job to true. Resuming a Job (1) clears `status.startTime` through the Job status subresource
// when set (the pod template is immutable while it is set), (2) merges the replicated job's *current*
// pod template into the Job's — labels, annotations and nodeSelector (map union, template wins),
// tolerations and schedulingGates (set union) — never removing anything, and (3) sets
// `spec.suspend: false`. Nothing else of the template (containers, resources, Job-level metadata)
// reaches an existing Job. The rjob-level loop (dependsOn / InOrder) lives in plan.ts.
import type { Job, PodTemplateSpec } from "../api/k8s.ts";

/** The pod-spec fields a resume merges into a Job's template (with its labels and annotations). */
export const ResumedPodSpecFields = ["nodeSelector", "tolerations", "schedulingGates"] as const;

/**
 * One Job write of step m: `job` is the Job as it should be (upstream sends it with a full Update).
 * The executor sends what differs as a merge patch guarded by the Job's resourceVersion
 * ({@link jobUpdatePatch}: the same result and the same Conflict as an Update of that version, without
 * needing the parts of the Job the cache does not keep). For `clearStartTime` it first patches the
 * `status` subresource (`startTime: null`), then the Job with the resourceVersion that returned.
 */
export interface JobUpdate {
  kind: "suspend" | "resume";
  job: Job;
  clearStartTime: boolean;
}

/** The Update that suspends an active Job, or undefined when `spec.suspend` is already true. */
export function suspendJob(job: Job): JobUpdate | undefined {
  if (job.spec?.suspend === true) return undefined;
  const next = structuredClone(job);
  next.spec = { ...(next.spec ?? { template: {} }), suspend: true };
  return { kind: "suspend", job: next, clearStartTime: false };
}

function mergeMap(
  existing: Record<string, string> | undefined,
  template: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (existing === undefined && template === undefined) return undefined;
  return { ...existing, ...template };
}

/** Deterministic value-equality comparison for union of JSON items. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Set union: existing items first (in their order), then template items not already present.
 * Value equality, deterministic order (§10.3-8: upstream uses pointer identity and random order).
 */
export function unionItems<T>(existing: readonly T[] | undefined, template: readonly T[] | undefined): T[] | undefined {
  if (existing === undefined && template === undefined) return undefined;
  const out = [...(existing ?? [])];
  const seen = new Set(out.map(canonical));
  for (const item of template ?? []) {
    const key = canonical(item);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
  }
  return out;
}

/** Merges the Kueue-mutable fields of `template` into the Job's pod template (in place). */
export function mergePodTemplate(jobTemplate: PodTemplateSpec, template: PodTemplateSpec | undefined): void {
  if (template === undefined) return;
  jobTemplate.metadata ??= {};
  const meta = jobTemplate.metadata;
  const labels = mergeMap(meta.labels, template.metadata?.labels);
  if (labels !== undefined) meta.labels = labels;
  const annotations = mergeMap(meta.annotations, template.metadata?.annotations);
  if (annotations !== undefined) meta.annotations = annotations;
  jobTemplate.spec ??= { containers: [] };
  const spec = jobTemplate.spec;
  const nodeSelector = mergeMap(spec.nodeSelector, template.spec?.nodeSelector);
  if (nodeSelector !== undefined) spec.nodeSelector = nodeSelector;
  const tolerations = unionItems(spec.tolerations, template.spec?.tolerations);
  if (tolerations !== undefined) spec.tolerations = tolerations;
  const gates = unionItems(spec.schedulingGates, template.spec?.schedulingGates);
  if (gates !== undefined) spec.schedulingGates = gates;
}

/** The writes that resume a suspended Job with the rjob's current pod template. */
export function resumeJob(job: Job, template: PodTemplateSpec | undefined): JobUpdate {
  const next = structuredClone(job);
  const clearStartTime = next.status?.startTime !== undefined && next.status.startTime !== null;
  if (clearStartTime && next.status) delete next.status.startTime;
  next.spec ??= { template: {} };
  const spec = next.spec;
  mergePodTemplate(spec.template, template === undefined ? undefined : structuredClone(template));
  spec.suspend = false;
  return { kind: "resume", job: next, clearStartTime };
}

/** A JSON merge patch of a Job, guarded by a resourceVersion (a Conflict when the Job moved on). */
export interface JobMergePatch {
  metadata?: { resourceVersion: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const guard = (resourceVersion: string | undefined): Pick<JobMergePatch, "metadata"> =>
  resourceVersion ? { metadata: { resourceVersion } } : {};

/**
 * The merge patch that makes the Job what `u.job` says: `spec.suspend`, and for a resume the merged
 * pod-template fields (maps whole — they are unions of what the Job has, so merging them changes only
 * what the merge changed; lists whole, as a merge patch replaces lists). Nothing else is sent. Guarded by
 * `resourceVersion` (the cached Job's, or the one a status patch returned) when there is one.
 */
export function jobUpdatePatch(u: JobUpdate, resourceVersion: string | undefined): JobMergePatch {
  const spec: Record<string, unknown> = { suspend: u.kind === "suspend" };
  if (u.kind === "resume") {
    const t = u.job.spec?.template;
    const metadata: Record<string, unknown> = {};
    if (t?.metadata?.labels !== undefined) metadata.labels = t.metadata.labels;
    if (t?.metadata?.annotations !== undefined) metadata.annotations = t.metadata.annotations;
    const podSpec: Record<string, unknown> = {};
    for (const k of ResumedPodSpecFields) if (t?.spec?.[k] !== undefined) podSpec[k] = t.spec[k];
    const template: Record<string, unknown> = {};
    if (Object.keys(metadata).length > 0) template.metadata = metadata;
    if (Object.keys(podSpec).length > 0) template.spec = podSpec;
    if (Object.keys(template).length > 0) spec.template = template;
  }
  return { ...guard(resourceVersion), spec };
}

/** The status patch of a resume with `clearStartTime` (sent first, on the status subresource). */
export function clearStartTimePatch(resourceVersion: string | undefined): JobMergePatch {
  return { ...guard(resourceVersion), status: { startTime: null } };
}
