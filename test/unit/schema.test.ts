// checkSchema / applySchemaDefaults against the API server's behaviour for JobSets (messages from
// k8s.io/apiextensions-apiserver and k8s.io/kube-openapi v0.36).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { defaultJobSet } from "../../src/api/defaults.ts";
import { type FieldError, formatFieldError } from "../../src/api/field-errors.ts";
import { applySchemaDefaults, checkSchema } from "../../src/api/schema.ts";
import type { JobSet } from "../../src/api/types.ts";

type Obj = { [key: string]: unknown };

const container = (extra: Obj = {}): Obj => ({ name: "c", image: "busybox", ...extra });
const template = (podSpec: Obj = { containers: [container()] }): Obj => ({
  spec: { template: { spec: podSpec } },
});
const rjob = (name: string, extra: Obj = {}): Obj => ({ name, template: template(), ...extra });
const jobset = (spec: Obj): Obj => ({
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { name: "js" },
  spec,
});
const valid = (spec: Obj = {}): Obj => jobset({ replicatedJobs: [rjob("a")], ...spec });
// A CEL rule that evaluates to false yields an error without a value (Go's field.OmitValueType).
const render = formatFieldError;
const messages = (errs: FieldError[]) => errs.map(render);
const NOT_CHECKED =
  "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";
const POD = "spec.replicatedJobs[0].template.spec.template.spec";

