// goMarshalValue (the mutating webhook's encoder: Go's json.Marshal as a JSON value, built directly) is
// exactly JSON.parse of goMarshal's text (the Go-checked printer, roundtrip.test.ts and go-value.test.ts):
// on every round-trip fixture, and on 6,000 fixtures with values swapped for awkward ones (lone
// surrogates, HTML characters, `__proto__` keys, negative zero, quantities, times, nulls, wrong types).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GoTypes, goDecode, goMarshal, goMarshalValue } from "../../src/api/go-value.ts";
import fixture from "../fixtures/go-roundtrip.generated.json" with { type: "json" };
import { prng } from "../support/random.ts";

const inputs = (fixture as { in: unknown }[]).map((c) => c.in);

const awkward: unknown[] = [
  "",
  "a<b>&c",
  "\u2028\u2029",
  "\ud800",
  "x\udc00y",
  "é",
  "1024Mi",
  "1000m",
  "+1",
  "1e3",
  "0.5Gi",
  "2024-01-02T03:04:05.123456+02:00",
  "0001-01-01T00:00:00Z",
  0,
  -0,
  1,
  -1,
  2.5,
  2147483647,
  2 ** 53,
  true,
  false,
  null,
  [],
  {},
  { __proto__: "x" },
  JSON.parse('{"__proto__": {"a": 1}, "b": "c"}'),
  ["a", null, 1],
];

type Container = Record<string, unknown> | unknown[];

/** Every (container, key) of a JSON document. */
function slots(doc: unknown, out: [Container, string | number][] = []): [Container, string | number][] {
  if (Array.isArray(doc)) {
    doc.forEach((v, i) => {
      out.push([doc, i]);
      slots(v, out);
    });
  } else if (doc !== null && typeof doc === "object") {
    for (const [k, v] of Object.entries(doc)) {
      out.push([doc as Record<string, unknown>, k]);
      slots(v, out);
    }
  }
  return out;
}

describe("goMarshalValue", () => {
  test("equals JSON.parse(goMarshal(…)) on every round-trip fixture", () => {
    for (const [i, input] of inputs.entries()) {
      const d = goDecode(input, GoTypes.JobSet);
      assert.ok(d.ok, `fixture ${i} decodes`);
      assert.deepEqual(goMarshalValue(d.value, GoTypes.JobSet), JSON.parse(goMarshal(d.value, GoTypes.JobSet)));
    }
  });

  test("equals JSON.parse(goMarshal(…)) on 6,000 fixtures with awkward values, and shares nothing with its input", () => {
    const random = prng(15);
    let compared = 0;
    for (let n = 0; n < 6000; n++) {
      const doc = structuredClone(inputs[n % inputs.length]);
      const all = slots(doc);
      const swaps = 1 + Math.floor(random() * 3);
      for (let k = 0; k < swaps && all.length > 0; k++) {
        const [c, key] = all[Math.floor(random() * all.length)] ?? [[], 0];
        const v = structuredClone(awkward[Math.floor(random() * awkward.length)]);
        if (Array.isArray(c)) c[key as number] = v;
        else Object.defineProperty(c, key, { value: v, enumerable: true, writable: true, configurable: true });
      }
      const d = goDecode(doc, GoTypes.JobSet);
      if (!d.ok) continue;
      compared++;
      const direct = goMarshalValue<unknown>(d.value, GoTypes.JobSet);
      assert.deepEqual(direct, JSON.parse(goMarshal(d.value, GoTypes.JobSet)), `document ${n}`);
      const before = JSON.stringify(d.value);
      for (const [c, key] of slots(direct)) {
        if (Array.isArray(c)) c[key as number] = "changed";
        else c[key] = "changed";
      }
      assert.equal(JSON.stringify(d.value), before, `document ${n}: the input is untouched`);
    }
    assert.ok(compared >= 1500, `only ${compared} documents decoded`);
  });
});
