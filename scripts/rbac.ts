// The permissions of the jobset controller, defined once. Every rule names the code that needs it; from
// this definition scripts/generate-deploy.ts writes config/rbac/*role*.yaml (kustomize) and
// charts/jobset/templates/_rules.tpl (Helm). docs/rbac.md explains each rule and every difference from
// upstream's role (spec §9.8).
import { stringify } from "yaml";
import { DefaultLeaderElectionID } from "../src/api/config.ts";
import { MutatingConfigurationName, ValidatingConfigurationName } from "../src/webhooks/configurations.ts";

/**
 * A resource name that differs by install method: the literal in the kustomize manifests, a Helm
 * template expression in the chart.
 */
export interface NameRef {
  kustomize: string;
  helm: string;
}

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: (string | NameRef)[];
  nonResourceURLs?: string[];
  verbs: string[];
  /** Which code makes these calls (file: what) — documentation, and the map for the RBAC proof. */
  usedBy: string[];
}

export interface RoleDef {
  kind: "ClusterRole" | "Role";
  /** Name in the kustomize manifests; the chart uses `<fullname>-<suffix>`. */
  name: string;
  /** Suffix after the chart's fullname (`jobset-manager-role` → `manager-role`). */
  helmSuffix: string;
  /** One line: what the role is for (comments in generated files). */
  summary: string;
  /** Labels (aggregation), both flavours. */
  labels?: Record<string, string>;
  /** Bound to the controller's ServiceAccount (user-facing roles are not). */
  boundToController: boolean;
  /** Off when internal certificate management is off (cert-manager overlay, Helm certManager.enabled). */
  internalCertsOnly?: boolean;
  rules: Rule[];
}

export const WebhookSecretName: NameRef = {
  kustomize: "jobset-webhook-server-cert",
  helm: '{{ include "jobset.webhookSecretName" . }}',
};
export const LeaseName: NameRef = {
  kustomize: DefaultLeaderElectionID,
  helm: "{{ .Values.leaderElection.resourceName }}",
};

