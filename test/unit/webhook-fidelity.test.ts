// Issue 15: the JobSet webhooks answer as upstream does, request for request, over TLS against the real
// webhook server. Each row is a request and upstream's complete answer (allowed, code, message,
// details). The Go-derived pieces (value renderings, decode errors, Status layout, equality) are each
// checked against Go itself in go-value.test.ts and field-errors.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { PersistentVolumeClaim } from "../../src/api/k8s.ts";
import type { AdmissionRequest, AdmissionResponse } from "../../src/webhooks/admission.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { review, send } from "../support/admission-client.ts";
import { tlsWebhookServer } from "../support/webhook-server.ts";

const pvcLookups: string[] = [];

const { server, caPem } = tlsWebhookServer("fidelity-ca", {
  gates: defaultFeatureGates,
  getPVC: async (ns, name): Promise<PersistentVolumeClaim | undefined> => {
    pvcLookups.push(`${ns}/${name}`);
    throw new Error(`persistentvolumeclaims "${name}" is forbidden`);
  },
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
});

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

interface Row {
  name: string;
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

const rows: Row[] = [
  {
    name: "item 1: memory 1024Mi → 1Gi on UPDATE is the same quantity",
    path: Paths.ValidateJobSet,
    request: {
      operation: "UPDATE",
      object: jobset({ resources: { requests: { memory: "1Gi" } } }),
      oldObject: jobset({ resources: { requests: { memory: "1024Mi" } } }),
    },
    want: { allowed: true, status: { code: 200 } },
  },
  {
    name: "item 1: cpu 1000m → 1 and {} resources → absent on UPDATE",
    path: Paths.ValidateJobSet,
    request: {
      operation: "UPDATE",
      object: jobset({ resources: { limits: { cpu: "1" }, requests: {} } }),
      oldObject: jobset({ resources: { limits: { cpu: "1000m" } } }),
    },
    want: { allowed: true, status: { code: 200 } },
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
        [
          {
            reason: "FieldValueInvalid",
            message: `Invalid value: "Bad_": ${dns1123}`,
            field: "spec.network.subdomain",
          },
          {
            reason: "FieldValueInvalid",
            message: `Invalid value: "Bad_": ${dns1035}`,
            field: "spec.network.subdomain",
          },
        ],
        `JobSet.jobset.x-k8s.io "" is invalid: [spec.network.subdomain: Invalid value: "Bad_": ${dns1123}, spec.network.subdomain: Invalid value: "Bad_": ${dns1035}]`,
      ),
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
        code: 400,
        message:
          "json: cannot unmarshal string into Go struct field ReplicatedJob.spec.replicatedJobs.replicas of type int32",
      },
    },
  },
  {
    name: "item 6: an invalid claim template name gives only the validation error (no PVC look-up)",
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
        code: 400,
        message:
          'no kind "JobSet" is registered for version "jobset.x-k8s.io/v1" in scheme "pkg/runtime/scheme.go:111"',
      },
    },
  },
  {
    name: "item 7: an unknown apiVersion is a 400 from the mutating webhook too",
    path: Paths.MutateJobSet,
    request: { operation: "CREATE", object: { ...jobset(), apiVersion: "batch/v1", kind: "Job" } },
    want: {
      allowed: false,
      status: {
        code: 400,
        message: 'no kind "Job" is registered for version "batch/v1" in scheme "pkg/runtime/scheme.go:111"',
      },
    },
  },
];

describe("JobSet webhooks answer as upstream (issue 15)", () => {
  const o = { ca: caPem };
  before(() => server.start());
  after(() => server.stop());

  for (const row of rows) {
    test(row.name, async () => {
      pvcLookups.length = 0;
      const r = await send(`${server.url}${row.path}`, review(row.request), o);
      const { uid: _uid, ...got } = r.response ?? { uid: "" };
      assert.deepEqual(got, row.want);
      assert.deepEqual(pvcLookups, [], "no PVC look-up for these requests");
    });
  }
});
