// Fluent builders for JobSets, replicated jobs and child Jobs, in the spirit of upstream's test
// wrappers. Every `obj()` returns a fresh deep copy, so a builder can be reused as a base.
//
//   jobSet("js", "ns").uid("u-1").replicatedJob(rjob("workers").replicas(2).parallelism(2).completions(2))
//     .suspend(true).obj()
//   childJob(js, "workers", 0).active(2).ready(2).obj()      // as the controller creates it, plus status
//   job("js-workers-0", "ns").jobSetName("js").completed().obj()
//
// JobSet/rjob builders write `replicas` and `groupName` explicitly (the CRD structural defaults the API
// server always returns) but no webhook defaults: use `defaultJobSet` for those.

import { ApiVersion, Kind, Labels } from "../src/api/constants.ts";
import type {
  Container,
  Job,
  JobCondition,
  JobTemplateSpec,
  PersistentVolumeClaim,
  Toleration,
} from "../src/api/k8s.ts";
import type {
  Coordinator,
  DependsOn,
  FailurePolicy,
  JobSet,
  JobSetCondition,
  Network,
  ReplicatedJob,
  ReplicatedJobStatus,
  SuccessPolicy,
  VolumeClaimPolicy,
} from "../src/api/types.ts";
import { type ConstructJobOptions, constructJob } from "../src/controller/jobs.ts";
import { controllerRef } from "../src/controller/owner.ts";

/** A fixed instant used as the default timestamp of conditions built here. */
export const T0 = "2024-01-01T00:00:00Z";

/** The container every pod template gets unless `.containers(...)` replaces it. */
export const testContainer = (): Container => ({ name: "main", image: "busybox", command: ["sleep", "10"] });

type StrMap = Record<string, string>;

// ---------------------------------------------------------------------------------------------- rjob

export class ReplicatedJobBuilder {
  #r: ReplicatedJob;
  constructor(name: string) {
    this.#r = {
      name,
      groupName: "default",
      replicas: 1,
      template: { spec: { template: { spec: { containers: [testContainer()] } } } },
    };
  }
  #spec() {
    const spec = this.#r.template.spec ?? { template: {} };
    this.#r.template.spec = spec;
    return spec;
  }
  #pod() {
    const tmpl = this.#spec().template;
    tmpl.spec ??= { containers: [] };
    return tmpl.spec;
  }
  replicas(n: number): this {
    this.#r.replicas = n;
    return this;
  }
  groupName(g: string): this {
    this.#r.groupName = g;
    return this;
  }
  dependsOn(name: string, status: DependsOn["status"]): this {
    this.#r.dependsOn = [...(this.#r.dependsOn ?? []), { name, status }];
    return this;
  }
  parallelism(n: number): this {
    this.#spec().parallelism = n;
    return this;
  }
  completions(n: number): this {
    this.#spec().completions = n;
    return this;
  }
  completionMode(m: "Indexed" | "NonIndexed"): this {
    this.#spec().completionMode = m;
    return this;
  }
  backoffLimit(n: number): this {
    this.#spec().backoffLimit = n;
    return this;
  }
  /** Labels of the Job template metadata (`template.metadata.labels`). */
  jobLabels(labels: StrMap): this {
    this.#r.template.metadata = {
      ...this.#r.template.metadata,
      labels: { ...this.#r.template.metadata?.labels, ...labels },
    };
    return this;
  }
  /** Annotations of the Job template metadata (`template.metadata.annotations`). */
  jobAnnotations(annotations: StrMap): this {
    const meta = this.#r.template.metadata ?? {};
    this.#r.template.metadata = { ...meta, annotations: { ...meta.annotations, ...annotations } };
    return this;
  }
  /** Labels of the pod template (`template.spec.template.metadata.labels`). */
  podLabels(labels: StrMap): this {
    const tmpl = this.#spec().template;
    tmpl.metadata = { ...tmpl.metadata, labels: { ...tmpl.metadata?.labels, ...labels } };
    return this;
  }
  /** Annotations of the pod template. */
  podAnnotations(annotations: StrMap): this {
    const tmpl = this.#spec().template;
    tmpl.metadata = { ...tmpl.metadata, annotations: { ...tmpl.metadata?.annotations, ...annotations } };
    return this;
  }
  containers(...containers: Container[]): this {
    this.#pod().containers = containers;
    return this;
  }
  initContainers(...containers: Container[]): this {
    this.#pod().initContainers = containers;
    return this;
  }
  /** Adds a volumeMount `{name, mountPath}` to the first container. */
  volumeMount(name: string, mountPath = `/mnt/${name}`): this {
    const c = this.#pod().containers[0];
    if (c) c.volumeMounts = [...(c.volumeMounts ?? []), { name, mountPath }];
    return this;
  }
  restartPolicy(p: "OnFailure" | "Never" | "Always"): this {
    this.#pod().restartPolicy = p;
    return this;
  }
  subdomain(s: string): this {
    this.#pod().subdomain = s;
    return this;
  }
  nodeSelector(sel: StrMap): this {
    const pod = this.#pod();
    pod.nodeSelector = { ...pod.nodeSelector, ...sel };
    return this;
  }
  tolerations(...t: Toleration[]): this {
    const pod = this.#pod();
    pod.tolerations = [...(pod.tolerations ?? []), ...t];
    return this;
  }
  /** Replaces the whole Job template. */
  template(t: JobTemplateSpec): this {
    this.#r.template = structuredClone(t);
    return this;
  }
  obj(): ReplicatedJob {
    return structuredClone(this.#r);
  }
}

