// Construction of the child Jobs of a JobSet (spec §4.1): names, the managed labels and annotations
// with their formulas, exclusive-placement annotations, the node-selector strategy, DNS subdomain,
// suspend, shared-PVC volumes and the controller ownerReference. Pure: same JobSet in, same Jobs out.

import { hash } from "node:crypto";
import { cloneJSON } from "../api/clone.ts";
import { Annotations, Labels, NamespacedJobKey, NoScheduleTaintKey } from "../api/constants.ts";
import { dnsHostnamesEnabled, isSuspended, subdomainOf } from "../api/defaults.ts";
import type { Job, ObjectMeta, PodSpec } from "../api/k8s.ts";
import type { JobSet, ReplicatedJob } from "../api/types.ts";
import { coordinatorEndpoint } from "./coordinator.ts";
import { controllerRef } from "./owner.ts";
import { pvcName } from "./pvc.ts";

export interface ConstructJobOptions {
  /** Feature gate `RestartJob`: adds `jobset.sigs.k8s.io/job-restart-attempt`. */
  restartJobGate: boolean;
}

/** Group name used when `groupName` is absent (the CRD default). */
export const DefaultGroupName = "default";

/** `replicas` of a replicated job; absent means the CRD default 1. */
export function rjobReplicas(rjob: ReplicatedJob): number {
  return rjob.replicas ?? 1;
}

/** `groupName` of a replicated job; absent means the CRD default `default`. */
export function rjobGroupName(rjob: ReplicatedJob): string {
  return rjob.groupName ?? DefaultGroupName;
}

/** Child Job name: `<jobset name>-<rjob name>-<jobIdx>` (decimal, no padding). */
export function jobName(js: JobSet | string, rjobName: string, idx: number): string {
  const name = typeof js === "string" ? js : (js.metadata?.name ?? "");
  return `${name}-${rjobName}-${idx}`;
}

/** Lowercase hex SHA-1 of `<namespace>/<jobName>` (40 characters): the `job-key` label value. */
export function jobKey(namespace: string, name: string): string {
  return hash("sha1", `${namespace}/${name}`, "hex");
}

/** Σ replicas over all replicated jobs. */
export function globalReplicas(js: JobSet): number {
  let sum = 0;
  for (const rjob of js.spec?.replicatedJobs ?? []) sum += rjobReplicas(rjob);
  return sum;
}

/** (Σ replicas of the rjobs before `rjobName` in spec order) + jobIdx. */
export function globalJobIndex(js: JobSet, rjobName: string, jobIdx: number): number {
  let before = 0;
  for (const rjob of js.spec?.replicatedJobs ?? []) {
    if (rjob.name === rjobName) break;
    before += rjobReplicas(rjob);
  }
  return before + jobIdx;
}

/** Σ replicas of the rjobs whose groupName is `groupName`. */
export function groupReplicas(js: JobSet, groupName: string): number {
  let sum = 0;
  for (const rjob of js.spec?.replicatedJobs ?? []) if (rjobGroupName(rjob) === groupName) sum += rjobReplicas(rjob);
  return sum;
}

/** (Σ replicas of the earlier rjobs of the same group, in spec order) + jobIdx. */
export function jobGroupIndex(js: JobSet, rjob: ReplicatedJob, jobIdx: number): number {
  const group = rjobGroupName(rjob);
  let before = 0;
  for (const other of js.spec?.replicatedJobs ?? []) {
    if (other.name === rjob.name) break;
    if (rjobGroupName(other) === group) before += rjobReplicas(other);
  }
  return before + jobIdx;
}

/** `status.replicatedJobsStatus[rjob].jobRestarts[jobIdx]`, 0 when absent. */
export function jobRestartAttempt(js: JobSet, rjobName: string, jobIdx: number): number {
  const entry = js.status?.replicatedJobsStatus?.find((s) => s.name === rjobName);
  return entry?.jobRestarts?.[jobIdx] ?? 0;
}

/**
 * The managed keys of one child Job, in upstream's order; each is written both as a label and as an
 * annotation with this value, on the Job and on its pod template.
 */
export function managedKeys(
  js: JobSet,
  rjob: ReplicatedJob,
  jobIdx: number,
  opts: ConstructJobOptions,
): Record<string, string> {
  const namespace = js.metadata?.namespace ?? "";
  const keys: Record<string, string> = {
    [Labels.JobSetName]: js.metadata?.name ?? "",
    [Labels.JobSetUID]: js.metadata?.uid ?? "",
    [Labels.ReplicatedJobName]: rjob.name,
    [Labels.RestartAttempt]: String(js.status?.restarts ?? 0),
  };
  if (opts.restartJobGate) keys[Labels.JobRestartAttempt] = String(jobRestartAttempt(js, rjob.name, jobIdx));
  keys[Labels.ReplicatedJobReplicas] = String(rjobReplicas(rjob));
  keys[Labels.GlobalReplicas] = String(globalReplicas(js));
  keys[Labels.JobIndex] = String(jobIdx);
  keys[Labels.JobKey] = jobKey(namespace, jobName(js, rjob.name, jobIdx));
  keys[Labels.JobGlobalIndex] = String(globalJobIndex(js, rjob.name, jobIdx));
  keys[Labels.GroupName] = rjobGroupName(rjob);
  keys[Labels.GroupReplicas] = String(groupReplicas(js, rjobGroupName(rjob)));
  keys[Labels.JobGroupIndex] = String(jobGroupIndex(js, rjob, jobIdx));
  const coordinator = coordinatorEndpoint(js);
  if (coordinator !== undefined) keys[Labels.Coordinator] = coordinator;
  return keys;
}

