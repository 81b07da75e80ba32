import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Pod } from "../../src/api/k8s.ts";
import { jobSetPodCacheTransform } from "../../src/controllers/pods.ts";
import { dropManagedFields } from "../../src/runtime/transforms.ts";

describe("cache transforms", () => {
  test("dropManagedFields copies only when there is something to drop", () => {
    const plain = { metadata: { name: "a" } };
    assert.equal(dropManagedFields(plain), plain);
    const withMf = { metadata: { name: "a", managedFields: [{ manager: "m" }] } };
    const out = dropManagedFields(withMf);
    assert.deepEqual(out, { metadata: { name: "a" } });
    assert.equal(withMf.metadata.managedFields.length, 1, "the input is not mutated");
  });

  test("the JobSet-pods transform keeps metadata, status and the placement-relevant spec fields only", () => {
    const pod: Pod = {
      metadata: { name: "p", namespace: "ns", labels: { l: "v" }, annotations: { a: "b" } },
      spec: {
        nodeName: "n1",
        nodeSelector: { zone: "z" },
        affinity: { podAffinity: {} },
        tolerations: [{ key: "k", operator: "Exists" }],
        priority: 10,
        schedulingGates: [{ name: "g" }],
        containers: [{ name: "c", image: "busybox", env: [{ name: "E", value: "x".repeat(1000) }] }],
        volumes: [{ name: "v", emptyDir: {} }],
        serviceAccountName: "sa",
      },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }], podIP: "10.0.0.1" },
    };
    const out = jobSetPodCacheTransform(pod) as Pod;
    assert.deepEqual(out.metadata, pod.metadata);
    assert.deepEqual(out.status, pod.status);
    assert.deepEqual(out.spec, {
      containers: [],
      nodeName: "n1",
      nodeSelector: { zone: "z" },
      affinity: { podAffinity: {} },
      tolerations: [{ key: "k", operator: "Exists" }],
      priority: 10,
      schedulingGates: [{ name: "g" }],
    });
    assert.equal(pod.spec?.containers.length, 1, "the input is not mutated");
  });
});