/** The controller, its informers, the executor, the events recorder, the pod controller and webhooks. */
export const managerRole: RoleDef = {
  kind: "ClusterRole",
  name: "jobset-manager-role",
  helmSuffix: "manager-role",
  summary: "what the JobSet controller, the pod controller and the admission webhooks read and write",
  boundToController: true,
  rules: [
    {
      apiGroups: ["jobset.x-k8s.io"],
      resources: ["jobsets"],
      verbs: ["list", "watch", "delete"],
      usedBy: [
        "src/controllers/jobset/controller.ts: JobSet informer (list, watch)",
        "src/controllers/jobset/executor.ts: ttlSecondsAfterFinished deletes the JobSet (delete)",
      ],
    },
    {
      apiGroups: ["jobset.x-k8s.io"],
      resources: ["jobsets/status"],
      verbs: ["update"],
      usedBy: ["src/controllers/jobset/executor.ts: the one status write per reconcile (PUT .../status)"],
    },
    {
      apiGroups: ["jobset.x-k8s.io"],
      resources: ["jobsets/finalizers"],
      verbs: ["update"],
      usedBy: [
        "src/controller/jobs.ts, service.ts, pvc.ts: child objects carry a controller ownerReference with " +
          "blockOwnerDeletion: true, which the OwnerReferencesPermissionEnforcement admission plugin allows " +
          "only to users who may update the owner's finalizers",
      ],
    },
    {
      apiGroups: ["batch"],
      resources: ["jobs"],
      verbs: ["list", "watch", "get", "create", "patch", "delete"],
      usedBy: [
        "src/controllers/jobset/controller.ts: Job informer (list, watch)",
        "src/controllers/jobset/executor.ts: create child Jobs; GET on AlreadyExists; merge patch (suspend/resume " +
          "guarded by the resourceVersion, §6.7; elastic scale); delete (restarts, failure/success policies)",
      ],
    },
    {
      apiGroups: ["batch"],
      resources: ["jobs/status"],
      verbs: ["patch"],
      usedBy: [
        "src/controllers/jobset/executor.ts: resume clears status.startTime first (merge patch of .../status, §6.7)",
      ],
    },
    {
      apiGroups: [""],
      resources: ["services"],
      verbs: ["list", "watch", "create"],
      usedBy: [
        "src/controllers/jobset/controller.ts: Service informer (list, watch)",
        "src/controllers/jobset/executor.ts: create the headless Service (create-if-absent; deleted by the garbage collector)",
      ],
    },
    {
      apiGroups: [""],
      resources: ["persistentvolumeclaims"],
      verbs: ["list", "watch", "create"],
      usedBy: [
        "src/webhooks/pvc-cache.ts: the PVC informer the JobSet validating webhook reads (list, watch; only in " +
          "processes that host the webhooks, src/app/controller-manager.ts)",
        "src/controllers/jobset/executor.ts: create volumeClaimPolicies PVCs (AlreadyExists is success)",
      ],
    },
    {
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["list", "watch", "delete"],
      usedBy: [
        "src/cli/controller.ts: one pod informer (label jobset-name) for the pod webhooks, the pod controller " +
          "and in-place restart (list, watch)",
        "src/controllers/pod/controller.ts: deletes followers that violate exclusive placement (spec §7.4)",
      ],
    },
    {
      apiGroups: [""],
      resources: ["pods/status"],
      verbs: ["update"],
      usedBy: [
        "src/controllers/pod/controller.ts: DisruptionTarget condition before deleting a misplaced follower " +
          "(PUT .../status; upstream does not grant it: spec §10.3 #1)",
      ],
    },
    {
      apiGroups: [""],
      resources: ["nodes"],
      verbs: ["get"],
      usedBy: [
        "src/controllers/pod/controller.ts: nodeGetter GETs the leader's Node — for the pod mutating webhook " +
          "(src/webhooks/pod-webhook.ts, follower nodeSelector) and the pod controller (leader topology)",
      ],
    },
    {
      apiGroups: ["scheduling.k8s.io"],
      resources: ["workloads"],
      verbs: ["get", "create", "delete"],
      usedBy: [
        "src/controllers/jobset/scheduling-objects.ts: spec.scheduling (gate JobSetWorkloadAwareSchedulingAPI): GET the " +
          "JobSet's Workload by name, create it, delete it on suspend, finish or drift",
      ],
    },
    {
      apiGroups: ["scheduling.k8s.io"],
      resources: ["podgroups"],
      verbs: ["get", "create", "delete"],
      usedBy: [
        "src/controllers/jobset/scheduling-objects.ts: spec.scheduling: GET the JobSet's PodGroups by name, create them, " +
          "delete them on suspend, finish or drift",
      ],
    },
    {
      apiGroups: ["events.k8s.io"],
      resources: ["events"],
      verbs: ["create", "patch"],
      usedBy: ["src/runtime/events.ts: events.k8s.io/v1 recorder (create; merge patch of series on repeats)"],
    },
  ],
};

/** The built-in certificate rotation (spec §9.7): CA injection into the two webhook configurations. */
export const certRotationRole: RoleDef = {
  kind: "ClusterRole",
  name: "jobset-cert-rotation-role",
  helmSuffix: "cert-rotation-role",
  summary: "the built-in certificate manager injects its CA into the two webhook configurations",
  boundToController: true,
  internalCertsOnly: true,
  rules: [
    {
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["mutatingwebhookconfigurations"],
      resourceNames: [MutatingConfigurationName],
      verbs: ["get", "update"],
      usedBy: ["src/webhooks/certs.ts: inject() reads the configuration and updates caBundle"],
    },
    {
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["validatingwebhookconfigurations"],
      resourceNames: [ValidatingConfigurationName],
      verbs: ["get", "update"],
      usedBy: ["src/webhooks/certs.ts: inject() reads the configuration and updates caBundle"],
    },
  ],
};

