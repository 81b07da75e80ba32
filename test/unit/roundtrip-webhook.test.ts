// The mutating webhook's patch is upstream's typed round trip (ADR 0013), checked through the real
// webhook server: the patched object for the cases of issue 15 item 2, and their consequences.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import jsonpatch from "fast-json-patch";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { PersistentVolumeClaim } from "../../src/api/k8s.ts";
import { type AdmissionResponse, decodePatch } from "../../src/webhooks/admission.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { review, send } from "../support/admission-client.ts";
import { tlsWebhookServer } from "../support/webhook-server.ts";

const existing = new Map<string, PersistentVolumeClaim>();
const { server: s, caPem } = tlsWebhookServer("test-ca", {
  gates: defaultFeatureGates,
  getPVC: async (ns, name) => existing.get(`${ns}/${name}`),
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
});
const o = { ca: caPem };

async function mutate(object: unknown): Promise<{ response: AdmissionResponse; patched: unknown }> {
  const r = await send(`${s.url}${Paths.MutateJobSet}`, review({ operation: "CREATE", namespace: "ns", object }), o);
  const response = r.response as AdmissionResponse;
  assert.equal(response.allowed, true, JSON.stringify(response.status));
  const ops = decodePatch(response);
  return {
    response,
    patched: jsonpatch.applyPatch(structuredClone(object), ops as jsonpatch.Operation[], true, false).newDocument,
  };
}

async function validate(object: unknown): Promise<AdmissionResponse> {
  const r = await send(`${s.url}${Paths.ValidateJobSet}`, review({ operation: "CREATE", namespace: "ns", object }), o);
  return r.response as AdmissionResponse;
}

/** A JobSet as the API server sends it to the webhook (CRD defaults applied). */
const request = (podSpec: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { name: "js", namespace: "ns" },
  spec: {
    replicatedJobs: [
      { name: "w", groupName: "default", replicas: 1, template: { spec: { template: { spec: podSpec } } } },
    ],
    ...extra,
  },
});

/** The webhook's own defaults, as upstream's Default() writes them. */
const defaults = {
  successPolicy: { operator: "All" },
  startupPolicy: { startupPolicyOrder: "AnyOrder" },
  network: { enableDNSHostnames: true, publishNotReadyAddresses: true },
};

describe("mutating webhook: the Go round trip", () => {
  before(() => s.start());
  after(() => s.stop());

  test('containers: [{}] gets name "", resources {}, both template metadata {} and status {restarts: 0}', async () => {
    const { patched } = await mutate(request({ containers: [{}] }));
    assert.deepEqual(patched, {
      apiVersion: "jobset.x-k8s.io/v1alpha2",
      kind: "JobSet",
      metadata: { name: "js", namespace: "ns" },
      spec: {
        replicatedJobs: [
          {
            name: "w",
            groupName: "default",
            replicas: 1,
            template: {
              metadata: {},
              spec: {
                completionMode: "Indexed",
                template: {
                  metadata: {},
                  spec: { restartPolicy: "OnFailure", containers: [{ name: "", resources: {} }] },
                },
              },
            },
          },
        ],
        ...defaults,
      },
      status: { restarts: 0 },
    });
  });

  test("quantities are normalised (1024Mi → 1Gi, 1000m → 1), init containers get resources {}", async () => {
    const { response, patched } = await mutate(
      request({
        initContainers: [{ name: "i", image: "busybox" }],
        containers: [
          {
            name: "c",
            image: "busybox",
            resources: { requests: { memory: "1024Mi", cpu: "1000m" }, limits: { cpu: "2" } },
          },
        ],
      }),
    );
    const ops = decodePatch(response);
    const base = "/spec/replicatedJobs/0/template/spec/template/spec";
    assert.ok(
      ops.some(
        (p) => p.op === "replace" && p.path === `${base}/containers/0/resources/requests/memory` && p.value === "1Gi",
      ),
      JSON.stringify(ops),
    );
    assert.ok(ops.some((p) => p.path === `${base}/containers/0/resources/requests/cpu` && p.value === "1"));
    assert.ok(!ops.some((p) => p.path.endsWith("/limits/cpu")), "a canonical quantity is left alone");
    const pod = (patched as ReturnType<typeof request>).spec.replicatedJobs[0]?.template.spec.template.spec as Record<
      string,
      unknown
    >;
    assert.deepEqual(pod.initContainers, [{ name: "i", image: "busybox", resources: {} }]);
  });

  test("volume claim templates get spec {} and status {}; the retention policy is defaulted", async () => {
    const { patched } = await mutate(
      request(
        { containers: [{ name: "c", volumeMounts: [{ name: "data", mountPath: "/data" }] }] },
        { volumeClaimPolicies: [{ templates: [{ metadata: { name: "data" } }] }] },
      ),
    );
    assert.deepEqual((patched as { spec: Record<string, unknown> }).spec.volumeClaimPolicies, [
      {
        templates: [{ metadata: { name: "data" }, spec: { resources: {} }, status: {} }],
        retentionPolicy: { whenDeleted: "Delete" },
      },
    ]);
  });

  test("unknown fields, nulls and omitempty zero values stay as sent (upstream drops the scheme's removals)", async () => {
    const obj = request({ containers: [{ name: "c", bogus: 1 }] }, { suspend: null, unknownField: "x" });
    obj.spec.replicatedJobs[0]!.replicas = 0;
    const { response, patched } = await mutate(obj);
    assert.ok(!decodePatch(response).some((p) => p.op === "remove"));
    const spec = (patched as { spec: Record<string, unknown> }).spec;
    assert.equal(spec.suspend, null);
    assert.equal(spec.unknownField, "x");
    assert.equal((spec.replicatedJobs as { replicas: number }[])[0]?.replicas, 0);
  });

  test("a mutated object mutates to an empty patch", async () => {
    const { patched } = await mutate(request({ containers: [{ resources: { limits: { memory: "1.5Gi" } } }] }));
    const again = await mutate(patched);
    assert.equal(again.response.patch, undefined);
  });

  test("a volume claim template spelling an existing PVC's size differently is accepted after mutation", async () => {
    existing.set("ns/data-js", {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-js", namespace: "ns" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    } as PersistentVolumeClaim);
    try {
      const obj = request(
        { containers: [{ name: "c", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] }] },
        {
          volumeClaimPolicies: [
            {
              templates: [
                {
                  metadata: { name: "data" },
                  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1024Mi" } } },
                },
              ],
              retentionPolicy: { whenDeleted: "Retain" },
            },
          ],
        },
      );
      const { patched } = await mutate(obj);
      const v = await validate(patched);
      assert.equal(v.allowed, true, JSON.stringify(v.status));
    } finally {
      existing.clear();
    }
  });

  test("a quantity Go cannot parse is a 400 from the mutating webhook", async () => {
    const r = await send(
      `${s.url}${Paths.MutateJobSet}`,
      review({ operation: "CREATE", object: request({ containers: [{ resources: { limits: { cpu: "1KM" } } }] }) }),
      o,
    );
    assert.equal(r.response?.allowed, false);
    assert.equal(r.response?.status?.code, 400);
    assert.match(r.response?.status?.message ?? "", /quantity's suffix/);
  });
});
