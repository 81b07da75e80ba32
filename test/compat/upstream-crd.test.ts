// Compatibility: our generated CRD against upstream JobSet's. Structurally identical (what the API
// server acts on: paths, types, defaults, bounds, markers, CEL rules, identity), with descriptions
// written in our own words.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CRD_PATH } from "../../scripts/crd-yaml.ts";
import { buildCrd } from "../../src/api/crd.ts";
import { crdCompareTool, requireReference } from "./reference.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const reference = requireReference();

type Node = { [key: string]: unknown };
const schemaOf = (crd: Node): Node =>
  ((((crd.spec as Node).versions as Node[])[0] as Node).schema as Node).openAPIV3Schema as Node;

/** Descriptions of the JobSet's own fields (not of the embedded Kubernetes types under templates). */
function descriptions(node: unknown, out: Set<string>, embedded = false): Set<string> {
  if (node && typeof node === "object") {
    const n = node as Node;
    if (!embedded && typeof n.description === "string") out.add(n.description);
    for (const [k, v] of Object.entries(n.properties ?? {})) {
      descriptions(v, out, embedded || k === "template" || k === "templates");
    }
    if (n.items) descriptions(n.items, out, embedded);
  }
  return out;
}

describe("upstream CRD", () => {
  test(`crd-compare: ${CRD_PATH} has no structural difference from upstream's but our spec.scheduling (gang scheduling)`, () => {
    const r = spawnSync(process.execPath, [crdCompareTool, CRD_PATH, "--allow-extra", "v1alpha2.spec.scheduling"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    const summary = r.stdout.trim().split("\n").at(-1) ?? "";
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(
      summary,
      /^crd-compare: 0 structural differences \(\d+ reference paths compared(; \d+ allowed additions)?\)$/,
    );
  });

  test("no description is copied from upstream's CRD", () => {
    const upstream = JSON.parse(readFileSync(join(reference, "upstream-crd.json"), "utf8")) as Node;
    const theirs = descriptions(schemaOf(upstream), new Set());
    const ours = descriptions(schemaOf(buildCrd() as Node), new Set());
    assert.ok(ours.size > 20, `only ${ours.size} descriptions found in our CRD`);
    assert.deepEqual(
      [...ours].filter((d) => theirs.has(d)),
      [],
    );
  });
});