describe("checkSchema errors", () => {
  const rows: { name: string; obj: Obj; errors: string[] }[] = [
    { name: "a minimal valid JobSet", obj: valid(), errors: [] },
    {
      name: "minimum",
      obj: jobset({ replicatedJobs: [rjob("a", { replicas: -1 })] }),
      errors: [
        "spec.replicatedJobs[0].replicas: Invalid value: -1: spec.replicatedJobs[0].replicas in body should be greater than or equal to 0",
      ],
    },
    {
      name: "minimum of ttlSecondsAfterFinished",
      obj: valid({ ttlSecondsAfterFinished: -5 }),
      errors: [
        "spec.ttlSecondsAfterFinished: Invalid value: -5: spec.ttlSecondsAfterFinished in body should be greater than or equal to 0",
      ],
    },
    {
      name: "type: string where an integer belongs",
      obj: jobset({ replicatedJobs: [rjob("a", { replicas: "2" })] }),
      errors: [
        'spec.replicatedJobs[0].replicas: Invalid value: "string": spec.replicatedJobs[0].replicas in body must be of type integer: "string"',
        NOT_CHECKED,
      ],
    },
    {
      name: "type: non-integral number for an int32",
      obj: jobset({ replicatedJobs: [rjob("a", { replicas: 1.5 })] }),
      errors: [
        'spec.replicatedJobs[0].replicas: Invalid value: "float64": spec.replicatedJobs[0].replicas in body must be of type int32: "float64"',
        '<nil>: Invalid value: "": Checked value must be of type integer with format int32 in spec.replicatedJobs[0].replicas',
        NOT_CHECKED,
      ],
    },
    {
      name: "int32 out of range",
      obj: jobset({ replicatedJobs: [rjob("a", { replicas: 2 ** 31 })] }),
      errors: [
        '<nil>: Invalid value: "": Checked value must be of type integer with format int32 in spec.replicatedJobs[0].replicas',
      ],
    },
    {
      name: "type: boolean",
      obj: valid({ suspend: "yes" }),
      errors: [
        'spec.suspend: Invalid value: "string": spec.suspend in body must be of type boolean: "string"',
        NOT_CHECKED,
      ],
    },
    {
      name: "type: object where an array belongs",
      obj: jobset({ replicatedJobs: { name: "a" } }),
      errors: [
        'spec.replicatedJobs: Invalid value: "object": spec.replicatedJobs in body must be of type array: "object"',
        NOT_CHECKED,
      ],
    },
    {
      name: "enum",
      obj: valid({ successPolicy: { operator: "Some" } }),
      errors: ['spec.successPolicy.operator: Unsupported value: "Some": supported values: "All", "Any"', NOT_CHECKED],
    },
    {
      name: "enum of a failure policy action",
      obj: valid({ failurePolicy: { rules: [{ name: "r", action: "Explode" }] } }),
      errors: [
        'spec.failurePolicy.rules[0].action: Unsupported value: "Explode": supported values: "FailJobSet", "RestartJobSet", "RestartJobSetAndIgnoreMaxRestarts", "RestartJob", "RestartJobAndIgnoreMaxRestarts"',
        NOT_CHECKED,
      ],
    },
    {
      name: "required",
      obj: jobset({ replicatedJobs: [{ name: "a" }], successPolicy: {} }),
      errors: [
        "spec.replicatedJobs[0].template: Required value",
        "spec.successPolicy.operator: Required value",
        NOT_CHECKED,
      ],
    },
    {
      name: "required inside the embedded pod spec",
      obj: jobset({ replicatedJobs: [rjob("a", { template: template({ containers: [{ image: "x" }] }) })] }),
      errors: [`${POD}.containers[0].name: Required value`, NOT_CHECKED],
    },
    {
      name: "maxItems",
      obj: jobset({
        replicatedJobs: [
          rjob("a"),
          rjob("b", { dependsOn: ["a", "c", "d", "e", "f", "g"].map((name) => ({ name, status: "Ready" })) }),
        ],
      }),
      errors: ["spec.replicatedJobs[1].dependsOn: Too many: 6: must have at most 5 items", NOT_CHECKED],
    },
    {
      name: "pattern of a quantity",
      obj: jobset({
        replicatedJobs: [
          rjob("a", { template: template({ containers: [container({ resources: { limits: { cpu: "1x" } } })] }) }),
        ],
      }),
      errors: [
        `${POD}.containers[0].resources.limits.cpu: Invalid value: "1x": ${POD}.containers[0].resources.limits.cpu in body should match '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'`,
      ],
    },
    {
      name: "quantities as integers and strings are fine",
      obj: jobset({
        replicatedJobs: [
          rjob("a", {
            template: template({ containers: [container({ resources: { limits: { cpu: 2, memory: "1.5Gi" } } })] }),
          }),
        ],
      }),
      errors: [],
    },
    {
      name: "int-or-string rejects a boolean",
      obj: jobset({
        replicatedJobs: [
          rjob("a", {
            template: template({ containers: [container({ livenessProbe: { httpGet: { port: true } } })] }),
          }),
        ],
      }),
      errors: [
        `${POD}.containers[0].livenessProbe.httpGet.port: Invalid value: "boolean": ${POD}.containers[0].livenessProbe.httpGet.port in body must be of type integer,string: "boolean"`,
        `<nil>: Invalid value: "": "${POD}.containers[0].livenessProbe.httpGet.port" must validate at least one schema (anyOf)`,
        `${POD}.containers[0].livenessProbe.httpGet.port: Invalid value: "boolean": ${POD}.containers[0].livenessProbe.httpGet.port in body must be of type integer: "boolean"`,
        NOT_CHECKED,
      ],
    },
    {
      name: "list-map: duplicate replicated job names",
      obj: jobset({ replicatedJobs: [rjob("x"), rjob("x")] }),
      errors: ['spec.replicatedJobs[1]: Duplicate value: {"name":"x"}'],
    },
    {
      name: "list-map with two keys, after defaulting protocol to TCP",
      obj: jobset({
        replicatedJobs: [
          rjob("a", {
            template: template({
              containers: [container({ ports: [{ containerPort: 80 }, { containerPort: 80, protocol: "TCP" }] })],
            }),
          }),
        ],
      }),
      errors: [`${POD}.containers[0].ports[1]: Duplicate value: {"containerPort":80,"protocol":"TCP"}`],
    },
    {
      name: "list-map: duplicate container names",
      obj: jobset({ replicatedJobs: [rjob("a", { template: template({ containers: [container(), container()] }) })] }),
      errors: [`${POD}.containers[1]: Duplicate value: {"name":"c"}`],
    },
    {
      name: "CEL: StartupPolicy InOrder and dependsOn",
      obj: jobset({
        startupPolicy: { startupPolicyOrder: "InOrder" },
        replicatedJobs: [rjob("a"), rjob("b", { dependsOn: [{ name: "a", status: "Ready" }] })],
      }),
      errors: ["spec: Invalid value: StartupPolicy and DependsOn APIs are mutually exclusive"],
    },
    {
      name: "CEL: AnyOrder and dependsOn are fine",
      obj: jobset({
        startupPolicy: { startupPolicyOrder: "AnyOrder" },
        replicatedJobs: [rjob("a"), rjob("b", { dependsOn: [{ name: "a", status: "Complete" }] })],
      }),
      errors: [],
    },
    {
      name: "CEL: InOrder without replicatedJobs cannot be evaluated",
      obj: jobset({ startupPolicy: { startupPolicyOrder: "InOrder" } }),
      errors: [
        'spec: Invalid value: "object": no such key: replicatedJobs evaluating rule: StartupPolicy and DependsOn APIs are mutually exclusive',
      ],
    },
    {
      name: "CEL: namespace of a volume claim template",
      obj: valid({
        volumeClaimPolicies: [
          { templates: [{ metadata: { name: "ok" } }] },
          { templates: [{ metadata: { name: "data", namespace: "other" } }] },
          { templates: [{ metadata: { name: "empty", namespace: "" } }] },
        ],
      }),
      errors: ["spec.volumeClaimPolicies[1]: Invalid value: namespace cannot be set for VolumeClaimPolicies templates"],
    },
    {
      name: "CEL: a volume claim template without metadata cannot be evaluated",
      obj: valid({ volumeClaimPolicies: [{ templates: [{ spec: {} }] }, {}] }),
      errors: [
        'spec.volumeClaimPolicies[0]: Invalid value: "object": no such key: metadata evaluating rule: namespace cannot be set for VolumeClaimPolicies templates',
        'spec.volumeClaimPolicies[1]: Invalid value: "object": no such key: templates evaluating rule: namespace cannot be set for VolumeClaimPolicies templates',
      ],
    },
    {
      name: "maxItems of volumeClaimPolicies",
      obj: valid({ volumeClaimPolicies: Array.from({ length: 51 }, () => ({ templates: [] })) }),
      errors: ["spec.volumeClaimPolicies: Too many: 51: must have at most 50 items", NOT_CHECKED],
    },
    {
      name: "status is not validated on create",
      obj: { ...valid(), status: { restarts: "many" } },
      errors: [],
    },
    {
      name: "nulls of optional fields are dropped, not rejected",
      obj: valid({ suspend: null, network: null }),
      errors: [],
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.deepEqual(messages(checkSchema(row.obj).errors), row.errors);
    });
  }

  test("a CEL rule that is false reports no value", () => {
    const [err] = checkSchema(
      jobset({
        startupPolicy: { startupPolicyOrder: "InOrder" },
        replicatedJobs: [rjob("a"), rjob("b", { dependsOn: [{ name: "a", status: "Ready" }] })],
      }),
    ).errors;
    assert.deepEqual(err, {
      type: "FieldValueInvalid",
      field: "spec",
      detail: "StartupPolicy and DependsOn APIs are mutually exclusive",
    });
  });

  test("the argument is not modified", () => {
    const obj = valid({ foo: 1 });
    const before = structuredClone(obj);
    checkSchema(obj);
    assert.deepEqual(obj, before);
  });

  test("a non-object is rejected", () => {
    assert.equal(checkSchema("nope").errors.length, 1);
    assert.equal(checkSchema(null).errors.length, 1);
  });
});

