// The JobSet v1alpha2 API. Each type is defined once, as a TypeBox schema; from that one definition
// come the static TypeScript type (`Static`), the runtime structural check (`typebox/value`) and the
// CRD's openAPIV3Schema (crd.ts). Kubernetes markers (`x-kubernetes-*`) ride along as schema keywords.
import Type, { type Static, type TSchema } from "typebox";
import { JobTemplateSpecSchema, PersistentVolumeClaimSchema } from "./embedded.ts";

const immutable = { "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "Value is immutable" }] };
const int32 = (opts: Record<string, unknown> = {}) => Type.Integer({ format: "int32", ...opts });
const atomicStrings = (description: string) =>
  Type.Array(Type.String(), { "x-kubernetes-list-type": "atomic", description });
const describe = <T extends TSchema>(schema: T, description: string): T => ({ ...schema, description }) as T;

// ---------------------------------------------------------------------------------------------- enums

export const RestartStrategies = ["Recreate", "BlockingRecreate", "InPlaceRestart"] as const;
export const FailurePolicyActions = [
  "FailJobSet",
  "RestartJobSet",
  "RestartJobSetAndIgnoreMaxRestarts",
  "RestartJob",
  "RestartJobAndIgnoreMaxRestarts",
] as const;
export const SuccessPolicyOperators = ["All", "Any"] as const;
export const StartupPolicyOrders = ["AnyOrder", "InOrder"] as const;
export const DependsOnStatuses = ["Ready", "Complete"] as const;
export const RetentionPolicies = ["Delete", "Retain"] as const;

const StringEnum = <T extends readonly string[]>(values: T, opts: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...opts });

// ---------------------------------------------------------------------------------------------- spec

export const DependsOnSchema = Type.Object(
  {
    name: Type.String({ description: "Name of an earlier replicated job this one waits for." }),
    status: StringEnum(DependsOnStatuses, {
      description: "Ready: every Job of the dependency is ready or finished. Complete: every Job succeeded.",
    }),
  },
  { description: "A replicated job that must reach a status before this one's Jobs are created." },
);

export const ReplicatedJobSchema = Type.Object(
  {
    name: Type.String({ description: "Name of the replicated job; part of every child Job's name." }),
    groupName: Type.Optional(
      Type.String({ default: "default", description: "Group this replicated job belongs to (DNS-1035 label)." }),
    ),
    template: describe(JobTemplateSpecSchema, "Template of the Jobs created for this replicated job."),
    replicas: Type.Optional(int32({ default: 1, minimum: 0, description: "Number of Jobs to create." })),
    dependsOn: Type.Optional(
      Type.Array(DependsOnSchema, {
        maxItems: 5,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        ...immutable,
        description: "Replicated jobs that must reach a status before these Jobs are created.",
      }),
    ),
  },
  { description: "A group of identical Jobs." },
);

export const NetworkSchema = Type.Object(
  {
    enableDNSHostnames: Type.Optional(
      Type.Boolean({ description: "Create a headless Service and give pods stable DNS names." }),
    ),
    subdomain: Type.Optional(
      Type.String({ description: "Name of the headless Service and pod subdomain; defaults to the JobSet name." }),
    ),
    publishNotReadyAddresses: Type.Optional(
      Type.Boolean({ description: "Publish DNS records of pods before they are ready." }),
    ),
  },
  { ...immutable, description: "Pod networking of the JobSet." },
);

export const SuccessPolicySchema = Type.Object(
  {
    operator: StringEnum(SuccessPolicyOperators, {
      description: "All: every Job of the target replicated jobs must succeed. Any: one is enough.",
    }),
    targetReplicatedJobs: Type.Optional(atomicStrings("Replicated jobs the policy looks at; empty means all.")),
  },
  { ...immutable, description: "When the JobSet counts as completed." },
);

export const FailurePolicyRuleSchema = Type.Object(
  {
    name: Type.String({ description: "Unique name of the rule; appears in condition reasons." }),
    action: StringEnum(FailurePolicyActions, { description: "What to do when the rule matches a failed Job." }),
    onJobFailureReasons: Type.Optional(
      Type.Array(Type.String(), { description: "Match only Jobs failed with one of these reasons; empty: any." }),
    ),
    onJobFailureMessagePatterns: Type.Optional(
      Type.Array(Type.String(), {
        description: "Match only Jobs whose failure message matches one of these regular expressions.",
      }),
    ),
    targetReplicatedJobs: Type.Optional(atomicStrings("Match only Jobs of these replicated jobs; empty: any.")),
  },
  { description: "A rule of the failure policy; the first matching rule decides." },
);

