// The JobSet controller's feature gates on the local cluster of `jobset up` and `jobset run` (its
// ephemeral cluster): the --feature-gates flag (read as `jobset lint`/`plan` read it), combined with
// --workload-api (or, for `run`, a JobSet with spec.scheduling), how they are shown, and what gate
// InPlaceRestart installs (the agent's permissions). Pure: no cluster code is loaded to check the flags.
import { agentAdmissionPolicy, agentNamespacedObjects, type ManifestObject } from "../agent/rbac.ts";
import {
  defaultFeatureGates,
  type FeatureGates,
  type FeatureName,
  FeatureNames,
  parseFeatureGatesFlag,
} from "../api/features.ts";
import { type GroupVersionResource, type ResourceRef, Resources } from "../runtime/resources.ts";
import { featureGatesFlag, UsageError } from "./usage.ts";

/** parseArgs option of the flag. */
export const featureGatesOption = { "feature-gates": { type: "string" } } as const;

/** A checked --feature-gates flag. */
export interface GatesFlag {
  /** Every gate: the defaults, with the flag's values over them. */
  gates: FeatureGates;
  /** Only the gates the flag names, with their values. */
  explicit: Partial<Record<FeatureName, boolean>>;
}

/** Reads --feature-gates LIST; a bad value is a UsageError naming the flag (as for `jobset lint`/`plan`). */
export function parseGatesFlag(value: string | undefined): GatesFlag {
  const gates = featureGatesFlag(value); // throws on an unknown name, a bad value, a locked gate
  const named = parseFeatureGatesFlag(value ?? "");
  const explicit: Partial<Record<FeatureName, boolean>> = {};
  for (const name of FeatureNames) {
    const v = named[name];
    if (v !== undefined) explicit[name] = v;
  }
  return { gates, explicit };
}

/**
 * The controller's gates on the local cluster.
 * - `workloadApi` (the --workload-api flag of `jobset up`) turns JobSetWorkloadAwareSchedulingAPI on;
 *   together with an explicit `JobSetWorkloadAwareSchedulingAPI=false` it is a contradiction: UsageError.
 * - `wantsScheduling` (`jobset run` of a JobSet with spec.scheduling) turns it on too, unless the flag
 *   names the gate: an explicit value wins (with `=false` the webhook then refuses spec.scheduling).
 * The local cluster serves the Workload API exactly when the gate is on (see controllerGates).
 */
export function localClusterGates(
  flag: GatesFlag,
  o: { workloadApi?: boolean; wantsScheduling?: boolean } = {},
): FeatureGates {
  const explicit = flag.explicit.JobSetWorkloadAwareSchedulingAPI;
  if (o.workloadApi === true && explicit === false)
    throw new UsageError(
      "--workload-api turns feature gate JobSetWorkloadAwareSchedulingAPI on, --feature-gates sets it to false: drop one of the two",
    );
  const on = o.workloadApi === true || (explicit ?? o.wantsScheduling === true);
  return on === flag.gates.JobSetWorkloadAwareSchedulingAPI
    ? flag.gates
    : Object.freeze({ ...flag.gates, JobSetWorkloadAwareSchedulingAPI: on });
}

/**
 * What startLocalCluster runs: the controller's gates (`featureGates`, else the defaults), and whether
 * the control plane serves the Workload API — when gate JobSetWorkloadAwareSchedulingAPI is on, since the
 * controller then creates Workloads and PodGroups.
 */
export function controllerGates(o: { featureGates?: FeatureGates | undefined }): {
  gates: FeatureGates;
  workloadApi: boolean;
} {
  const gates = o.featureGates ?? defaultFeatureGates;
  return { gates, workloadApi: gates.JobSetWorkloadAwareSchedulingAPI };
}

/** The gates that are on, e.g. "InPlaceRestart, TLSOptions" (in the order of FeatureNames). */
export function gatesOn(gates: FeatureGates): string {
  return FeatureNames.filter((n) => gates[n]).join(", ") || "none";
}

/** Whether any gate differs from its default. */
export const nonDefaultGates = (gates: FeatureGates): boolean =>
  FeatureNames.some((n) => gates[n] !== defaultFeatureGates[n]);

/** Start of the progress line printed once the in-place restart agent's permissions are installed. */
export const AgentPermissionsLine = "in-place restart agent permissions installed";

/** The namespace where the local cluster installs the agent's ServiceAccount, Role and RoleBinding. */
export const AgentPermissionsNamespace = "default";

/** Where the kinds of src/agent/rbac.ts live. */
const agentResources: Readonly<Record<string, GroupVersionResource>> = {
  ServiceAccount: Resources.serviceAccounts,
  Role: Resources.roles,
  RoleBinding: Resources.roleBindings,
  ValidatingAdmissionPolicy: Resources.validatingAdmissionPolicies,
  ValidatingAdmissionPolicyBinding: Resources.validatingAdmissionPolicyBindings,
};

/**
 * What the local cluster installs with gate InPlaceRestart on, each with where it goes: the agent's
 * ServiceAccount, Role and RoleBinding in `namespace` (default: default) and its cluster-scoped
 * ValidatingAdmissionPolicy + binding — the objects of src/agent/rbac.ts, as the kustomize component
 * config/components/in-place-restart-agent ships them (scripts/generate-deploy.ts).
 */
export function agentPermissions(
  namespace = AgentPermissionsNamespace,
): { resource: ResourceRef; object: ManifestObject }[] {
  return [...agentNamespacedObjects(namespace), ...agentAdmissionPolicy()].map((object) => {
    const resource = agentResources[object.kind];
    if (!resource) throw new Error(`no API resource known for ${object.apiVersion} ${object.kind}`);
    const ns = object.metadata.namespace;
    return { resource: ns === undefined ? resource : { ...resource, namespace: ns }, object };
  });
}