/** The built-in certificate rotation: the Secret holding CA and serving certificate (install namespace). */
export const secretsRole: RoleDef = {
  kind: "Role",
  name: "jobset-manager-secrets-role",
  helmSuffix: "manager-secrets-role",
  summary: "the built-in certificate manager keeps CA and serving certificate in one Secret",
  boundToController: true,
  internalCertsOnly: true,
  rules: [
    {
      apiGroups: [""],
      resources: ["secrets"],
      resourceNames: [WebhookSecretName],
      verbs: ["get", "update"],
      usedBy: ["src/webhooks/certs.ts: readSecret() GET, rotation PUT (resourceVersion arbitrates between replicas)"],
    },
    {
      apiGroups: [""],
      resources: ["secrets"],
      verbs: ["create"],
      usedBy: ["src/webhooks/certs.ts: first start creates the Secret (create cannot be limited by name)"],
    },
  ],
};

/** Leader election (spec §9.5), in the install namespace. */
export const leaderElectionRole: RoleDef = {
  kind: "Role",
  name: "jobset-leader-election-role",
  helmSuffix: "leader-election-role",
  summary: "leader election through one Lease",
  boundToController: true,
  rules: [
    {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      resourceNames: [LeaseName],
      verbs: ["get", "update"],
      usedBy: ["src/runtime/leader-election.ts: KubeLeaseStore get/update (acquire, renew, release)"],
    },
    {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      verbs: ["create"],
      usedBy: ["src/runtime/leader-election.ts: KubeLeaseStore create (first leader)"],
    },
  ],
};

/** Authentication and authorization of /metrics callers (spec §9.1). */
export const metricsAuthRole: RoleDef = {
  kind: "ClusterRole",
  name: "jobset-metrics-auth-role",
  helmSuffix: "metrics-auth-role",
  summary: "the metrics server checks callers with TokenReview and SubjectAccessReview",
  boundToController: true,
  rules: [
    {
      apiGroups: ["authentication.k8s.io"],
      resources: ["tokenreviews"],
      verbs: ["create"],
      usedBy: ["src/runtime/metrics.ts: kubeMetricsAuthorizer TokenReview"],
    },
    {
      apiGroups: ["authorization.k8s.io"],
      resources: ["subjectaccessreviews"],
      verbs: ["create"],
      usedBy: ["src/runtime/metrics.ts: kubeMetricsAuthorizer SubjectAccessReview (get /metrics)"],
    },
  ],
};

/** For scrapers (Prometheus): bind it to the scraper's ServiceAccount. */
export const metricsReaderRole: RoleDef = {
  kind: "ClusterRole",
  name: "jobset-metrics-reader",
  helmSuffix: "metrics-reader",
  summary: "read /metrics of the controller (bind to your Prometheus ServiceAccount)",
  boundToController: false,
  rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"], usedBy: ["scrapers of the metrics endpoint"] }],
};

/** User-facing roles, aggregated into the built-in admin/edit/view ClusterRoles. */
export const editorRole: RoleDef = {
  kind: "ClusterRole",
  name: "jobset-editor-role",
  helmSuffix: "editor-role",
  summary: "users who manage JobSets (aggregated into admin and edit)",
  labels: {
    "rbac.authorization.k8s.io/aggregate-to-admin": "true",
    "rbac.authorization.k8s.io/aggregate-to-edit": "true",
  },
  boundToController: false,
  rules: [
    {
      apiGroups: ["jobset.x-k8s.io"],
      resources: ["jobsets"],
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
      usedBy: ["users"],
    },
    { apiGroups: ["jobset.x-k8s.io"], resources: ["jobsets/status"], verbs: ["get"], usedBy: ["users"] },
  ],
};

