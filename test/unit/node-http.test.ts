// src/runtime/node-http.ts: no module of src/ imports node:http as an ES module (that import loads Node's
// internal undici, ≈ 13 MiB of RSS, into every process), and the module taken instead is node:http itself.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { http } from "../../src/runtime/node-http.ts";

const src = fileURLToPath(new URL("../../src/", import.meta.url));

describe("node:http without an ESM import", () => {
  it("no module of src/ imports node:http except for types", () => {
    const offenders: string[] = [];
    for (const f of readdirSync(src, { recursive: true, encoding: "utf8" })) {
      if (!/\.tsx?$/.test(f)) continue;
      const text = readFileSync(join(src, f), "utf8");
      // `import … from "node:http"` (or "http") that is not `import type`, and a run-time import("node:http")
      // (not the type-level `typeof import("node:http")` or `import("node:http").ServerResponse`)
      const re =
        /^\s*import\s+(?!type\s)[^;]*?from\s+["'](?:node:)?http["']|(?<!typeof\s*)import\(\s*["'](?:node:)?http["']\s*\)(?!\s*\.)/gm;
      if (re.test(text)) offenders.push(f);
    }
    assert.deepEqual(offenders, [], "use `http` from src/runtime/node-http.ts");
  });

  it("is node:http", () => {
    assert.equal(typeof http.createServer, "function");
    assert.equal(typeof http.Agent, "function");
    assert.equal(http.STATUS_CODES[404], "Not Found");
  });

  it("a process that loads the REST transport does not load undici", () => {
    const transport = new URL("../../src/runtime/transport.ts", import.meta.url).href;
    const code =
      `await import(${JSON.stringify(transport)});` +
      'process.stdout.write(String(process.moduleLoadList.some((m) => m.includes("undici"))));';
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "false");
  });
});
