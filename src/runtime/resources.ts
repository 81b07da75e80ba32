// One way to build API paths: `resourcePath({ ...Resources.jobs, namespace, name, subresource })`.
// Core resources live under `/api/v1`, the others under `/apis/<group>/<version>`; namespace and
// name are URL-encoded; no namespace means all namespaces (or a cluster-scoped resource).
// The JobSet resource is `JobSetResource` in src/api/constants.ts (this module knows no JobSet).

/** A resource of the Kubernetes API; `group` "" is the core group. */
export interface GroupVersionResource {
  group: string;
  version: string;
  /** The plural, lower-case resource name: `pods`, `jobs`, `jobsets`. */
  resource: string;
}

/** Where one object or collection of a resource lives. */
export interface ResourceRef extends GroupVersionResource {
  namespace?: string;
  name?: string;
  /** `status`, `log`, … (with `name` only). */
  subresource?: string;
}

const core = (resource: string): GroupVersionResource => ({ group: "", version: "v1", resource });

/** The built-in resources the project reads and writes. */
export const Resources = {
  pods: core("pods"),
  services: core("services"),
  persistentvolumeclaims: core("persistentvolumeclaims"),
  secrets: core("secrets"),
  configmaps: core("configmaps"),
  nodes: core("nodes"),
  namespaces: core("namespaces"),
  jobs: { group: "batch", version: "v1", resource: "jobs" },
  events: { group: "events.k8s.io", version: "v1", resource: "events" },
  leases: { group: "coordination.k8s.io", version: "v1", resource: "leases" },
  tokenReviews: { group: "authentication.k8s.io", version: "v1", resource: "tokenreviews" },
  subjectAccessReviews: { group: "authorization.k8s.io", version: "v1", resource: "subjectaccessreviews" },
  mutatingWebhookConfigurations: {
    group: "admissionregistration.k8s.io",
    version: "v1",
    resource: "mutatingwebhookconfigurations",
  },
  validatingWebhookConfigurations: {
    group: "admissionregistration.k8s.io",
    version: "v1",
    resource: "validatingwebhookconfigurations",
  },
  customResourceDefinitions: { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" },
  serviceAccounts: core("serviceaccounts"),
  roles: { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles" },
  roleBindings: { group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings" },
  validatingAdmissionPolicies: {
    group: "admissionregistration.k8s.io",
    version: "v1",
    resource: "validatingadmissionpolicies",
  },
  validatingAdmissionPolicyBindings: {
    group: "admissionregistration.k8s.io",
    version: "v1",
    resource: "validatingadmissionpolicybindings",
  },
} as const satisfies Record<string, GroupVersionResource>;

/** The discovery path of a group version (lists its resources): `/api/v1`, `/apis/batch/v1`. */
export function groupVersionPath(gv: Pick<GroupVersionResource, "group" | "version">): string {
  if (!gv.version) throw new Error("groupVersionPath: version is required");
  return gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
}

/** The path of a collection, an object, or an object's subresource. */
export function resourcePath(r: ResourceRef): string {
  if (!r.resource) throw new Error("resourcePath: resource is required");
  if (r.subresource && !r.name) throw new Error(`resourcePath: subresource ${r.subresource} needs a name`);
  const base = groupVersionPath(r);
  const ns = r.namespace ? `/namespaces/${encodeURIComponent(r.namespace)}` : "";
  const name = r.name ? `/${encodeURIComponent(r.name)}` : "";
  const sub = r.name && r.subresource ? `/${r.subresource}` : "";
  return `${base}${ns}/${r.resource}${name}${sub}`;
}