export const viewerRole: RoleDef = {
  kind: "ClusterRole",
  name: "jobset-viewer-role",
  helmSuffix: "viewer-role",
  summary: "users who read JobSets (aggregated into view)",
  labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" },
  boundToController: false,
  rules: [
    { apiGroups: ["jobset.x-k8s.io"], resources: ["jobsets"], verbs: ["get", "list", "watch"], usedBy: ["users"] },
    { apiGroups: ["jobset.x-k8s.io"], resources: ["jobsets/status"], verbs: ["get"], usedBy: ["users"] },
  ],
};

export const Roles: readonly RoleDef[] = [
  managerRole,
  certRotationRole,
  secretsRole,
  leaderElectionRole,
  metricsAuthRole,
  metricsReaderRole,
  editorRole,
  viewerRole,
];

// ---------------------------------------------------------------------------------------------- render

type Flavour = "kustomize" | "helm";

/** The rules as the API wants them (no usedBy), resource names resolved for the flavour. */
export function apiRules(role: RoleDef, flavour: Flavour): Record<string, unknown>[] {
  return role.rules.map((r) => {
    const out: Record<string, unknown> = {};
    if (r.apiGroups) out.apiGroups = [...r.apiGroups];
    if (r.resources) out.resources = [...r.resources];
    if (r.resourceNames) out.resourceNames = r.resourceNames.map((n) => (typeof n === "string" ? n : n[flavour]));
    if (r.nonResourceURLs) out.nonResourceURLs = [...r.nonResourceURLs];
    out.verbs = [...r.verbs];
    return out;
  });
}

/** The kustomize manifest of a role (namespace of Roles comes from the kustomization). */
export function roleManifest(role: RoleDef): Record<string, unknown> {
  const metadata: Record<string, unknown> = { name: role.name };
  if (role.labels) metadata.labels = { ...role.labels };
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind: role.kind, metadata, rules: apiRules(role, "kustomize") };
}

const yaml = (o: unknown) => stringify(o, { lineWidth: 0 });

const kustomizeHeader =
  "# Generated by scripts/rbac.ts (the one definition of the controller's permissions). Do not edit:\n" +
  "# change scripts/rbac.ts and run `npx node scripts/generate-deploy.ts`. Why each rule exists: docs/rbac.md.\n";

/** config/rbac/<file> → content. */
export function kustomizeFiles(): Record<string, string> {
  const group = (file: string, roles: RoleDef[]) => [
    `config/rbac/${file}`,
    kustomizeHeader + roles.map((r) => `---\n${yaml(roleManifest(r))}`).join(""),
  ];
  return Object.fromEntries([
    group("role.yaml", [managerRole]),
    group("cert_rotation_role.yaml", [certRotationRole, secretsRole]),
    group("leader_election_role.yaml", [leaderElectionRole]),
    group("metrics_auth_role.yaml", [metricsAuthRole]),
    group("metrics_reader_role.yaml", [metricsReaderRole]),
    group("jobset_user_roles.yaml", [editorRole, viewerRole]),
  ]);
}

/** Helm named templates `jobset.rules.<suffix>`: the rules of each role, for the chart's RBAC templates. */
export function helmRulesTemplate(): string {
  const parts = [
    "{{/*",
    "Generated by scripts/rbac.ts (the one definition of the controller's permissions). Do not edit:",
    "change scripts/rbac.ts and run `npx node scripts/generate-deploy.ts`. Why each rule exists: docs/rbac.md.",
    "*/}}",
  ];
  for (const role of Roles) {
    parts.push(`{{/* ${role.summary} */}}`);
    parts.push(`{{- define "jobset.rules.${role.helmSuffix}" -}}`);
    parts.push(yaml(apiRules(role, "helm")).trimEnd());
    parts.push("{{- end }}");
    parts.push("");
  }
  return `${parts.join("\n")}`;
}