export const FailurePolicySchema = Type.Object(
  {
    maxRestarts: Type.Optional(int32({ description: "How many times the JobSet may be restarted." })),
    restartStrategy: Type.Optional(
      StringEnum(RestartStrategies, { default: "Recreate", description: "How the JobSet is restarted." }),
    ),
    rules: Type.Optional(
      Type.Array(FailurePolicyRuleSchema, { description: "Rules evaluated in order against each failed Job." }),
    ),
  },
  { ...immutable, description: "What happens when a child Job fails." },
);

export const StartupPolicySchema = Type.Object(
  {
    startupPolicyOrder: StringEnum(StartupPolicyOrders, {
      description: "AnyOrder: create all Jobs at once. InOrder: one replicated job after the other is ready.",
    }),
  },
  { ...immutable, description: "Order in which replicated jobs start (deprecated: use dependsOn)." },
);

export const CoordinatorSchema = Type.Object(
  {
    replicatedJob: Type.String({ description: "Replicated job of the coordinator pod." }),
    jobIndex: Type.Optional(Type.Integer({ description: "Index of the coordinator's Job in its replicated job." })),
    podIndex: Type.Optional(Type.Integer({ description: "Completion index of the coordinator pod." })),
  },
  { description: "The pod whose stable address every pod gets as a label." },
);

export const VolumeRetentionPolicySchema = Type.Object(
  {
    whenDeleted: Type.Optional(
      StringEnum(RetentionPolicies, {
        default: "Delete",
        description: "Delete: the PVC is deleted with the JobSet. Retain: it stays.",
      }),
    ),
  },
  { description: "What happens to the PVCs when the JobSet is deleted." },
);

export const VolumeClaimPolicySchema = Type.Object(
  {
    templates: Type.Optional(
      Type.Array(PersistentVolumeClaimSchema, {
        maxItems: 50,
        "x-kubernetes-list-type": "atomic",
        description: "One shared PVC is created from each template, named <template name>-<JobSet name>.",
      }),
    ),
    retentionPolicy: Type.Optional(VolumeRetentionPolicySchema),
  },
  {
    "x-kubernetes-validations": [
      {
        rule: "self.templates.all(t, !has(t.metadata.namespace) || size(t.metadata.namespace) == 0)",
        message: "namespace cannot be set for VolumeClaimPolicies templates",
      },
    ],
    description: "PVCs shared by the pods of the JobSet.",
  },
);

// ---------------------------------------------------------------------------------------------- scheduling
// Workload-aware (gang, topology) scheduling through the Kubernetes Workload API (gate
// JobSetWorkloadAwareSchedulingAPI). The JSON is upstream's proposed one (kubernetes-sigs/jobset#1250) so
// that JobSets stay portable; the controller translates it to scheduling.k8s.io/v1alpha2 (scheduling.ts).

const emptyObject = (description: string) => Type.Object({}, { description });

export const GangSchedulingPolicySchema = Type.Object(
  {
    minCount: Type.Optional(
      int32({
        minimum: 0,
        description: "Pods that must be placeable together; 0 or absent: every pod the group covers.",
      }),
    ),
  },
  { description: "All-or-nothing placement of the group's pods." },
);

export const SchedulingPolicySchema = Type.Object(
  {
    basic: Type.Optional(emptyObject("Pods are scheduled one by one, as without a PodGroup.")),
    gang: Type.Optional(GangSchedulingPolicySchema),
  },
  { description: "How the pods of a group are scheduled: exactly one of basic or gang." },
);

export const TopologyConstraintSchema = Type.Object(
  { key: Type.String({ description: "Node label key; all pods of the group land on nodes sharing its value." }) },
  { description: "Place the group inside one topology domain." },
);

export const SchedulingConstraintsSchema = Type.Object(
  {
    topology: Type.Optional(
      Type.Array(TopologyConstraintSchema, {
        maxItems: 1,
        "x-kubernetes-list-type": "atomic",
        description: "Topology domains the group must fit in (at most one).",
      }),
    ),
  },
  { description: "Placement constraints of a group." },
);

export const DisruptionModeSchema = Type.Object(
  {
    single: Type.Optional(emptyObject("Pods of the group may be disrupted one at a time.")),
    all: Type.Optional(emptyObject("The group is disrupted as a whole.")),
  },
  { description: "How a group may be disrupted (preempted): exactly one of single or all." },
);

export const PodGroupResourceClaimSchema = Type.Object(
  {
    name: Type.String({ description: "Name of the claim, unique within the group." }),
    resourceClaimName: Type.Optional(Type.String({ description: "An existing ResourceClaim shared by the group." })),
    resourceClaimTemplateName: Type.Optional(
      Type.String({ description: "A ResourceClaimTemplate from which one claim is made for the group." }),
    ),
  },
  { description: "A DRA resource claim shared by the pods of a group." },
);