describe("checkSchema warnings", () => {
  const rows: { name: string; obj: Obj; warnings: string[] }[] = [
    { name: "none", obj: valid(), warnings: [] },
    {
      name: "unknown fields are pruned with a warning, sorted",
      obj: jobset({
        replicatedJobs: [rjob("a", { replica: 2, template: { ...template(), metadata: { uid: "u", name: "n" } } })],
        foo: true,
      }),
      warnings: [
        'unknown field "spec.foo"',
        'unknown field "spec.replicatedJobs[0].replica"',
        'unknown field "spec.replicatedJobs[0].template.metadata.uid"',
      ],
    },
    {
      name: "inside the pod spec",
      obj: jobset({
        replicatedJobs: [rjob("a", { template: template({ containers: [container({ imagePull: "x" })] }) })],
      }),
      warnings: [`unknown field "${POD}.containers[0].imagePull"`],
    },
    {
      name: "top-level apiVersion, kind and metadata are not pruned",
      obj: { ...valid(), metadata: { name: "x", uid: "1", annotations: { a: "b" } }, extra: 1 },
      warnings: ['unknown field "extra"'],
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = checkSchema(row.obj);
      assert.deepEqual(result.warnings, row.warnings);
      assert.deepEqual(messages(result.errors), []);
    });
  }
});

