// How long kube-apiserver still holds creates of a kind whose CRD was just established (2 s from the
// Established condition's time, which has whole seconds).
import assert from "node:assert/strict";
import { test } from "node:test";
import { type CrdObject, createHoldMs } from "../../src/local/crds.ts";

const crd = (conditions: NonNullable<CrdObject["status"]>["conditions"]): CrdObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "jobsets.jobset.x-k8s.io" },
  status: { conditions },
});
const at = Date.parse("2026-12-03T21:15:05Z");
const established = crd([
  { type: "NamesAccepted", status: "True", lastTransitionTime: "2026-12-03T21:15:04Z" },
  { type: "Established", status: "True", lastTransitionTime: "2026-12-03T21:15:05Z" },
]);

test("the hold lasts until 2 s after the Established time", () => {
  assert.equal(createHoldMs(established, at), 2000);
  assert.equal(createHoldMs(established, at + 1250), 750);
  assert.equal(createHoldMs(established, at + 1999), 1);
  assert.equal(createHoldMs(established, at + 2000), 0);
  assert.equal(createHoldMs(established, at + 60_000), 0);
});

test("no hold without an Established=True condition with a time", () => {
  assert.equal(createHoldMs(crd(undefined), at), 0);
  assert.equal(
    createHoldMs(crd([{ type: "Established", status: "False", lastTransitionTime: "2026-12-03T21:15:05Z" }]), at),
    0,
  );
  assert.equal(createHoldMs(crd([{ type: "Established", status: "True" }]), at), 0);
  assert.equal(
    createHoldMs(crd([{ type: "NamesAccepted", status: "True", lastTransitionTime: "2026-12-03T21:15:05Z" }]), at),
    0,
  );
});