const resourceClaims = () =>
  Type.Optional(
    Type.Array(PodGroupResourceClaimSchema, {
      maxItems: 4,
      "x-kubernetes-list-type": "atomic",
      description: "Resource claims shared by the pods of the group.",
    }),
  );

export const JobSchedulingSchema = Type.Object(
  {
    schedulingPolicy: Type.Optional(SchedulingPolicySchema),
    schedulingConstraints: Type.Optional(SchedulingConstraintsSchema),
    disruptionMode: Type.Optional(DisruptionModeSchema),
    resourceClaims: resourceClaims(),
  },
  { description: "One group per Job of the targeted replicated job." },
);

export const ReplicatedJobSchedulingSchema = Type.Object(
  {
    targetReplicatedJobs: Type.Optional(
      Type.Array(Type.String({ maxLength: 256 }), {
        minItems: 1,
        maxItems: 50,
        "x-kubernetes-list-type": "set",
        description: "Replicated jobs this entry applies to; several share one group.",
      }),
    ),
    schedulingPolicy: Type.Optional(SchedulingPolicySchema),
    schedulingConstraints: Type.Optional(SchedulingConstraintsSchema),
    disruptionMode: Type.Optional(DisruptionModeSchema),
    resourceClaims: resourceClaims(),
    job: Type.Optional(JobSchedulingSchema),
  },
  { description: "Scheduling of one or more replicated jobs as one group (or one group per Job with job)." },
);

export const JobSetSchedulingSchema = Type.Object(
  {
    schedulingPolicy: Type.Optional(SchedulingPolicySchema),
    schedulingConstraints: Type.Optional(SchedulingConstraintsSchema),
    disruptionMode: Type.Optional(DisruptionModeSchema),
    replicatedJobs: Type.Optional(
      Type.Array(ReplicatedJobSchedulingSchema, {
        maxItems: 50,
        "x-kubernetes-list-type": "atomic",
        description: "Per-replicated-job groups; exclusive with the top-level fields.",
      }),
    ),
  },
  {
    description:
      "Workload-aware scheduling (gate JobSetWorkloadAwareSchedulingAPI): the JobSet's pods are scheduled as gangs through a Workload and PodGroups.",
  },
);

export const JobSetSpecSchema = Type.Object(
  {
    replicatedJobs: Type.Optional(
      Type.Array(ReplicatedJobSchema, {
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        description: "The groups of Jobs of the JobSet, in order.",
      }),
    ),
    network: Type.Optional(NetworkSchema),
    successPolicy: Type.Optional(SuccessPolicySchema),
    failurePolicy: Type.Optional(FailurePolicySchema),
    startupPolicy: Type.Optional(StartupPolicySchema),
    suspend: Type.Optional(Type.Boolean({ description: "Suspend every child Job." })),
    coordinator: Type.Optional(CoordinatorSchema),
    managedBy: Type.Optional(
      Type.String({ description: "Controller that manages this JobSet; others leave it alone." }),
    ),
    ttlSecondsAfterFinished: Type.Optional(
      int32({ minimum: 0, description: "Seconds after finishing before the JobSet is deleted." }),
    ),
    volumeClaimPolicies: Type.Optional(
      Type.Array(VolumeClaimPolicySchema, {
        maxItems: 50,
        "x-kubernetes-list-type": "atomic",
        ...immutable,
        description: "Shared PVCs to create for the JobSet.",
      }),
    ),
    scheduling: Type.Optional(JobSetSchedulingSchema),
  },
  {
    "x-kubernetes-validations": [
      {
        rule: "!(has(self.startupPolicy) && self.startupPolicy.startupPolicyOrder == 'InOrder' && self.replicatedJobs.exists(x, has(x.dependsOn)))",
        message: "StartupPolicy and DependsOn APIs are mutually exclusive",
      },
    ],
    description: "Desired state of a JobSet.",
  },
);

// ---------------------------------------------------------------------------------------------- status

export const ConditionSchema = Type.Object(
  {
    lastTransitionTime: Type.String({ format: "date-time", description: "When the status last changed." }),
    message: Type.String({ maxLength: 32768, description: "Human-readable details." }),
    observedGeneration: Type.Optional(Type.Integer({ format: "int64", minimum: 0, description: "Unused." })),
    reason: Type.String({
      maxLength: 1024,
      minLength: 1,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
      description: "Machine-readable reason of the last transition.",
    }),
    status: StringEnum(["True", "False", "Unknown"] as const, { description: "True, False or Unknown." }),
    type: Type.String({
      maxLength: 316,
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
      description: "Type of the condition.",
    }),
  },
  { description: "An observation of the JobSet's state." },
);

