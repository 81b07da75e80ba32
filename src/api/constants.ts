// Every literal of the JobSet API that other tools rely on: label and annotation keys, condition
// types, reasons and messages, event reasons. Exact upstream values (spec §1.14, §1.15, §5.12).

// ---------------------------------------------------------------------------------------------- identity

export const Group = "jobset.x-k8s.io";
export const Version = "v1alpha2";
export const ApiVersion = `${Group}/${Version}`;
export const Kind = "JobSet";
export const ListKind = "JobSetList";
export const Plural = "jobsets";
/** The JobSet resource, for resourcePath (src/runtime/resources.ts). */
export const JobSetResource = { group: Group, version: Version, resource: Plural } as const;
export const Singular = "jobset";
export const CrdName = `${Plural}.${Group}`;

/** The value of `spec.managedBy` that means "this controller". */
export const JobSetControllerName = "jobset.sigs.k8s.io/jobset-controller";

// ---------------------------------------------------------------------------------------------- labels and annotations

export const Labels = {
  JobSetName: "jobset.sigs.k8s.io/jobset-name",
  JobSetUID: "jobset.sigs.k8s.io/jobset-uid",
  ReplicatedJobName: "jobset.sigs.k8s.io/replicatedjob-name",
  ReplicatedJobReplicas: "jobset.sigs.k8s.io/replicatedjob-replicas",
  GlobalReplicas: "jobset.sigs.k8s.io/global-replicas",
  JobIndex: "jobset.sigs.k8s.io/job-index",
  JobGlobalIndex: "jobset.sigs.k8s.io/job-global-index",
  JobKey: "jobset.sigs.k8s.io/job-key",
  RestartAttempt: "jobset.sigs.k8s.io/restart-attempt",
  JobRestartAttempt: "jobset.sigs.k8s.io/job-restart-attempt",
  GroupName: "jobset.sigs.k8s.io/group-name",
  GroupReplicas: "jobset.sigs.k8s.io/group-replicas",
  JobGroupIndex: "jobset.sigs.k8s.io/job-group-index",
  Coordinator: "jobset.sigs.k8s.io/coordinator",
  /** Set on pods by the pod mutating webhook: the pod's priority, as a decimal. */
  Priority: "jobset.sigs.k8s.io/priority",
} as const;

export const Annotations = {
  ExclusiveTopology: "alpha.jobset.sigs.k8s.io/exclusive-topology",
  NodeSelectorStrategy: "alpha.jobset.sigs.k8s.io/node-selector",
  InPlaceRestartAttempt: "jobset.sigs.k8s.io/in-place-restart-attempt",
  DisableInPlaceRestart: "jobset.sigs.k8s.io/disable-in-place-restart",
} as const;

/** nodeSelector key (and node label) of the node-selector exclusive-placement strategy: `<ns>_<jobName>`. */
export const NamespacedJobKey = "alpha.jobset.sigs.k8s.io/namespaced-job";
/** Taint key tolerated by pods of the node-selector strategy. */
export const NoScheduleTaintKey = "alpha.jobset.sigs.k8s.io/no-schedule";

/** Set by the Kubernetes Job controller on pods of Indexed Jobs. */
export const JobCompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";
/** Finalizer the Kubernetes Job controller puts on the pods it tracks. */
export const JobTrackingFinalizer = "batch.kubernetes.io/job-tracking";

// ---------------------------------------------------------------------------------------------- conditions

export const ConditionTypes = {
  Completed: "Completed",
  Failed: "Failed",
  Suspended: "Suspended",
  RestartingJobSet: "RestartingJobSet",
  StartupPolicyInProgress: "StartupPolicyInProgress",
  StartupPolicyCompleted: "StartupPolicyCompleted",
  /** spec.scheduling only (see SchedulingReasons). */
  WorkloadSchedulingBlocked: "WorkloadSchedulingBlocked",
} as const;
export type ConditionType = (typeof ConditionTypes)[keyof typeof ConditionTypes];

export const TerminalStates = { Completed: "Completed", Failed: "Failed" } as const;

