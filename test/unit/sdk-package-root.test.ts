import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { KUBE_MODULE_DIR, keyInputs } from "../../src/local/binaries.ts";
import { DEFAULT_CRD_PATHS } from "../../src/local/controlplane.ts";
import { packagePath, packageRoot, packageRootOf } from "../../src/package-root.ts";

describe("packageRootOf: the package root from the helper's own URL", () => {
  const cases: [string, string, string][] = [
    ["TypeScript sources (a checkout)", "file:///repo/src/package-root.ts", "/repo"],
    ["compiled dist/", "file:///repo/dist/src/package-root.js", "/repo"],
    ["installed package", "file:///app/node_modules/jobset-ts/dist/src/package-root.js", "/app/node_modules/jobset-ts"],
    ["container image (/app/dist)", "file:///app/dist/src/package-root.js", "/app"],
  ];
  for (const [name, url, want] of cases) test(name, () => assert.equal(packageRootOf(url), want));
});

describe("package files resolve from the package root", () => {
  test("this checkout: package.json, kube/ and the CRD are where the helper says", () => {
    const pkg = JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as { name: string };
    assert.equal(pkg.name, "jobset-ts");
    assert.equal(KUBE_MODULE_DIR, join(packageRoot, "kube"));
    assert.ok(keyInputs(KUBE_MODULE_DIR).some((f) => f.endsWith(join("cmd", "kube-apiserver", "main.go"))));
    assert.ok(
      DEFAULT_CRD_PATHS.every((p) => existsSync(p)),
      DEFAULT_CRD_PATHS.join(", "),
    );
  });

  const dir = realpathSync(mkdtempSync(join(tmpdir(), "jobset-root-")));
  after(() => rmSync(dir, { recursive: true, force: true }));
  test("the compiled module, placed as dist/src/package-root.js, names the directory above dist/", async () => {
    const js = stripTypeScriptTypes(readFileSync(packagePath("src", "package-root.ts"), "utf8"));
    mkdirSync(join(dir, "dist", "src"), { recursive: true });
    const file = join(dir, "dist", "src", "package-root.js");
    writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
    writeFileSync(file, js);
    const m = (await import(pathToFileURL(file).href)) as typeof import("../../src/package-root.ts");
    assert.equal(m.packageRoot, dir);
    assert.equal(m.packagePath("kube", "cmd"), join(dir, "kube", "cmd"));
  });
});
