// The committed CRD is what `npm run generate` produces, and it has the structure the API server and
// kubectl rely on.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CRD_PATH, renderCrdYaml, renderSchemaJson, SCHEMA_JSON_PATH } from "../../scripts/crd-yaml.ts";
import { buildCrd } from "../../src/api/crd.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

type Node = { [key: string]: unknown };
const crd = buildCrd() as Node;
const version = ((crd.spec as Node).versions as Node[])[0] as Node;
const schema = (version.schema as Node).openAPIV3Schema as Node;

/** The schema node at a dotted path; `[]` steps into array items. */
function at(path: string): Node {
  let node = schema;
  for (const step of path.split(".")) {
    for (const part of step.split(/(?=\[\])/)) {
      if (part === "[]") node = node.items as Node;
      else node = (node.properties as Node)[part] as Node;
      assert.ok(node, `no schema at ${path} (${part})`);
    }
  }
  return node;
}

const podSpec = "spec.replicatedJobs[].template.spec.template.spec";

describe("generated CRD", () => {
  test("the committed file is current (run `npm run generate` after changing the API)", () => {
    const committed = readFileSync(join(root, CRD_PATH), "utf8");
    assert.ok(committed === renderCrdYaml(), `${CRD_PATH} is stale: run npm run generate`);
  });

  test("the schema file the runtime checks read is current (run `npm run generate` after changing the API)", () => {
    const committed = readFileSync(join(root, SCHEMA_JSON_PATH), "utf8");
    assert.ok(committed === renderSchemaJson(), `${SCHEMA_JSON_PATH} is stale: run npm run generate`);
  });

  test("rendering is deterministic", () => {
    assert.equal(renderCrdYaml(), renderCrdYaml());
  });

  test("identity", () => {
    assert.equal((crd.metadata as Node).name, "jobsets.jobset.x-k8s.io");
    const spec = crd.spec as Node;
    assert.equal(spec.group, "jobset.x-k8s.io");
    assert.equal(spec.scope, "Namespaced");
    assert.deepEqual(spec.names, { kind: "JobSet", listKind: "JobSetList", plural: "jobsets", singular: "jobset" });
    assert.equal(version.name, "v1alpha2");
    assert.equal(version.served, true);
    assert.equal(version.storage, true);
    assert.deepEqual(version.subresources, { status: {} });
  });

  test("printer columns (spec §1.1)", () => {
    assert.deepEqual(version.additionalPrinterColumns, [
      {
        name: "TerminalState",
        type: "string",
        jsonPath: ".status.terminalState",
        description: "Final state of JobSet",
      },
      { name: "Restarts", type: "string", jsonPath: ".status.restarts", description: "Number of restarts" },
      { name: "Completed", type: "string", jsonPath: '.status.conditions[?(@.type=="Completed")].status' },
      { name: "Suspended", type: "string", jsonPath: ".spec.suspend", description: "JobSet suspended" },
      {
        name: "Age",
        type: "date",
        jsonPath: ".metadata.creationTimestamp",
        description: "Time this JobSet was created",
      },
    ]);
  });

  const listMaps: [string, string[]][] = [
    ["spec.replicatedJobs", ["name"]],
    ["spec.replicatedJobs[].dependsOn", ["name"]],
    ["status.conditions", ["type"]],
    ["status.replicatedJobsStatus", ["name"]],
    [`${podSpec}.containers`, ["name"]],
    [`${podSpec}.containers[].ports`, ["containerPort", "protocol"]],
  ];
  for (const [path, keys] of listMaps) {
    test(`list-map keys of ${path}`, () => {
      assert.equal(at(path)["x-kubernetes-list-type"], "map");
      assert.deepEqual(at(path)["x-kubernetes-list-map-keys"], keys);
    });
  }

  test("CEL rules", () => {
    const rules = (path: string) =>
      ((at(path)["x-kubernetes-validations"] ?? []) as { rule: string; message: string }[]).map((r) => r.message);
    assert.deepEqual(rules("spec"), ["StartupPolicy and DependsOn APIs are mutually exclusive"]);
    assert.deepEqual(rules("spec.volumeClaimPolicies[]"), [
      "namespace cannot be set for VolumeClaimPolicies templates",
    ]);
    for (const path of [
      "spec.network",
      "spec.successPolicy",
      "spec.failurePolicy",
      "spec.startupPolicy",
      "spec.volumeClaimPolicies",
      "spec.replicatedJobs[].dependsOn",
    ]) {
      assert.deepEqual(
        at(path)["x-kubernetes-validations"],
        [{ rule: "self == oldSelf", message: "Value is immutable" }],
        path,
      );
    }
    const text = JSON.stringify(schema);
    assert.equal(text.split('"x-kubernetes-validations"').length - 1, 8, "8 CEL rule lists");
  });

  test("JobSet defaults and bounds", () => {
    assert.equal(at("spec.replicatedJobs[].replicas").default, 1);
    assert.equal(at("spec.replicatedJobs[].replicas").minimum, 0);
    assert.equal(at("spec.replicatedJobs[].groupName").default, "default");
    assert.equal(at("spec.failurePolicy.restartStrategy").default, "Recreate");
    assert.equal(at("spec.volumeClaimPolicies[].retentionPolicy.whenDeleted").default, "Delete");
    assert.equal(at("spec.replicatedJobs[].dependsOn").maxItems, 5);
    assert.deepEqual(at("spec.replicatedJobs[]").required, ["name", "template"]);
  });

  test("embedded Kubernetes schemas", () => {
    assert.equal(at(`${podSpec}.containers[].ports[].protocol`).default, "TCP");
    assert.deepEqual(Object.keys(at("spec.replicatedJobs[].template.metadata").properties as Node), [
      "annotations",
      "finalizers",
      "labels",
      "name",
      "namespace",
    ]);
    const cpu = (at(`${podSpec}.containers[].resources.limits`).additionalProperties ?? {}) as Node;
    assert.equal(cpu["x-kubernetes-int-or-string"], true);
    assert.match(String(cpu.pattern), /\[KMGTPE\]i/);
    assert.equal(at(`${podSpec}.containers[].ports[].containerPort`).default, undefined, "no zero-value defaults");
    assert.deepEqual(at(`${podSpec}`).required, ["containers"]);
    assert.equal(at("spec.volumeClaimPolicies[].templates[].spec.resources.requests").type, "object");
  });
});