const counters = (description: string) =>
  Type.Array(int32(), { maxItems: 1024, "x-kubernetes-list-type": "atomic", description });

export const ReplicatedJobStatusSchema = Type.Object(
  {
    name: Type.String({ description: "Name of the replicated job." }),
    ready: int32({ description: "Jobs whose pods are all ready or succeeded." }),
    succeeded: int32({ description: "Jobs that completed." }),
    failed: int32({ description: "Jobs that failed." }),
    active: int32({ description: "Jobs with at least one active pod." }),
    suspended: int32({ description: "Jobs that are suspended." }),
    jobRestarts: Type.Optional(counters("Per Job index: restarts of that Job alone.")),
    jobRestartsCountTowardsMax: Type.Optional(counters("Per Job index: restarts that count against maxRestarts.")),
  },
  { description: "Counts of the current Jobs of one replicated job." },
);

export const JobSetStatusSchema = Type.Object(
  {
    conditions: Type.Optional(
      Type.Array(ConditionSchema, {
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        description: "Conditions of the JobSet.",
      }),
    ),
    restarts: Type.Optional(int32({ description: "Number of times the whole JobSet was restarted." })),
    restartsCountTowardsMax: Type.Optional(int32({ description: "Restarts that count against maxRestarts." })),
    terminalState: Type.Optional(Type.String({ description: "Completed or Failed once the JobSet finished." })),
    replicatedJobsStatus: Type.Optional(
      Type.Array(ReplicatedJobStatusSchema, {
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        description: "Job counts per replicated job.",
      }),
    ),
    previousInPlaceRestartAttempt: Type.Optional(
      int32({ minimum: 0, description: "In-place restart attempt all pods had reached before the current one." }),
    ),
    currentInPlaceRestartAttempt: Type.Optional(
      int32({ minimum: 0, description: "In-place restart attempt the pods are moving to." }),
    ),
  },
  { description: "Observed state of a JobSet." },
);

export const JobSetSchema = Type.Object(
  {
    apiVersion: Type.Optional(Type.String({ description: "jobset.x-k8s.io/v1alpha2" })),
    kind: Type.Optional(Type.String({ description: "JobSet" })),
    metadata: Type.Optional(Type.Unsafe<import("./k8s.ts").ObjectMeta>({ type: "object" })),
    spec: Type.Optional(JobSetSpecSchema),
    status: Type.Optional(JobSetStatusSchema),
  },
  { description: "A group of Jobs that run together as one workload." },
);

// ---------------------------------------------------------------------------------------------- types

export type DependsOn = Static<typeof DependsOnSchema>;
export type ReplicatedJob = Static<typeof ReplicatedJobSchema>;
export type Network = Static<typeof NetworkSchema>;
export type SuccessPolicy = Static<typeof SuccessPolicySchema>;
export type FailurePolicyRule = Static<typeof FailurePolicyRuleSchema>;
export type FailurePolicy = Static<typeof FailurePolicySchema>;
export type StartupPolicy = Static<typeof StartupPolicySchema>;
export type Coordinator = Static<typeof CoordinatorSchema>;
export type VolumeRetentionPolicy = Static<typeof VolumeRetentionPolicySchema>;
export type VolumeClaimPolicy = Static<typeof VolumeClaimPolicySchema>;
export type JobSetSpec = Static<typeof JobSetSpecSchema>;
export type SchedulingPolicy = Static<typeof SchedulingPolicySchema>;
export type SchedulingConstraints = Static<typeof SchedulingConstraintsSchema>;
export type DisruptionMode = Static<typeof DisruptionModeSchema>;
export type PodGroupResourceClaim = Static<typeof PodGroupResourceClaimSchema>;
export type JobScheduling = Static<typeof JobSchedulingSchema>;
export type ReplicatedJobScheduling = Static<typeof ReplicatedJobSchedulingSchema>;
export type JobSetScheduling = Static<typeof JobSetSchedulingSchema>;
export type JobSetCondition = Static<typeof ConditionSchema>;
export type ReplicatedJobStatus = Static<typeof ReplicatedJobStatusSchema>;
export type JobSetStatus = Static<typeof JobSetStatusSchema>;
export type JobSet = Static<typeof JobSetSchema>;

export type RestartStrategy = (typeof RestartStrategies)[number];
export type FailurePolicyAction = (typeof FailurePolicyActions)[number];
export type ConditionStatus = JobSetCondition["status"];