export const Reasons = {
  AllJobsCompleted: "AllJobsCompleted",
  FailedJobs: "FailedJobs",
  FailJobSetFailurePolicyAction: "FailJobSetFailurePolicyAction",
  ReachedMaxRestarts: "ReachedMaxRestarts",
  SuspendedJobs: "SuspendedJobs",
  ResumeJobs: "ResumeJobs",
  DefaultFailurePolicy: "DefaultFailurePolicy",
  JobsReady: "JobsReady",
  JobSetCompleted: "JobSetCompleted",
  JobSetFailed: "JobSetFailed",
  JobSetSuspended: "JobSetSuspended",
  InOrderStartupPolicyInProgress: "InOrderStartupPolicyInProgress",
  InOrderStartupPolicyCompleted: "InOrderStartupPolicyCompleted",
  RestartJobSetFailurePolicyAction: "RestartJobSetFailurePolicyAction",
  RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction: "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction",
  RestartJobFailurePolicyAction: "RestartJobFailurePolicyAction",
  RestartJobAndIgnoreMaxRestartsFailurePolicyAction: "RestartJobAndIgnoreMaxRestartsFailurePolicyAction",
  JobCreationFailed: "JobCreationFailed",
  HeadlessServiceCreationFailed: "HeadlessServiceCreationFailed",
  PVCCreationFailed: "PVCCreationFailed",
  ExclusivePlacementViolation: "ExclusivePlacementViolation",
} as const;

/** Reason of `RestartingJobSet=True` when a named failure-policy rule triggered the restart. */
export const failurePolicyRuleReason = (ruleName: string): string => `FailurePolicy_${ruleName}`;

export const Messages = {
  AllJobsCompleted: "jobset completed successfully",
  FailedJobs: (job: string) => `jobset failed due to one or more job failures (first failed job: ${job})`,
  FailJobSetAction: (job: string) => `applying FailJobSet failure policy action (first failed job: ${job})`,
  ReachedMaxRestarts: (job: string) =>
    `jobset failed due to reaching max number of restarts (first failed job: ${job})`,
  ReachedMaxRestartsInPlace: "jobset failed due to reaching max number of restarts",
  /** Message of every restart action (`RestartJobSet`, `RestartJob`, ...): also the RestartingJobSet message. */
  RestartAction: (action: string, job: string) => `applying ${action} failure policy action (first failed job: ${job})`,
  Suspended: "jobset is suspended",
  Resumed: "jobset is resumed",
  JobsReady: "all jobs are ready",
  JobSetCompleted: "jobset completed successfully",
  JobSetFailed: "jobset failed",
  JobSetSuspended: "jobset is suspended",
  InOrderStartupPolicyInProgress: "in order startup policy is in progress",
  InOrderStartupPolicyCompleted: "in order startup policy has completed",
  ExclusivePlacementViolation: "Pod violated JobSet exclusive placement policy",
} as const;

/** Reasons a Job's `Failed` condition may carry; the only values `onJobFailureReasons` accepts. */
export const JobFailureReasons = [
  "BackoffLimitExceeded",
  "DeadlineExceeded",
  "FailedIndexes",
  "MaxFailedIndexesExceeded",
  "PodFailurePolicy",
] as const;

// ---------------------------------------------------------------------------------------------- events

export const EventTypes = { Normal: "Normal", Warning: "Warning" } as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** Event action of every event the JobSet controller records. */
export const EventAction = "Reconciling";
/** Reporting controller of the JobSet controller's events. */
export const EventReportingController = "jobset";

// ---------------------------------------------------------------------------------------------- metrics

export const Metrics = {
  Completed: "jobset_completed_total",
  Failed: "jobset_failed_total",
} as const;

// ---------------------------------------------------------------------------------------------- workload-aware scheduling

/** The Kubernetes Workload API (v1.36) the controller writes for `spec.scheduling`. */
export const WorkloadApi = {
  Group: "scheduling.k8s.io",
  Version: "v1alpha2",
  ApiVersion: "scheduling.k8s.io/v1alpha2",
  /** Annotation on child Jobs: the PodGroup template their pods belong to. */
  GroupTemplateAnnotation: "scheduling.k8s.io/group-template-name",
  /** PodGroup condition set by kube-scheduler. */
  PodGroupScheduled: "PodGroupScheduled",
} as const;

/** Reasons of the JobSet condition WorkloadSchedulingBlocked (True while gang scheduling cannot proceed). */
export const SchedulingReasons = {
  /** A PodGroup reported PodGroupScheduled=False/Unschedulable. */
  PodGroupUnschedulable: "PodGroupUnschedulable",
  /** The cluster does not serve scheduling.k8s.io/v1alpha2. */
  WorkloadAPINotServed: "WorkloadAPINotServed",
  /** A Workload or PodGroup with our name exists but this JobSet does not control it. */
  SchedulingObjectConflict: "SchedulingObjectConflict",
  /** Every PodGroup reported PodGroupScheduled=True (the condition turns False). */
  PodGroupsScheduled: "PodGroupsScheduled",
  /** Event: an immutable field of a Workload/PodGroup differs from spec.scheduling; it is recreated. */
  SchedulingObjectRecreated: "SchedulingObjectRecreated",
} as const;
