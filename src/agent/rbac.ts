// What the in-place restart agent may do, as objects (one definition for the kustomize component, the
// Helm chart and the tests; scripts/generate-deploy.ts writes the manifests):
// - a ServiceAccount, and a Role bound to it in the JobSet's namespace: pods `patch` (the attempt
//   annotation, by server-side apply) and jobsets `get/list/watch` (its own JobSet) — nothing else;
// - a ValidatingAdmissionPolicy (cluster-scoped) + binding that narrows `patch` to what the agent writes:
//   for a request of that ServiceAccount (in any namespace) on a pod, only an UPDATE of the pod the
//   request's token is bound to, changing nothing but the annotation
//   jobset.sigs.k8s.io/in-place-restart-attempt, to a non-negative integer (or removing it). Denials
//   are 403 Forbidden, like the RBAC refusals.
import { Annotations, JobSetResource } from "../api/constants.ts";

/** The ServiceAccount (and Role/RoleBinding) name; upstream's example JobSet uses the same. */
export const AgentServiceAccountName = "jobset-in-place-restart";
/** Name of the ValidatingAdmissionPolicy and of its binding. */
export const AgentPolicyName = "jobset-in-place-restart-agent";

/** The user-info extra key the API server sets for a service-account token bound to a pod. */
export const PodNameExtra = "authentication.kubernetes.io/pod-name";

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

const labels = { "app.kubernetes.io/name": "jobset", "app.kubernetes.io/component": "in-place-restart-agent" };

/** The Role's rules: exactly what src/agent/agent.ts calls. */
export const agentRules = [
  // server-side apply of the attempt annotation on its own pod (the policy narrows it further)
  { apiGroups: [""], resources: ["pods"], verbs: ["patch"] },
  // list + watch of its own JobSet (field selector on the name); get for `kubectl`-style debugging parity
  { apiGroups: [JobSetResource.group], resources: [JobSetResource.resource], verbs: ["get", "list", "watch"] },
];

/** ServiceAccount, Role and RoleBinding of the agent in `namespace`. */
export function agentNamespacedObjects(namespace: string, sa = AgentServiceAccountName): ManifestObject[] {
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace, labels } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: sa, namespace, labels },
      rules: agentRules,
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: sa, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: sa },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace }],
    },
  ];
}

/** The denial message of the policy. */
export const agentPolicyMessage = (sa: string) =>
  `ServiceAccount ${sa} may only set the annotation ${Annotations.InPlaceRestartAttempt} (a non-negative integer) on the pod its token is bound to`;

/** The ValidatingAdmissionPolicy and its binding (cluster-scoped; applies to the agent's ServiceAccount in every namespace). */
export function agentAdmissionPolicy(sa = AgentServiceAccountName, policyName = AgentPolicyName): ManifestObject[] {
  const key = Annotations.InPlaceRestartAttempt;
  const same = (field: string) =>
    `(has(object.metadata.${field}) ? object.metadata.${field} : []) == (has(oldObject.metadata.${field}) ? oldObject.metadata.${field} : [])`;
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: policyName, labels },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [""],
              apiVersions: ["v1"],
              operations: ["CREATE", "UPDATE", "DELETE"],
              resources: ["pods", "pods/*"],
            },
          ],
        },
        matchConditions: [
          {
            name: "agent-service-account",
            expression: `request.userInfo.username.matches('^system:serviceaccount:[^:]+:${sa}$')`,
          },
        ],
        variables: [
          {
            name: "oldAnnotations",
            expression: "has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {}",
          },
          { name: "newAnnotations", expression: "has(object.metadata.annotations) ? object.metadata.annotations : {}" },
          {
            name: "boundPod",
            expression: `has(request.userInfo.extra) && '${PodNameExtra}' in request.userInfo.extra && size(request.userInfo.extra['${PodNameExtra}']) == 1 ? request.userInfo.extra['${PodNameExtra}'][0] : ''`,
          },
        ],
        validations: [
          {
            expression: [
              "request.operation == 'UPDATE'",
              "(!has(request.subResource) || request.subResource == '')",
              "variables.boundPod != '' && object.metadata.name == variables.boundPod",
              "object.spec == oldObject.spec",
              "(has(object.metadata.labels) ? object.metadata.labels : {}) == (has(oldObject.metadata.labels) ? oldObject.metadata.labels : {})",
              same("finalizers"),
              same("ownerReferences"),
              `variables.oldAnnotations.all(k, k == '${key}' || (k in variables.newAnnotations && variables.newAnnotations[k] == variables.oldAnnotations[k]))`,
              `variables.newAnnotations.all(k, k == '${key}' || (k in variables.oldAnnotations && variables.oldAnnotations[k] == variables.newAnnotations[k]))`,
              `(!('${key}' in variables.newAnnotations) || variables.newAnnotations['${key}'].matches('^[0-9]+$'))`,
            ].join(" &&\n"),
            message: agentPolicyMessage(sa),
            reason: "Forbidden",
          },
        ],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: policyName, labels },
      spec: { policyName, validationActions: ["Deny"] },
    },
  ];
}