export const rjob = (name: string): ReplicatedJobBuilder => new ReplicatedJobBuilder(name);

// ---------------------------------------------------------------------------------------------- JobSet

export class JobSetBuilder {
  #js: JobSet;
  constructor(name: string, namespace: string) {
    this.#js = { apiVersion: ApiVersion, kind: Kind, metadata: { name, namespace }, spec: { replicatedJobs: [] } };
  }
  #meta() {
    this.#js.metadata ??= {};
    return this.#js.metadata;
  }
  #spec() {
    this.#js.spec ??= {};
    return this.#js.spec;
  }
  #status() {
    this.#js.status ??= { restarts: 0 };
    return this.#js.status;
  }
  uid(uid: string): this {
    this.#meta().uid = uid;
    return this;
  }
  generateName(prefix: string): this {
    const meta = this.#meta();
    delete meta.name;
    meta.generateName = prefix;
    return this;
  }
  labels(labels: StrMap): this {
    const meta = this.#meta();
    meta.labels = { ...meta.labels, ...labels };
    return this;
  }
  annotations(annotations: StrMap): this {
    const meta = this.#meta();
    meta.annotations = { ...meta.annotations, ...annotations };
    return this;
  }
  /** Sets `metadata.deletionTimestamp` (default T0). */
  deletionTimestamp(at = T0): this {
    this.#meta().deletionTimestamp = at;
    return this;
  }
  replicatedJob(r: ReplicatedJobBuilder | ReplicatedJob): this {
    const spec = this.#spec();
    spec.replicatedJobs = [
      ...(spec.replicatedJobs ?? []),
      r instanceof ReplicatedJobBuilder ? r.obj() : structuredClone(r),
    ];
    return this;
  }
  suspend(s: boolean): this {
    this.#spec().suspend = s;
    return this;
  }
  network(n: Network): this {
    this.#spec().network = structuredClone(n);
    return this;
  }
  /** `network: {enableDNSHostnames, publishNotReadyAddresses: true}` (plus subdomain if given). */
  enableDNSHostnames(enable: boolean, subdomain?: string): this {
    const n: Network = { enableDNSHostnames: enable, publishNotReadyAddresses: true };
    if (subdomain !== undefined) n.subdomain = subdomain;
    return this.network(n);
  }
  successPolicy(p: SuccessPolicy): this {
    this.#spec().successPolicy = structuredClone(p);
    return this;
  }
  failurePolicy(p: FailurePolicy): this {
    this.#spec().failurePolicy = structuredClone(p);
    return this;
  }
  startupPolicy(order: "AnyOrder" | "InOrder"): this {
    this.#spec().startupPolicy = { startupPolicyOrder: order };
    return this;
  }
  coordinator(c: Coordinator): this {
    this.#spec().coordinator = { ...c };
    return this;
  }
  managedBy(m: string): this {
    this.#spec().managedBy = m;
    return this;
  }
  ttlSecondsAfterFinished(s: number): this {
    this.#spec().ttlSecondsAfterFinished = s;
    return this;
  }
  volumeClaimPolicy(templates: PersistentVolumeClaim[], whenDeleted?: "Delete" | "Retain"): this {
    const policy: VolumeClaimPolicy = { templates: structuredClone(templates) };
    if (whenDeleted !== undefined) policy.retentionPolicy = { whenDeleted };
    const spec = this.#spec();
    spec.volumeClaimPolicies = [...(spec.volumeClaimPolicies ?? []), policy];
    return this;
  }
  restarts(n: number): this {
    this.#status().restarts = n;
    return this;
  }
  restartsCountTowardsMax(n: number): this {
    this.#status().restartsCountTowardsMax = n;
    return this;
  }
  terminalState(s: "Completed" | "Failed"): this {
    this.#status().terminalState = s;
    return this;
  }
  /** Appends a condition (lastTransitionTime default T0). */
  condition(c: Omit<JobSetCondition, "lastTransitionTime"> & { lastTransitionTime?: string }): this {
    const status = this.#status();
    status.conditions = [...(status.conditions ?? []), { lastTransitionTime: T0, ...c }];
    return this;
  }
  /** One `replicatedJobsStatus` entry; unspecified counters are 0. */
  replicatedJobStatus(s: Partial<ReplicatedJobStatus> & { name: string }): this {
    const status = this.#status();
    const entry = rjobStatus(s.name, s);
    status.replicatedJobsStatus = [...(status.replicatedJobsStatus ?? []).filter((e) => e.name !== s.name), entry];
    return this;
  }
  obj(): JobSet {
    return structuredClone(this.#js);
  }
}

