// src/cli/yaml-out.ts: what it writes reads back as the same value with YAML 1.2 and YAML 1.1 (kubectl's
// go-yaml), for every plan of the example fixtures and for generated values full of strings that YAML
// would read as something else; and it looks like the `yaml` package's default output for plans.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";
import { defaultFeatureGates } from "../../src/api/features.ts";
import { planObjects } from "../../src/cli/plan.ts";
import { toYaml } from "../../src/cli/yaml-out.ts";

const readBack = (text: string, version: "1.1" | "1.2"): unknown => parse(text, { version, strict: true });

function assertRoundTrip(value: unknown, what: string): void {
  const text = toYaml(value);
  const expected = JSON.parse(JSON.stringify(value)) as unknown;
  assert.deepEqual(readBack(text, "1.2"), expected, `${what} (YAML 1.2):\n${text}`);
  assert.deepEqual(readBack(text, "1.1"), expected, `${what} (YAML 1.1):\n${text}`);
}

// Every gate on, so that every fixture plans (in-place-restart.yaml needs InPlaceRestart).
const allGates = Object.fromEntries(
  Object.keys(defaultFeatureGates).map((g) => [g, true]),
) as typeof defaultFeatureGates;
const fixtures = fileURLToPath(new URL("../fixtures/jobsets/", import.meta.url));
const plans = readdirSync(fixtures)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(fixtures + f, "utf8")).flatMap((d, i) =>
      (d.toJS()?.kind !== "JobSet"
        ? []
        : planObjects(d.toJS(), { uid: "u-1", namespace: "default", gates: allGates })
      ).map((o, j) => [`${f}#${i}.${j}`, o] as const),
    ),
  );

// Strings YAML 1.1 or 1.2 reads as something other than that string, or that need quoting to parse.
const tricky = [
  "",
  " ",
  "a ",
  " a",
  "true",
  "True",
  "FALSE",
  "yes",
  "No",
  "on",
  "OFF",
  "y",
  "N",
  "null",
  "Null",
  "~",
  "0",
  "10",
  "-1",
  "+1",
  "1.5",
  ".5",
  "1e3",
  "1E+3",
  "1_000",
  "0x1F",
  "0o17",
  "0b11",
  "017",
  "1:30",
  "190:20:30",
  ".inf",
  "-.Inf",
  ".NaN",
  "2024-01-01",
  "2001-12-14t21:59:43.10-05:00",
  "=",
  "<<",
  "- a",
  "-a",
  "a: b",
  "a:",
  "a #b",
  "#a",
  "'a'",
  '"a"',
  "[a]",
  "{a}",
  "*a",
  "&a",
  "!a",
  "|",
  ">",
  "%a",
  "@a",
  "`a",
  "?",
  "? a",
  ",a",
  "a\nb",
  "a\tb",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\ufeff",
  "é",
  "日本",
  "\ud83d\ude00",
  "a\\b",
  "16Gi",
  "500m",
  "1.5G",
  "busybox:1.36",
  "http://x:80/p",
  "echo hello world",
  "/bin/sh",
  "$(VAR)",
  "a,b",
  "key=value",
];

function* generated(seed: number): Generator<unknown> {
  let x = seed;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % n;
  };
  const pick = <T>(a: readonly T[]): T => a[rand(a.length)] as T;
  const alphabet = ["a", "Z", "0", "9", ".", "-", "_", ":", " ", "#", "/", "e", "x", "\n", '"', "'", "\\", "é", "~"];
  const str = () => (rand(3) === 0 ? pick(tricky) : Array.from({ length: rand(8) }, () => pick(alphabet)).join(""));
  const value = (depth: number): unknown => {
    switch (depth > 3 ? rand(4) : rand(7)) {
      case 0:
        return str();
      case 1:
        return rand(2) === 0 ? rand(1000) - 500 : (rand(10000) - 5000) / 64;
      case 2:
        return rand(2) === 0;
      case 3:
        return null;
      case 4:
        return Array.from({ length: rand(4) }, () => value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: rand(4) }, () => [str(), value(depth + 1)]));
    }
  };
  for (;;) yield Object.fromEntries(Array.from({ length: 1 + rand(5) }, () => [str(), value(0)]));
}

describe("toYaml", () => {
  it("every plan of the example fixtures reads back the same with YAML 1.2 and 1.1", () => {
    assert.ok(plans.length > 20, `only ${plans.length} objects planned`);
    for (const [what, o] of plans) assertRoundTrip(o, what);
  });

  it("writes plans as the yaml package does by default (lineWidth 0)", () => {
    for (const [what, o] of plans) assert.equal(toYaml(o), stringify(o, { lineWidth: 0 }), what);
  });

  it("quotes every string YAML would read as something else", () => {
    for (const s of tricky) {
      assertRoundTrip({ [s]: s, list: [s, [s], { [s]: [s] }] }, JSON.stringify(s));
    }
  });

  it("5,000 generated values read back the same", () => {
    const gen = generated(42);
    for (let i = 0; i < 5000; i++) assertRoundTrip(gen.next().value, `generated #${i}`);
  });

  it("writes scalars, empty collections and nesting in block style", () => {
    assert.equal(toYaml({}), "{}\n");
    assert.equal(toYaml([]), "[]\n");
    assert.equal(toYaml("yes"), '"yes"\n');
    assert.equal(
      toYaml({ a: { b: [1, { c: "d", e: [] }, [true, null]] }, f: {}, g: undefined }),
      "a:\n  b:\n    - 1\n    - c: d\n      e: []\n    -\n      - true\n      - null\nf: {}\n",
    );
  });
});
