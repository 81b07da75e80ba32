// The rows of the webhook fidelity tables (issue 15): a request and upstream's complete answer (allowed,
// code, message, details, patch). test/unit/webhook-fidelity.test.ts sends them to our webhook server;
// test/compat/upstream-webhook.test.ts sends them to upstream's own (sigs.k8s.io/jobset v0.12.0), so every
// expected answer here is upstream's, checked against upstream itself.
import type { AdmissionRequest, AdmissionResponse } from "../../src/webhooks/admission.ts";
import { Paths } from "../../src/webhooks/configurations.ts";

type Obj = Record<string, unknown>;

const container = (resources?: Obj, image = "busybox"): Obj => ({
  name: "c",
  image,
  ...(resources ? { resources } : {}),
});
/** A JobSet as the API server sends it (CRD defaults applied), with one replicated job. */
const jobset = (o: { resources?: Obj; image?: string; managedBy?: string; name?: string } = {}): Obj => ({
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { name: o.name ?? "js", namespace: "ns" },
  spec: {
    replicatedJobs: [
      {
        name: "a",
        groupName: "default",
        replicas: 1,
        template: { spec: { template: { spec: { containers: [container(o.resources, o.image)] } } } },
      },
    ],
    ...(o.managedBy !== undefined ? { managedBy: o.managedBy } : {}),
    // Set by the mutating webhook, which runs first; upstream's validation dereferences it (row below).
    successPolicy: { operator: "All" },
  },
});

const invalid = (name: string, causes: { reason: string; message: string; field: string }[], message: string) => ({
  metadata: {},
  status: "Failure",
  message,
  reason: "Invalid",
  details: { ...(name ? { name } : {}), group: "jobset.x-k8s.io", kind: "JobSet", causes },
  code: 422,
});

export interface Row {
  name: string;
  /** Upstream's server in the compat test needs an API server for this row (a PVC look-up): not sent there. */
  needsCluster?: boolean;
  /**
   * Where upstream's server in the compat test (sigs.k8s.io/jobset v0.12.0, the newest release the Go module
   * proxy serves) answers otherwise: its answer, and why ours differs — a deliberate deviation, or a change
   * upstream made after v0.12.0 that the behavior spec (upstream after v0.13.0) describes.
   */
  upstreamDiffers?: { answer: Omit<AdmissionResponse, "uid">; why: string };
  path: string;
  request: Partial<AdmissionRequest> & Pick<AdmissionRequest, "operation">;
  want: Omit<AdmissionResponse, "uid">;
}

const dns1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const dns1123 =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const changedImage =
  '[{"name":"a","groupName":"default","template":{"metadata":{},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"c","image":"other","resources":{}}]}}}},"replicas":1}]';

/** The two causes of `network.subdomain: "Bad_"` (RFC 1123 subdomain, then RFC 1035 label). */
const badSubdomain = [
  { reason: "FieldValueInvalid", message: `Invalid value: "Bad_": ${dns1123}`, field: "spec.network.subdomain" },
  { reason: "FieldValueInvalid", message: `Invalid value: "Bad_": ${dns1035}`, field: "spec.network.subdomain" },
];