export const jobSet = (name: string, namespace = "default"): JobSetBuilder => new JobSetBuilder(name, namespace);

// ---------------------------------------------------------------------------------------------- Job

export class JobBuilder {
  #job: Job;
  constructor(job: Job) {
    this.#job = structuredClone(job);
    this.#job.metadata ??= {};
    this.#job.spec ??= { template: {} };
  }
  #meta() {
    this.#job.metadata ??= {};
    return this.#job.metadata;
  }
  #spec() {
    this.#job.spec ??= { template: {} };
    return this.#job.spec;
  }
  #status() {
    this.#job.status ??= {};
    return this.#job.status;
  }
  labels(labels: StrMap): this {
    const meta = this.#meta();
    meta.labels = { ...meta.labels, ...labels };
    return this;
  }
  annotations(annotations: StrMap): this {
    const meta = this.#meta();
    meta.annotations = { ...meta.annotations, ...annotations };
    return this;
  }
  jobSetName(name: string): this {
    return this.labels({ [Labels.JobSetName]: name });
  }
  replicatedJobName(name: string): this {
    return this.labels({ [Labels.ReplicatedJobName]: name });
  }
  jobIndex(i: number): this {
    return this.labels({ [Labels.JobIndex]: String(i) });
  }
  restartAttempt(n: number): this {
    return this.labels({ [Labels.RestartAttempt]: String(n) });
  }
  jobRestartAttempt(n: number): this {
    return this.labels({ [Labels.JobRestartAttempt]: String(n) });
  }
  /** Sets the controller ownerReference to the JobSet. */
  ownedBy(js: JobSet): this {
    this.#meta().ownerReferences = [controllerRef(js)];
    return this;
  }
  uid(uid: string): this {
    this.#meta().uid = uid;
    return this;
  }
  resourceVersion(rv: string): this {
    this.#meta().resourceVersion = rv;
    return this;
  }
  deletionTimestamp(at = T0): this {
    this.#meta().deletionTimestamp = at;
    return this;
  }
  suspend(s: boolean): this {
    this.#spec().suspend = s;
    return this;
  }
  parallelism(n: number): this {
    this.#spec().parallelism = n;
    return this;
  }
  completions(n: number): this {
    this.#spec().completions = n;
    return this;
  }
  active(n: number): this {
    this.#status().active = n;
    return this;
  }
  ready(n: number): this {
    this.#status().ready = n;
    return this;
  }
  succeededPods(n: number): this {
    this.#status().succeeded = n;
    return this;
  }
  failedPods(n: number): this {
    this.#status().failed = n;
    return this;
  }
  startTime(at = T0): this {
    this.#status().startTime = at;
    return this;
  }
  /** Appends a Job condition (status default "True", lastTransitionTime default T0). */
  condition(type: string, opts: { status?: string; reason?: string; message?: string; at?: string } = {}): this {
    const c: JobCondition = { type, status: opts.status ?? "True", lastTransitionTime: opts.at ?? T0 };
    if (opts.reason !== undefined) c.reason = opts.reason;
    if (opts.message !== undefined) c.message = opts.message;
    const status = this.#status();
    status.conditions = [...(status.conditions ?? []), c];
    return this;
  }
  /** Condition `Complete=True`; also sets completionTime. */
  completed(at = T0): this {
    this.#status().completionTime = at;
    return this.condition("Complete", { at });
  }
  /** Condition `Failed=True` with reason and message (e.g. `BackoffLimitExceeded`). */
  failed(reason = "BackoffLimitExceeded", message = "Job has reached the specified backoff limit", at = T0): this {
    return this.condition("Failed", { reason, message, at });
  }
  /** Condition `FailureTarget=True` (not yet finished). */
  failureTarget(
    reason = "BackoffLimitExceeded",
    message = "Job has reached the specified backoff limit",
    at = T0,
  ): this {
    return this.condition("FailureTarget", { reason, message, at });
  }
  obj(): Job {
    return structuredClone(this.#job);
  }
}

/** A bare Job (apiVersion/kind/name/namespace and an empty pod template). */
export const job = (name: string, namespace = "default"): JobBuilder =>
  new JobBuilder({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace },
    spec: { template: { spec: { containers: [testContainer()] } } },
  });

/** The child Job exactly as the controller constructs it for `rjobName`/`idx`, ready for status helpers. */
export function childJob(
  js: JobSet,
  rjobName: string,
  idx: number,
  opts: ConstructJobOptions = { restartJobGate: false },
): JobBuilder {
  const r = js.spec?.replicatedJobs?.find((x) => x.name === rjobName);
  if (!r) throw new Error(`childJob: replicated job ${rjobName} not in JobSet`);
  return new JobBuilder(constructJob(js, r, idx, opts));
}

/** A replicatedJobsStatus entry: zero counts, overridden by `s`. */
export const rjobStatus = (name: string, s: Partial<ReplicatedJobStatus> = {}): ReplicatedJobStatus => ({
  name,
  ready: 0,
  succeeded: 0,
  failed: 0,
  active: 0,
  suspended: 0,
  ...s,
});
