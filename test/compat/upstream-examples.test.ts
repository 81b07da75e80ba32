// Compatibility: every JobSet in upstream JobSet's examples/ passes our `jobset lint` and our schema
// checks exactly as it passes upstream's API server and webhook; the gated ones are refused with the
// gates off, with upstream's messages.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { defaultJobSet } from "../../src/api/defaults.ts";
import { formatFieldError } from "../../src/api/field-errors.ts";
import { applySchemaDefaults, checkSchema } from "../../src/api/schema.ts";
import type { JobSet } from "../../src/api/types.ts";
import { requireReference } from "./reference.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const examples = join(requireReference(), "examples");

type Obj = Record<string, unknown>;

function findYaml(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? findYaml(p) : /\.ya?ml$/.test(name) ? [p] : [];
    });
}

function jobset(args: string[]) {
  const r = spawnSync(process.execPath, [join(root, "bin/jobset.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const files = findYaml(examples);
const P = "<nil>: Internal error: ";

describe("upstream examples: jobset lint", () => {
  test("there are examples to check", () => assert.ok(files.length >= 20, `found ${files.length}`));

  test("every example JobSet passes (alpha gates on)", () => {
    const r = jobset(["lint", "--feature-gates", "InPlaceRestart=true,RestartJob=true", ...files]);
    assert.equal(r.stdout, "");
    assert.equal(r.code, 0, r.stderr);
    // Non-JobSet documents (e.g. scheduling.k8s.io objects) are skipped with a note, never judged.
    for (const line of r.stderr.split("\n").filter(Boolean)) assert.match(line, /: skipped: .* is not a JobSet$/);
  });

  test("gated examples are rejected with the gates off", () => {
    const gated = [
      join(examples, "failure-policy/restartjob-action.yaml"),
      join(examples, "in-place-restart/jobset-main-container-mode.yaml"),
    ];
    const r = jobset(["lint", ...gated]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      // errors without a field point at the start of the document (FILE:LINE:COL)
      `${gated[0]}:1:1: ${P}RestartJob and RestartJobAndIgnoreMaxRestarts failure policy actions are not allowed when RestartJob feature gate is disabled\n` +
        `${gated[1]}:1:1: ${P}InPlaceRestart restart strategy cannot be set when InPlaceRestart feature gate is disabled\n`,
    );
  });
});

describe("upstream examples: schema defaults, defaulting webhook and schema validation", () => {
  for (const file of files) {
    test(file.slice(examples.length + 1), () => {
      const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as Obj);
      const jobsets = docs.filter((d) => d?.kind === "JobSet");
      assert.ok(jobsets.length > 0, "no JobSet document");
      for (const doc of jobsets) {
        // The API server's order on CREATE: schema defaults, the defaulting webhook, then validation.
        const admitted = defaultJobSet(applySchemaDefaults(doc) as JobSet);
        const result = checkSchema(admitted);
        assert.deepEqual(result.errors.map(formatFieldError), [], String((doc.metadata as Obj)?.name));
        assert.deepEqual(result.warnings, []);
      }
    });
  }
});