export const rows: Row[] = [
  {
    name: "item 1: memory 1024Mi → 1Gi on UPDATE is the same quantity",
    path: Paths.ValidateJobSet,
    request: {
      operation: "UPDATE",
      object: jobset({ resources: { requests: { memory: "1Gi" } } }),
      oldObject: jobset({ resources: { requests: { memory: "1024Mi" } } }),
    },
    want: { allowed: true, status: { metadata: {}, code: 200 } },
  },
  {
    name: "item 1: cpu 1000m → 1 and {} resources → absent on UPDATE",
    path: Paths.ValidateJobSet,
    request: {
      operation: "UPDATE",
      object: jobset({ resources: { limits: { cpu: "1" }, requests: {} } }),
      oldObject: jobset({ resources: { limits: { cpu: "1000m" } } }),
    },
    want: { allowed: true, status: { metadata: {}, code: 200 } },
  },
  {
    name: "item 1: a real change is refused, the value rendered as Go's json of the typed list",
    path: Paths.ValidateJobSet,
    request: { operation: "UPDATE", object: jobset({ image: "other" }), oldObject: jobset() },
    want: {
      allowed: false,
      status: invalid(
        "js",
        [
          {
            reason: "FieldValueInvalid",
            message: `Invalid value: ${changedImage}: field is immutable`,
            field: "spec.replicatedJobs",
          },
        ],
        `JobSet.jobset.x-k8s.io "js" is invalid: spec.replicatedJobs: Invalid value: ${changedImage}: field is immutable`,
      ),
    },
  },
  {
    name: 'item 3: removing managedBy: "" on UPDATE is refused',
    path: Paths.ValidateJobSet,
    request: { operation: "UPDATE", object: jobset(), oldObject: jobset({ managedBy: "" }) },
    want: {
      allowed: false,
      status: invalid(
        "js",
        [{ reason: "FieldValueInvalid", message: "Invalid value: null: field is immutable", field: "spec.managedBy" }],
        'JobSet.jobset.x-k8s.io "js" is invalid: spec.managedBy: Invalid value: null: field is immutable',
      ),
    },
  },
  {
    name: "item 4: no name (generateName seen by an old API server) → details.name omitted, causes use reason",
    path: Paths.ValidateJobSet,
    request: {
      operation: "CREATE",
      object: {
        ...jobset(),
        metadata: { generateName: "gen-", namespace: "ns" },
        spec: { ...(jobset().spec as Obj), network: { subdomain: "Bad_" } },
      },
    },
    want: {
      allowed: false,
      status: invalid(
        "",
        badSubdomain,
        `JobSet.jobset.x-k8s.io "" is invalid: [spec.network.subdomain: Invalid value: "Bad_": ${dns1123}, spec.network.subdomain: Invalid value: "Bad_": ${dns1035}]`,
      ),
    },
    upstreamDiffers: {
      answer: {
        allowed: false,
        status: invalid(
          "",
          [
            ...badSubdomain,
            {
              reason: "FieldValueInvalid",
              message: `Invalid value: "-a-0": ${dns1035}`,
              field: "spec.replicatedJobs[0].name",
            },
          ],
          `JobSet.jobset.x-k8s.io "" is invalid: [spec.network.subdomain: Invalid value: "Bad_": ${dns1123}, spec.network.subdomain: Invalid value: "Bad_": ${dns1035}, spec.replicatedJobs[0].name: Invalid value: "-a-0": ${dns1035}]`,
        ),
      },
      why:
        'v0.12.0 checks the child Job names built from the empty name ("-a-0"); since #1267 (after v0.13.0) ' +
        "upstream builds them from a name derived from generateName, which the behavior spec follows",
    },
  },
  {
    name: "item 5: the coordinator label length is counted in bytes",
    path: Paths.ValidateJobSet,
    request: {
      operation: "CREATE",
      object: {
        ...jobset({ name: "j".repeat(40) }),
        spec: {
          ...(jobset().spec as Obj),
          replicatedJobs: [
            {
              name: "a",
              groupName: "default",
              replicas: 1,
              template: {
                spec: {
                  completionMode: "Indexed",
                  completions: 1,
                  template: { spec: { containers: [container()] } },
                },
              },
            },
          ],
          coordinator: { replicatedJob: "a" },
        },
      },
    },
    want: {
      allowed: false,
      status: invalid(
        "j".repeat(40),
        [
          {
            reason: "InternalError",
            message: `Internal error: spec will lead to invalid label value "${"j".repeat(40)}-a-0-0.${"j".repeat(40)}" for coordinator label "jobset.sigs.k8s.io/coordinator" (long JobSet / ReplicatedJob / SubDomain name?): must be no more than 63 bytes`,
            field: "<nil>",
          },
        ],
        `JobSet.jobset.x-k8s.io "${"j".repeat(40)}" is invalid: <nil>: Internal error: spec will lead to invalid label value "${"j".repeat(40)}-a-0-0.${"j".repeat(40)}" for coordinator label "jobset.sigs.k8s.io/coordinator" (long JobSet / ReplicatedJob / SubDomain name?): must be no more than 63 bytes`,
      ),
    },
  },
  {
    name: "item 5: a type error in the mutating webhook uses Go's json wording",
    path: Paths.MutateJobSet,
    request: {
      operation: "CREATE",
      object: { ...jobset(), spec: { replicatedJobs: [{ name: "a", replicas: "2", template: {} }] } },
    },
    want: {
      allowed: false,
      status: {
        metadata: {},
        message:
          "json: cannot unmarshal string into Go struct field ReplicatedJob.spec.replicatedJobs.replicas of type int32",
        code: 400,
      },
    },
  },
  {
    name: "item 6: an invalid claim template name gives only the validation error (no PVC look-up)",
    needsCluster: true,
    path: Paths.ValidateJobSet,
    request: {
      operation: "CREATE",
      object: {
        ...jobset(),
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
                      containers: [{ name: "c", image: "i", volumeMounts: [{ name: "Data", mountPath: "/d" }] }],
                    },
                  },
                },
              },
            },
          ],
          volumeClaimPolicies: [{ templates: [{ metadata: { name: "Data" }, spec: {} }] }],
        },
      },
    },
    want: {
      allowed: false,
      status: invalid(
        "js",
        [
          {
            reason: "FieldValueInvalid",
            message: `Invalid value: "Data": ${dns1123}`,
            field: "spec.volumeClaimPolicies[0].template[0].name",
          },
        ],
        `JobSet.jobset.x-k8s.io "js" is invalid: spec.volumeClaimPolicies[0].template[0].name: Invalid value: "Data": ${dns1123}`,
      ),
    },
  },
  {
    name: 'item 7: raw input without groupName is validated as "" and refused',
    path: Paths.ValidateJobSet,
    request: {
      operation: "CREATE",
      object: {
        ...jobset(),
        spec: {
          replicatedJobs: [{ name: "a", template: { spec: { template: { spec: { containers: [container()] } } } } }],
          successPolicy: { operator: "All" },
        },
      },
    },
    want: {
      allowed: false,
      status: invalid(
        "js",
        [
          {
            reason: "FieldValueInvalid",
            message: `Invalid value: "": ${dns1035}`,
            field: "spec.replicatedJobs[0].groupName",
          },
        ],
        `JobSet.jobset.x-k8s.io "js" is invalid: spec.replicatedJobs[0].groupName: Invalid value: "": ${dns1035}`,
      ),
    },
  },
  {
    name: "item 7: an unknown apiVersion is a 400 from the decoder",
    path: Paths.ValidateJobSet,
    request: { operation: "CREATE", object: { ...jobset(), apiVersion: "jobset.x-k8s.io/v1" } },
    want: {
      allowed: false,
      status: {
        metadata: {},
        message:
          'no kind "JobSet" is registered for version "jobset.x-k8s.io/v1" in scheme "pkg/runtime/scheme.go:111"',
        code: 400,
      },
    },
  },
  {
    name: "item 7: an unknown apiVersion is a 400 from the mutating webhook too",
    path: Paths.MutateJobSet,
    request: { operation: "CREATE", object: { ...jobset(), apiVersion: "jobset.x-k8s.io/v1beta1" } },
    want: {
      allowed: false,
      status: {
        metadata: {},
        message:
          'no kind "JobSet" is registered for version "jobset.x-k8s.io/v1beta1" in scheme "pkg/runtime/scheme.go:111"',
        code: 400,
      },
    },
  },
  {
    name: "item 7: a kind the scheme knows (batch/v1 Job) is decoded, then refused as not a JobSet",
    path: Paths.MutateJobSet,
    request: { operation: "CREATE", object: { ...jobset(), apiVersion: "batch/v1", kind: "Job" } },
    want: {
      allowed: false,
      status: { metadata: {}, message: "unable to decode batch/v1, Kind=Job into *v1alpha2.JobSet", code: 400 },
    },
  },
  {
    name: "item 7: a core kind shows its empty group (/v1), on the validating webhook too",
    path: Paths.ValidateJobSet,
    request: { operation: "CREATE", object: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } } },
    want: {
      allowed: false,
      status: { metadata: {}, message: "unable to decode /v1, Kind=Pod into *v1alpha2.JobSet", code: 400 },
    },
  },
  {
    name: "item 7: the JobSet API's list kind and the configuration API are in the scheme too",
    path: Paths.ValidateJobSet,
    request: { operation: "CREATE", object: { apiVersion: "config.jobset.x-k8s.io/v1alpha1", kind: "Configuration" } },
    want: {
      allowed: false,
      status: {
        metadata: {},
        message: "unable to decode config.jobset.x-k8s.io/v1alpha1, Kind=Configuration into *v1alpha2.JobSet",
        code: 400,
      },
    },
  },
  {
    name: "raw input without successPolicy: validated as {operator: All} (upstream dereferences the nil policy)",
    path: Paths.ValidateJobSet,
    request: {
      operation: "CREATE",
      object: { ...jobset(), spec: { ...(jobset().spec as Obj), successPolicy: undefined } },
    },
    want: { allowed: true, status: { metadata: {}, code: 200 } },
    upstreamDiffers: {
      answer: {
        allowed: false,
        status: {
          metadata: {},
          message: "panic: runtime error: invalid memory address or nil pointer dereference [recovered]",
          code: 500,
        },
      },
      why:
        "upstream reads spec.successPolicy.targetReplicatedJobs without a nil check (the behavior spec, §3: " +
        '"assumes successPolicy non-nil; always true after defaulting"); only a direct call can send such a ' +
        "JobSet, and a 500 panic helps nobody, so it is validated as the default {operator: All}",
    },
  },
];
