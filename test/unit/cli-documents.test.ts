// Where a field is in a manifest: the positions `jobset lint`, `plan` and `run` report (FILE:LINE:COL).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fieldPathSteps, parseDocuments } from "../../src/cli/documents.ts";

describe("field path steps", () => {
  test("names, list indices and map keys", () => {
    assert.deepEqual(fieldPathSteps("spec.replicatedJobs[0].replicas"), ["spec", "replicatedJobs", 0, "replicas"]);
    assert.deepEqual(fieldPathSteps("metadata.labels[jobset.sigs.k8s.io/job-key]"), [
      "metadata",
      "labels",
      "jobset.sigs.k8s.io/job-key",
    ]);
    assert.deepEqual(fieldPathSteps("spec.failurePolicy.rules[1].onJobFailureReasons[0]"), [
      "spec",
      "failurePolicy",
      "rules",
      1,
      "onJobFailureReasons",
      0,
    ]);
    assert.deepEqual(fieldPathSteps("spec"), ["spec"]);
    assert.deepEqual(fieldPathSteps(""), []);
    assert.deepEqual(fieldPathSteps("<nil>"), ["<nil>"]);
  });
});

const yaml = `# a comment
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: Bad_Name
  labels:
    example.com/team: ml
spec:
  replicatedJobs:
  - name: a
    replicas: 2
  - name: b
    replicas: -1
    template: {spec: {parallelism: 3}}
  network:
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
`;

describe("locating fields", () => {
  const { documents, errors } = parseDocuments("f.yaml", yaml);
  const [js, cm] = documents;
  assert.deepEqual(errors, []);
  assert.ok(js && cm);

  test("each document starts where its content does, as lines of the whole file", () => {
    assert.deepEqual(js.start, { line: 2, column: 1 });
    assert.deepEqual(cm.start, { line: 17, column: 1 });
    assert.equal(cm.index, 2);
  });

  test("a field present in the file: its value", () => {
    assert.deepEqual(js.locate("metadata.name"), { line: 5, column: 9 });
    assert.deepEqual(js.locate("spec.replicatedJobs[1].replicas"), { line: 13, column: 15 });
    assert.deepEqual(js.locate("spec.replicatedJobs[0].name"), { line: 10, column: 11 });
    assert.deepEqual(js.locate("metadata.labels[example.com/team]"), { line: 7, column: 23 });
    // in flow style too
    assert.deepEqual(js.locate("spec.replicatedJobs[1].template.spec.parallelism"), { line: 14, column: 36 });
    assert.deepEqual(cm.locate("metadata.name"), { line: 19, column: 18 });
  });

  test("a field the file leaves out: the nearest enclosing one it has", () => {
    // defaulted by the API server, absent here
    assert.deepEqual(js.locate("spec.replicatedJobs[1].template.spec.completionMode"), { line: 14, column: 22 });
    assert.deepEqual(js.locate("spec.replicatedJobs[5].replicas"), { line: 10, column: 3 });
    assert.deepEqual(js.locate("spec.successPolicy.operator"), { line: 9, column: 3 });
    // `network:` with nothing after it: the key
    assert.deepEqual(js.locate("spec.network.subdomain"), { line: 15, column: 3 });
  });

  test("no field, or none the document has: the document's start", () => {
    assert.deepEqual(js.locate("<nil>"), js.start);
    assert.deepEqual(js.locate(""), js.start);
    assert.deepEqual(js.locate("status.restarts"), js.start);
  });
});
