import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultJobSet } from "../../src/api/defaults.ts";
import { constructPVC, constructPVCs, pvcName, pvcOwnedByJobSet } from "../../src/controller/pvc.ts";
import { jobSet, rjob } from "../builders.ts";

const owner = {
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  name: "js",
  uid: "u",
  controller: true,
  blockOwnerDeletion: true,
};
const spec = { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } };

describe("PVCs of volumeClaimPolicies (spec §4.4)", () => {
  test("name is <template>-<jobset>", () => {
    assert.equal(pvcName("js", "data"), "data-js");
    assert.equal(pvcName(jobSet("my-js").obj(), "ckpt"), "ckpt-my-js");
  });
  test("Delete: labels + jobset-name, annotations, spec, controller ownerReference", () => {
    const js = jobSet("js", "ns")
      .uid("u")
      .volumeClaimPolicy(
        [{ metadata: { name: "data", labels: { tier: "x" }, annotations: { note: "y" } }, spec }],
        "Delete",
      )
      .obj();
    assert.deepEqual(constructPVCs(js), [
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: {
          name: "data-js",
          namespace: "ns",
          labels: { tier: "x", "jobset.sigs.k8s.io/jobset-name": "js" },
          annotations: { note: "y" },
          ownerReferences: [owner],
        },
        spec,
      },
    ]);
  });
  test("Retain: no ownerReference; no annotations when the template has none", () => {
    const js = jobSet("js", "ns")
      .uid("u")
      .volumeClaimPolicy([{ metadata: { name: "data" }, spec }], "Retain")
      .obj();
    const [pvc] = constructPVCs(js);
    assert.equal(pvc?.metadata?.ownerReferences, undefined);
    assert.equal(pvc?.metadata?.annotations, undefined);
    assert.deepEqual(pvc?.metadata?.labels, { "jobset.sigs.k8s.io/jobset-name": "js" });
  });
  test("nil retentionPolicy: no ownerReference (the webhook defaults it to Delete)", () => {
    const raw = jobSet("js", "ns")
      .uid("u")
      .volumeClaimPolicy([{ metadata: { name: "data" }, spec }])
      .obj();
    const policy = raw.spec?.volumeClaimPolicies?.[0];
    assert.ok(policy);
    assert.equal(pvcOwnedByJobSet(policy), false);
    assert.equal(constructPVCs(raw)[0]?.metadata?.ownerReferences, undefined);
    assert.deepEqual(constructPVCs(defaultJobSet(raw))[0]?.metadata?.ownerReferences, [owner]);
  });
  test("jobset-name label overrides a template label of the same key", () => {
    const js = jobSet("js").volumeClaimPolicy([
      { metadata: { name: "d", labels: { "jobset.sigs.k8s.io/jobset-name": "other" } } },
    ]);
    assert.equal(constructPVCs(js.obj())[0]?.metadata?.labels?.["jobset.sigs.k8s.io/jobset-name"], "js");
  });
  test("policy order, then template order; the template is not modified", () => {
    const js = jobSet("js", "ns")
      .uid("u")
      .volumeClaimPolicy(
        [
          { metadata: { name: "b" }, spec },
          { metadata: { name: "a" }, spec },
        ],
        "Retain",
      )
      .volumeClaimPolicy([{ metadata: { name: "c" }, spec }], "Delete")
      .replicatedJob(rjob("w"))
      .obj();
    const before = structuredClone(js);
    const pvcs = constructPVCs(js);
    assert.deepEqual(
      pvcs.map((p) => [p.metadata?.name, p.metadata?.ownerReferences?.length ?? 0]),
      [
        ["b-js", 0],
        ["a-js", 0],
        ["c-js", 1],
      ],
    );
    assert.deepEqual(js, before);
    const policy = js.spec?.volumeClaimPolicies?.[0];
    const tmpl = policy?.templates?.[0];
    assert.ok(policy && tmpl);
    const pvc = constructPVC(js, policy, tmpl);
    assert.notEqual(pvc.spec, tmpl.spec);
  });
  test("no policies ⇒ no PVCs", () => {
    assert.deepEqual(constructPVCs(jobSet("js").obj()), []);
  });
});
