// The Go type table and the Go-printed fixtures are what scripts/gotypes prints today (regenerate with
// `npm run generate`). Needs Go, as every integration test does.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { GoArtifacts, renderGoArtifact } from "../../scripts/gotypes.ts";

for (const a of GoArtifacts) {
  test(`${a.path} is fresh`, () => {
    assert.equal(readFileSync(a.path, "utf8"), renderGoArtifact(a), `${a.path} is stale: run npm run generate`);
  });
}
