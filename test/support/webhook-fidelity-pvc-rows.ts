// The rows of the PVC fidelity table (issue 15 item 6): JobSets whose volume claim templates meet existing
// PVCs, and upstream's complete answers. test/unit/webhook-fidelity-pvc.test.ts sends them to our server
// (PVCs from an informer over an in-memory list); test/compat/upstream-webhook-cluster.test.ts sends them to
// upstream's server and ours, both reading the PVCs from a real API server.
import type { PersistentVolumeClaim } from "../../src/api/k8s.ts";
import type { AdmissionRequest, AdmissionResponse } from "../../src/webhooks/admission.ts";

type Obj = Record<string, unknown>;

/** A PVC as the table's cluster holds it. */
export const pvc = (name: string, namespace: string, storage: string): PersistentVolumeClaim => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: {
    name,
    namespace,
    uid: `uid-${name}`,
    resourceVersion: "3",
    labels: { "jobset.sigs.k8s.io/jobset-name": "js" },
    annotations: { "pv.kubernetes.io/bind-completed": "yes" },
    managedFields: [{ manager: "kube-controller-manager", operation: "Update" }],
  },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } }, volumeMode: "Filesystem" },
  status: { phase: "Bound", capacity: { storage } },
});

/** The PVCs every row is answered against. */
export const existingPvcs = (): PersistentVolumeClaim[] => [
  pvc("data-js", "ns", "1Gi"),
  pvc("data-other", "ns", "1Gi"),
];

/** A JobSet as the validating webhook receives it, mounting `data`, with one claim template. */
const jobset = (template: { name: string; storage: string }, whenDeleted: "Delete" | "Retain"): Obj => ({
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { name: "js", namespace: "ns" },
  spec: {
    replicatedJobs: [
      {
        name: "a",
        groupName: "default",
        replicas: 1,
        template: {
          spec: {
            template: {
              spec: {
                containers: [{ name: "c", image: "i", volumeMounts: [{ name: template.name, mountPath: "/d" }] }],
              },
            },
          },
        },
      },
    ],
    volumeClaimPolicies: [
      {
        templates: [
          {
            metadata: { name: template.name },
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: template.storage } },
              volumeMode: "Filesystem",
            },
          },
        ],
        retentionPolicy: { whenDeleted },
      },
    ],
    // Set by the mutating webhook, which runs first (upstream's validation dereferences it).
    successPolicy: { operator: "All" },
  },
});

const invalid = (causes: { reason: string; message: string; field: string }[], message: string) => ({
  metadata: {},
  status: "Failure",
  message: `JobSet.jobset.x-k8s.io "js" is invalid: ${message}`,
  reason: "Invalid",
  details: { name: "js", group: "jobset.x-k8s.io", kind: "JobSet", causes },
  code: 422,
});

const dns1123 =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const mustRetain = 'Invalid value: "Delete": retentionPolicy must be retain when PVC exists';
const mismatch =
  'Invalid value: {"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"2Gi"}},"volumeMode":"Filesystem"}: spec does not match existing PVC data-js in namespace ns';
const mismatch1Gi = mismatch.replace('"2Gi"', '"1Gi"');

export interface PvcRow {
  name: string;
  request: Partial<AdmissionRequest> & Pick<AdmissionRequest, "operation">;
  want: Omit<AdmissionResponse, "uid">;
}

export const pvcRows: PvcRow[] = [
  {
    name: "an invalid claim template name: only the validation error (no internal error)",
    request: { operation: "CREATE", object: jobset({ name: "Data", storage: "1Gi" }, "Retain") },
    want: {
      allowed: false,
      status: invalid(
        [
          {
            reason: "FieldValueInvalid",
            message: `Invalid value: "Data": ${dns1123}`,
            field: "spec.volumeClaimPolicies[0].template[0].name",
          },
        ],
        `spec.volumeClaimPolicies[0].template[0].name: Invalid value: "Data": ${dns1123}`,
      ),
    },
  },
  {
    name: "no PVC of that name in the cache: allowed",
    request: { operation: "CREATE", object: jobset({ name: "scratch", storage: "1Gi" }, "Delete") },
    want: { allowed: true, status: { metadata: {}, code: 200 } },
  },
  {
    name: "a PVC of that name in another namespace is not this JobSet's",
    request: {
      operation: "CREATE",
      namespace: "other",
      object: { ...jobset({ name: "data", storage: "1Gi" }, "Delete"), metadata: { name: "js", namespace: "other" } },
    },
    want: { allowed: true, status: { metadata: {}, code: 200 } },
  },
  {
    name: "the existing PVC with the same spec, Retain: allowed",
    request: { operation: "CREATE", object: jobset({ name: "data", storage: "1Gi" }, "Retain") },
    want: { allowed: true, status: { metadata: {}, code: 200 } },
  },
  {
    // Upstream compares the specs with reflect.DeepEqual, under which a Quantity keeps the text it was parsed
    // from only when that text is canonical: "1024Mi" is not "1Gi" (checked against upstream's server). Through
    // the API server the mutating webhook has rewritten the template to "1Gi" first, so such a JobSet passes.
    name: "the same size spelled 1024Mi in a direct call: a different spec (reflect.DeepEqual), Retain",
    request: { operation: "CREATE", object: jobset({ name: "data", storage: "1024Mi" }, "Retain") },
    want: {
      allowed: false,
      status: invalid(
        [{ reason: "FieldValueInvalid", message: mismatch1Gi, field: "spec.volumeClaimPolicies[0].template[0].spec" }],
        `spec.volumeClaimPolicies[0].template[0].spec: ${mismatch1Gi}`,
      ),
    },
  },
  {
    name: "the existing PVC with retention Delete: refused",
    request: { operation: "CREATE", object: jobset({ name: "data", storage: "1Gi" }, "Delete") },
    want: {
      allowed: false,
      status: invalid(
        [
          {
            reason: "FieldValueInvalid",
            message: mustRetain,
            field: "spec.volumeClaimPolicies[0].retentionPolicy.whenDeleted",
          },
        ],
        `spec.volumeClaimPolicies[0].retentionPolicy.whenDeleted: ${mustRetain}`,
      ),
    },
  },
  {
    name: "the existing PVC with another size and retention Delete: both errors",
    request: { operation: "CREATE", object: jobset({ name: "data", storage: "2Gi" }, "Delete") },
    want: {
      allowed: false,
      status: invalid(
        [
          { reason: "FieldValueInvalid", message: mismatch, field: "spec.volumeClaimPolicies[0].template[0].spec" },
          {
            reason: "FieldValueInvalid",
            message: mustRetain,
            field: "spec.volumeClaimPolicies[0].retentionPolicy.whenDeleted",
          },
        ],
        `[spec.volumeClaimPolicies[0].template[0].spec: ${mismatch}, spec.volumeClaimPolicies[0].retentionPolicy.whenDeleted: ${mustRetain}]`,
      ),
    },
  },
];
