// What the UI serves to the browser (src/ui/assets.ts): every module of the app strips to JavaScript,
// preact and htm come from node_modules, the page's import map is allowed by the CSP's hash, and every
// bare import of the app is mapped.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { assets, contentSecurityPolicy, importMap, indexHtml } from "../../src/ui/assets.ts";

describe("ui assets", () => {
  test("the app's modules are served as JavaScript, types stripped, under .ts and .js names", () => {
    const a = assets();
    const bare = new Set<string>();
    for (const name of ["main", "api", "html", "timeline", "tree", "logs", "virtual"]) {
      const ts = a.get(`/app/${name}.ts`);
      assert.ok(ts, name);
      assert.equal(ts.type, "text/javascript; charset=utf-8");
      const body = ts.body();
      assert.doesNotMatch(body, /^\s*(import type|export interface|export type)\b/m, `${name}: types left in`);
      assert.equal(a.get(`/app/${name}.js`)?.body(), body);
      // Every bare specifier the app imports is in the import map.
      for (const m of body.matchAll(/^import\s[^"']*["']([^"'./][^"']*)["']/gm)) {
        assert.ok(m[1] && m[1] in importMap.imports, `${name} imports ${m[1]}, not in the import map`);
        bare.add(m[1]);
      }
    }
    assert.deepEqual([...bare].sort(), ["htm", "preact", "preact/hooks"]);
  });
  test("preact, its hooks and htm are the packages' ES modules", () => {
    const a = assets();
    assert.match(a.get("/vendor/preact.js")?.body() ?? "", /export\s*\{/);
    assert.match(a.get("/vendor/preact-hooks.js")?.body() ?? "", /from\s*"preact"/);
    assert.match(a.get("/vendor/htm.js")?.body() ?? "", /export\s*\{|export default/);
  });
  test("the page: import map allowed by hash, CSRF token in a meta tag, no remote URL", () => {
    const html = indexHtml("tok123");
    const map = /<script type="importmap">(.*?)<\/script>/s.exec(html)?.[1] ?? "";
    const hash = createHash("sha256").update(map).digest("base64");
    assert.ok(contentSecurityPolicy.includes(`'sha256-${hash}'`));
    assert.match(html, /<meta name="jobset-ui-csrf" content="tok123">/);
    assert.doesNotMatch(html, /https?:\/\//, "everything from this server");
    assert.match(contentSecurityPolicy, /default-src 'self'/);
    assert.match(contentSecurityPolicy, /frame-ancestors 'none'/);
  });
});
