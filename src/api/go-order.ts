// Key order of Go's encoding/json for the types whose values appear in webhook error messages
// (`Invalid value: <JSON>`): struct fields in declaration order, map keys sorted. Plain JSON objects
// keep their own order otherwise. Used to render values the way the Go webhook prints them.

type Shape = { fields: readonly string[]; children?: Readonly<Record<string, string>>; maps?: readonly string[] };

const objectMeta: Shape = {
  fields: [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
  ],
  maps: ["labels", "annotations"],
};

const shapes: Readonly<Record<string, Shape>> = {
  ReplicatedJob: {
    fields: ["name", "groupName", "template", "replicas", "dependsOn"],
    children: { template: "JobTemplateSpec", dependsOn: "DependsOn" },
  },
  DependsOn: { fields: ["name", "status"] },
  ObjectMeta: objectMeta,
  JobTemplateSpec: { fields: ["metadata", "spec"], children: { metadata: "ObjectMeta", spec: "JobSpec" } },
  JobSpec: {
    fields: [
      "parallelism",
      "completions",
      "activeDeadlineSeconds",
      "podFailurePolicy",
      "successPolicy",
      "backoffLimit",
      "backoffLimitPerIndex",
      "maxFailedIndexes",
      "selector",
      "manualSelector",
      "template",
      "ttlSecondsAfterFinished",
      "completionMode",
      "suspend",
      "podReplacementPolicy",
      "managedBy",
    ],
    children: { template: "PodTemplateSpec" },
  },
  PodTemplateSpec: { fields: ["metadata", "spec"], children: { metadata: "ObjectMeta", spec: "PodSpec" } },
  PodSpec: {
    fields: [
      "volumes",
      "initContainers",
      "containers",
      "ephemeralContainers",
      "restartPolicy",
      "terminationGracePeriodSeconds",
      "activeDeadlineSeconds",
      "dnsPolicy",
      "nodeSelector",
      "serviceAccountName",
      "serviceAccount",
      "automountServiceAccountToken",
      "nodeName",
      "hostNetwork",
      "hostPID",
      "hostIPC",
      "shareProcessNamespace",
      "securityContext",
      "imagePullSecrets",
      "hostname",
      "subdomain",
      "affinity",
      "schedulerName",
      "tolerations",
      "hostAliases",
      "priorityClassName",
      "priority",
      "dnsConfig",
      "readinessGates",
      "runtimeClassName",
      "enableServiceLinks",
      "preemptionPolicy",
      "overhead",
      "topologySpreadConstraints",
      "setHostnameAsFQDN",
      "os",
      "hostUsers",
      "schedulingGates",
      "resourceClaims",
      "resources",
      "hostnameOverride",
    ],
    children: { initContainers: "Container", containers: "Container", tolerations: "Toleration", volumes: "Volume" },
    maps: ["nodeSelector", "overhead"],
  },
  Container: {
    fields: [
      "name",
      "image",
      "command",
      "args",
      "workingDir",
      "ports",
      "envFrom",
      "env",
      "resources",
      "resizePolicy",
      "restartPolicy",
      "restartPolicyRules",
      "volumeMounts",
      "volumeDevices",
      "livenessProbe",
      "readinessProbe",
      "startupProbe",
      "lifecycle",
      "terminationMessagePath",
      "terminationMessagePolicy",
      "imagePullPolicy",
      "securityContext",
      "stdin",
      "stdinOnce",
      "tty",
    ],
    children: { ports: "ContainerPort", env: "EnvVar", resources: "ResourceRequirements", volumeMounts: "VolumeMount" },
  },
  ContainerPort: { fields: ["name", "hostPort", "containerPort", "protocol", "hostIP"] },
  EnvVar: { fields: ["name", "value", "valueFrom"] },
  ResourceRequirements: { fields: ["limits", "requests", "claims"], maps: ["limits", "requests"] },
  VolumeMount: {
    fields: ["name", "readOnly", "recursiveReadOnly", "mountPath", "subPath", "mountPropagation", "subPathExpr"],
  },
  Volume: { fields: ["name"] },
  Toleration: { fields: ["key", "operator", "value", "effect", "tolerationSeconds"] },
  PersistentVolumeClaimSpec: {
    fields: [
      "accessModes",
      "selector",
      "resources",
      "volumeName",
      "storageClassName",
      "volumeMode",
      "dataSource",
      "dataSourceRef",
      "volumeAttributesClassName",
    ],
    children: { resources: "ResourceRequirements" },
  },
};

export type GoTypeName = keyof typeof shapes;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function sortedMap(v: unknown): unknown {
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = v[k];
  return out;
}

/**
 * Returns a copy of `value` (a `type` or a list of them) whose object keys are in the order Go's
 * json.Marshal would print them. Unknown fields follow the known ones in their own order.
 */
export function goOrdered(value: unknown, type: string): unknown {
  if (Array.isArray(value)) return value.map((v) => goOrdered(v, type));
  const shape = shapes[type];
  if (!shape || !isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  const keys = [
    ...shape.fields.filter((f) => f in value),
    ...Object.keys(value).filter((k) => !shape.fields.includes(k)),
  ];
  for (const k of keys) {
    const v = value[k];
    const child = shape.children?.[k];
    out[k] = child ? goOrdered(v, child) : shape.maps?.includes(k) ? sortedMap(v) : v;
  }
  return out;
}