describe("applySchemaDefaults", () => {
  const rows: { name: string; input: Obj; expected: Obj }[] = [
    {
      name: "replicatedJob replicas and groupName",
      input: { spec: { replicatedJobs: [{ name: "a", template: {} }] } },
      expected: { spec: { replicatedJobs: [{ name: "a", template: {}, groupName: "default", replicas: 1 }] } },
    },
    {
      name: "explicit values are kept, replicas 0 included",
      input: { spec: { replicatedJobs: [{ name: "a", template: {}, replicas: 0, groupName: "g" }] } },
      expected: { spec: { replicatedJobs: [{ name: "a", template: {}, replicas: 0, groupName: "g" }] } },
    },
    {
      name: "restartStrategy only when failurePolicy is present",
      input: { spec: { failurePolicy: { maxRestarts: 2 } } },
      expected: { spec: { failurePolicy: { maxRestarts: 2, restartStrategy: "Recreate" } } },
    },
    { name: "absent objects are not created", input: { spec: {} }, expected: { spec: {} } },
    {
      name: "whenDeleted only when retentionPolicy is present",
      input: { spec: { volumeClaimPolicies: [{ retentionPolicy: {} }, { templates: [] }] } },
      expected: { spec: { volumeClaimPolicies: [{ retentionPolicy: { whenDeleted: "Delete" } }, { templates: [] }] } },
    },
    {
      name: "container port protocol inside the Job template",
      input: {
        spec: {
          replicatedJobs: [
            {
              name: "a",
              template: template({
                containers: [container({ ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: "UDP" }] })],
              }),
            },
          ],
        },
      },
      expected: {
        spec: {
          replicatedJobs: [
            {
              name: "a",
              groupName: "default",
              replicas: 1,
              template: template({
                containers: [
                  container({
                    ports: [
                      { containerPort: 8080, protocol: "TCP" },
                      { containerPort: 53, protocol: "UDP" },
                    ],
                  }),
                ],
              }),
            },
          ],
        },
      },
    },
    {
      name: "LocalObjectReference name and init containers",
      input: {
        spec: {
          replicatedJobs: [
            {
              name: "a",
              template: template({
                containers: [container()],
                initContainers: [container({ envFrom: [{ configMapRef: {} }] })],
                imagePullSecrets: [{}],
              }),
            },
          ],
        },
      },
      expected: {
        spec: {
          replicatedJobs: [
            {
              name: "a",
              groupName: "default",
              replicas: 1,
              template: template({
                containers: [container()],
                initContainers: [container({ envFrom: [{ configMapRef: { name: "" } }] })],
                imagePullSecrets: [{ name: "" }],
              }),
            },
          ],
        },
      },
    },
    {
      name: "a non-nullable null with a default is defaulted",
      input: { spec: { replicatedJobs: [{ name: "a", template: {}, replicas: null }] } },
      expected: { spec: { replicatedJobs: [{ name: "a", template: {}, replicas: 1, groupName: "default" }] } },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.deepEqual(applySchemaDefaults(row.input), row.expected);
    });
  }

  test("returns a new object and leaves the input alone", () => {
    const input = { spec: { replicatedJobs: [{ name: "a", template: {} }] } };
    const out = applySchemaDefaults(input);
    assert.notEqual(out, input);
    assert.deepEqual(input, { spec: { replicatedJobs: [{ name: "a", template: {} }] } });
  });

  test("is idempotent", () => {
    const once = applySchemaDefaults(valid({ failurePolicy: {} }));
    assert.deepEqual(applySchemaDefaults(once), once);
  });
});

describe("the project's examples and test JobSets", () => {
  // Upstream's examples are checked the same way by the compatibility suite (test/compat/).
  const dirs = ["../../examples", "../fixtures/jobsets"].map((d) => fileURLToPath(new URL(d, import.meta.url)));
  const files = (d: string): string[] =>
    readdirSync(d).flatMap((f) => {
      const p = join(d, f);
      return statSync(p).isDirectory() ? files(p) : p.endsWith(".yaml") ? [p] : [];
    });
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const all = dirs.flatMap((d) => files(d).sort());
  test("there are JobSets to check", () => {
    assert.ok(all.length >= 15, `found ${all.length} files`);
  });
  for (const file of all) {
    test(file.slice(root.length), () => {
      const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as Obj);
      const jobsets = docs.filter((d) => d?.kind === "JobSet");
      // Files with only other kinds (e.g. a PriorityClass) are skipped; every file here has a JobSet.
      assert.ok(jobsets.length > 0, "no JobSet document");
      for (const doc of jobsets) {
        // The API server's order on CREATE: schema defaults, the defaulting webhook, then validation.
        const admitted = defaultJobSet(applySchemaDefaults(doc) as JobSet);
        const result = checkSchema(admitted);
        assert.deepEqual(messages(result.errors), [], `${String((doc.metadata as Obj)?.name)}`);
        assert.deepEqual(result.warnings, []);
      }
    });
  }
});
