// Type tests of the SDK: tsc compiles test/fixtures/sdk-types/wrong.ts, whose mistakes (a wrong
// field, a wrong enum value…) are each marked with an expect-error directive: tsc passes only if every
// marked line is an error. The same file with the directives removed must fail on exactly those lines.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = join(root, "test/fixtures/sdk-types/wrong.ts");
const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");

function compile(dir: string, file: string): { status: number | null; out: string } {
  const config = {
    extends: join(root, "tsconfig.json"),
    compilerOptions: {
      noEmit: true,
      rootDir: "/",
      // the SDK's sources, as the package's "jobset-ts-source" export condition gives them in a checkout
      paths: { "jobset-ts": [join(root, "src/sdk/index.ts")], "jobset-ts/api": [join(root, "src/sdk/api.ts")] },
      typeRoots: [join(root, "node_modules/@types")],
    },
    include: [],
    files: [file],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
  writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
  const r = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("SDK types: mistakes are compile errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "jobset-sdk-types-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(fixture, "utf8");
  const marked = text
    .split("\n")
    .map((l, i) => (l.trimStart().startsWith("// @ts-expect-error") ? i + 2 : 0))
    .filter((n) => n > 0);

  test("the fixture compiles: every marked line is an error", () => {
    assert.ok(marked.length >= 6, `expected the fixture's marked lines, found ${marked.length}`);
    const r = compile(dir, fixture);
    assert.equal(r.status, 0, r.out);
  });

  test("without the directives, tsc fails on exactly the marked lines", () => {
    const stripped = join(dir, "wrong.ts");
    writeFileSync(stripped, text.replace(/\/\/ @ts-expect-error.*/g, "// (directive removed)"));
    const r = compile(dir, stripped);
    assert.notEqual(r.status, 0);
    const lines = [...r.out.matchAll(/wrong\.ts\((\d+),\d+\): error (TS\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual([...new Set(lines)], marked, r.out);
  });
});