/**
 * Exclusive-placement annotations for a Job of `rjob`: the JobSet's, then the rjob Job template's
 * (which wins). `node-selector` is only taken from the same level that has `exclusive-topology`.
 */
export function exclusivePlacementAnnotations(js: JobSet, rjob: ReplicatedJob): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of [js.metadata?.annotations, rjob.template.metadata?.annotations]) {
    const topology = source?.[Annotations.ExclusiveTopology];
    if (topology === undefined) continue;
    out[Annotations.ExclusiveTopology] = topology;
    const strategy = source?.[Annotations.NodeSelectorStrategy];
    if (strategy !== undefined) out[Annotations.NodeSelectorStrategy] = strategy;
  }
  return out;
}

/** Writes the managed keys (labels + annotations) and exclusive-placement annotations onto `meta`. */
function labelAndAnnotate(meta: ObjectMeta, managed: Record<string, string>, exclusive: Record<string, string>): void {
  meta.labels = { ...meta.labels, ...managed };
  meta.annotations = { ...meta.annotations, ...managed, ...exclusive };
}

/** Whether a container or init container of the pod spec mounts a volume named `name`. */
function mountsVolume(spec: PodSpec, name: string): boolean {
  for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    if (container.volumeMounts?.some((m) => m.name === name)) return true;
  }
  return false;
}

/** The Job for index `jobIdx` of `rjob` (spec §4.1), ready to be created. */
export function constructJob(js: JobSet, rjob: ReplicatedJob, jobIdx: number, opts: ConstructJobOptions): Job {
  const name = jobName(js, rjob.name, jobIdx);
  const namespace = js.metadata?.namespace ?? "";
  const template = cloneJSON(rjob.template);
  const spec = template.spec ?? { template: {} };
  const metadata: ObjectMeta = { name, namespace };
  if (template.metadata?.labels) metadata.labels = template.metadata.labels;
  if (template.metadata?.annotations) metadata.annotations = template.metadata.annotations;

  const managed = managedKeys(js, rjob, jobIdx, opts);
  const exclusive = exclusivePlacementAnnotations(js, rjob);
  labelAndAnnotate(metadata, managed, exclusive);
  spec.template.metadata ??= {};
  labelAndAnnotate(spec.template.metadata, managed, exclusive);
  metadata.ownerReferences = [controllerRef(js)];

  const podSpec: PodSpec = spec.template.spec ?? { containers: [] };
  spec.template.spec = podSpec;
  if (dnsHostnamesEnabled(js)) podSpec.subdomain = subdomainOf(js);

  // Node-selector strategy: decided on the Job's final annotations (user template annotations included).
  if (
    metadata.annotations?.[Annotations.ExclusiveTopology] !== undefined &&
    metadata.annotations?.[Annotations.NodeSelectorStrategy] !== undefined
  ) {
    podSpec.nodeSelector = { ...podSpec.nodeSelector, [NamespacedJobKey]: `${namespace}_${name}` };
    podSpec.tolerations = [
      ...(podSpec.tolerations ?? []),
      { key: NoScheduleTaintKey, operator: "Exists", effect: "NoSchedule" },
    ];
  }

  spec.suspend = isSuspended(js);

  for (const policy of js.spec?.volumeClaimPolicies ?? []) {
    for (const pvcTemplate of policy.templates ?? []) {
      const volume = pvcTemplate.metadata?.name ?? "";
      if (!mountsVolume(podSpec, volume)) continue;
      podSpec.volumes = [
        ...(podSpec.volumes ?? []),
        { name: volume, persistentVolumeClaim: { claimName: pvcName(js, volume) } },
      ];
    }
  }

  return { apiVersion: "batch/v1", kind: "Job", metadata, spec };
}

/** Every desired Job of the JobSet, in spec order (rjob order, then index), without any filtering. */
export function constructJobs(js: JobSet, opts: ConstructJobOptions): Job[] {
  const jobs: Job[] = [];
  for (const rjob of js.spec?.replicatedJobs ?? []) {
    for (let idx = 0; idx < rjobReplicas(rjob); idx++) jobs.push(constructJob(js, rjob, idx, opts));
  }
  return jobs;
}
