// The quantity port against apimachinery itself: every input of test/fixtures/go-quantities.generated.json (hand-picked
// edge cases of each suffix family and seeded random ones) with the answer Go printed for it
// (`cd scripts/gotypes && go run . quantities`).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { QuantityError, quantityIdentity, roundTripQuantity } from "../../src/api/quantity.ts";
import fixture from "../fixtures/go-quantities.generated.json" with { type: "json" };

interface Case {
  in: string | number;
  out?: string;
  /** Go: reflect.DeepEqual of the decoded input and of its canonical text decoded again. */
  sameAsOut?: boolean;
  error?: string;
}

describe("resource.Quantity round trip", () => {
  const cases = fixture as Case[];

  test("the fixture covers every format and both answers", () => {
    assert.ok(cases.length > 700);
    assert.ok(cases.some((c) => c.error !== undefined));
    for (const suffix of ["Ki", "Gi", "Ei", "m", "n", "k", "E", "e3", "e-3"]) {
      assert.ok(
        cases.some((c) => typeof c.in === "string" && c.in.endsWith(suffix)),
        suffix,
      );
    }
  });

  test("every input gives Go's text or Go's error", () => {
    const wrong: string[] = [];
    for (const c of cases) {
      let got: string;
      try {
        got = roundTripQuantity(c.in);
      } catch (e) {
        if (!(e instanceof QuantityError)) throw e;
        got = `error: ${e.message}`;
      }
      const want = c.error !== undefined ? `error: ${c.error}` : c.out;
      if (got !== want) wrong.push(`${JSON.stringify(c.in)}: got ${got}, Go ${want}`);
    }
    assert.deepEqual(wrong, []);
  });

  test("the issue's examples", () => {
    assert.equal(roundTripQuantity("1024Mi"), "1Gi");
    assert.equal(roundTripQuantity("1000m"), "1");
    assert.equal(roundTripQuantity("1Gi"), "1Gi");
    assert.equal(roundTripQuantity(0.5), "500m");
  });

  test("reflect.DeepEqual of a quantity and its canonical text is Go's for every string input (quantityIdentity)", () => {
    const checked = cases.filter(
      (c): c is Case & { in: string; out: string; sameAsOut: boolean } =>
        typeof c.in === "string" && c.out !== undefined && c.sameAsOut !== undefined,
    );
    assert.ok(checked.length > 600 && checked.some((c) => c.sameAsOut) && checked.some((c) => !c.sameAsOut));
    const wrong = checked
      .filter((c) => (quantityIdentity(c.in.trim()) === quantityIdentity(c.out)) !== c.sameAsOut)
      .map((c) => `${c.in} vs ${c.out}: Go ${c.sameAsOut}`);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} wrong`);
  });
});
