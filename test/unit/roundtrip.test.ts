// goRoundTrip() against Go: each JobSet of scripts/gotypes/testdata/roundtrip-inputs.json decoded into the
// Go types and encoded again by Go (test/fixtures/go-roundtrip.generated.json, printed by
// `cd scripts/gotypes && go run . roundtrip < testdata/roundtrip-inputs.json`).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { goRoundTrip, RoundTripError } from "../../src/api/roundtrip.ts";
import fixture from "../fixtures/go-roundtrip.generated.json" with { type: "json" };

interface Case {
  in: unknown;
  out?: unknown;
  error?: string;
}

describe("goRoundTrip", () => {
  const cases = fixture as Case[];

  test("gives Go's encoding of every fixture JobSet", () => {
    assert.ok(cases.length >= 7);
    cases.forEach((c, i) => {
      assert.equal(c.error, undefined, `Go refused input ${i}`);
      assert.deepEqual(goRoundTrip(c.in), c.out, `input ${i}`);
    });
  });

  test("the issue's additions: empty metadata, resources, zero strings, status restarts", () => {
    const out = goRoundTrip({
      spec: { replicatedJobs: [{ name: "w", template: { spec: { template: { spec: { containers: [{}] } } } } }] },
    }) as Record<string, unknown>;
    assert.deepEqual(out, {
      metadata: {},
      spec: {
        replicatedJobs: [
          {
            name: "w",
            template: {
              metadata: {},
              spec: { template: { metadata: {}, spec: { containers: [{ name: "", resources: {} }] } } },
            },
          },
        ],
      },
      status: { restarts: 0 },
    });
  });

  test("is a fixed point", () => {
    for (const c of cases) assert.deepEqual(goRoundTrip(c.out), c.out);
  });

  test("refuses what Go's decoder refuses (400 in the webhook)", () => {
    const bad = { spec: { replicatedJobs: [{ name: "w", template: { spec: { parallelism: "2" } } }] } };
    assert.throws(() => goRoundTrip(bad), {
      name: "Error",
      message:
        // Go's own text (the "parallelism string" decode case of test/fixtures/go-oracle.generated.json).
        "json: cannot unmarshal string into Go struct field JobSpec.spec.replicatedJobs.template.spec.parallelism of type int32",
    });
    const quantity = {
      spec: {
        replicatedJobs: [
          {
            name: "w",
            template: { spec: { template: { spec: { containers: [{ resources: { limits: { cpu: "1KM" } } }] } } } },
          },
        ],
      },
    };
    assert.throws(
      () => goRoundTrip(quantity),
      (e) => e instanceof RoundTripError && e.message === "unable to parse quantity's suffix",
    );
  });
});
