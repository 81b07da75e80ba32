// The Go view of JobSet values (decode errors, json.Marshal, semantic equality) and resource quantities,
// against answers computed by running Go with k8s.io/apimachinery v0.36.3 (scripts/gotypes, `go run . oracle`;
// regenerate with npm run generate).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { GoTypes, goDecode, goMarshal, goSemanticEqual } from "../../src/api/go-value.ts";
import { formatQuantity, isQuantity, parseQuantity } from "../../src/api/quantity.ts";
import { decodeJobSet, decodePod } from "../../src/webhooks/decode.ts";

interface Oracle {
  equality: { name: string; type: string; a: unknown; b: unknown; equal: boolean }[];
  marshal: { type: string; input: unknown; output: string }[];
  decode: { name: string; input: unknown; error: string | null }[];
}

const oracle = JSON.parse(
  readFileSync(new URL("../fixtures/go-oracle.generated.json", import.meta.url), "utf8"),
) as Oracle;

const modelType = (goType: string): string =>
  ({
    "[]ReplicatedJob": GoTypes.ReplicatedJobs,
    "*string": "*string",
    "*int32": "*int32",
    PersistentVolumeClaimSpec: GoTypes.PersistentVolumeClaimSpec,
  })[goType] ?? assert.fail(`no model type for ${goType}`);

describe("semantic equality agrees with Go's equality.Semantic.DeepEqual", () => {
  test("the table has equal and different pairs", () => {
    assert.ok(oracle.equality.filter((c) => c.equal).length >= 15);
    assert.ok(oracle.equality.filter((c) => !c.equal).length >= 15);
  });
  for (const c of oracle.equality) {
    test(`${c.name}: ${c.equal ? "equal" : "different"}`, () => {
      assert.equal(goSemanticEqual(c.a, c.b, modelType(c.type)), c.equal);
      assert.equal(goSemanticEqual(c.b, c.a, modelType(c.type)), c.equal, "symmetric");
    });
  }
});

describe("goMarshal agrees with Go's json.Marshal of the typed value", () => {
  for (const c of oracle.marshal) {
    test(`${c.type} ${JSON.stringify(c.input).slice(0, 80)}`, () => {
      assert.equal(goMarshal(c.input, modelType(c.type)), c.output);
    });
  }
});

describe("decodeJobSet and decodePod agree with controller-runtime's admission decoder", () => {
  for (const c of oracle.decode) {
    test(c.name, () => {
      const got = c.name.startsWith("pod") ? decodePod(c.input) : decodeJobSet(c.input);
      if (c.error === null) {
        assert.equal(got.ok, true, got.ok ? "" : got.message);
      } else if (c.error.startsWith("parsing time ")) {
        // Go's time-layout error names the layout element that failed; we keep its first part.
        assert.equal(got.ok, false);
        assert.ok(!got.ok && c.error.startsWith(got.message), got.ok ? "" : got.message);
      } else {
        assert.equal(got.ok ? "decoded" : got.message, c.error);
      }
    });
  }
});

describe("quantities", () => {
  const cases: [string, string][] = [
    ["1024Mi", "1Gi"],
    ["1000m", "1"],
    ["1.5", "1500m"],
    ["0.5Gi", "512Mi"],
    ["1e3", "1e3"],
    ["0.1Gi", "107374182400m"],
    ["1000000", "1M"],
    ["1500", "1500"],
    ["-1.5Ki", "-1536"],
    ["0Mi", "0"],
    ["1.0000000001", "1000000001n"],
    ["12e6", "12e6"],
    ["1.", "1"],
  ];
  for (const [input, want] of cases) {
    test(`${input} prints as ${want}`, () => {
      const q = parseQuantity(input);
      assert.ok(isQuantity(q), isQuantity(q) ? "" : q.error);
      assert.equal(formatQuantity(q), want);
    });
  }
  for (const bad of ["", "lots", "1Qi", "1.2.3", "--1", "1e"]) {
    test(`${JSON.stringify(bad)} is refused`, () => {
      assert.equal(isQuantity(parseQuantity(bad)), false);
    });
  }
});

describe("goDecode", () => {
  test("drops nulls, turns null list items and map values into zero values, keeps unknown fields", () => {
    const input = {
      metadata: { name: "a", labels: { x: null }, finalizers: [null, "f"] },
      spec: { network: null, replicatedJobs: [{ name: "r", bogus: { keep: null }, template: { spec: null } }] },
    };
    const before = JSON.stringify(input);
    const d = goDecode(input, GoTypes.JobSet);
    assert.ok(d.ok);
    assert.deepEqual(d.value, {
      metadata: { name: "a", labels: { x: "" }, finalizers: ["", "f"] },
      spec: { replicatedJobs: [{ name: "r", bogus: { keep: null }, template: {} }] },
    });
    assert.equal(JSON.stringify(input), before, "the input is not modified");
  });
  test("an object without nulls is returned as it is (copy on write)", () => {
    const input = { metadata: { name: "a" }, spec: { replicatedJobs: [{ name: "r", template: {} }] } };
    const d = goDecode(input, GoTypes.JobSet);
    assert.ok(d.ok);
    assert.equal(d.value, input);
  });
});
