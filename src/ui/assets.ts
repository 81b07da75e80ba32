// The files the browser loads, all from this package (works offline, no CDN): the page, the app's
// modules (src/ui/web/*.ts with their types stripped by Node, or the compiled .js of an installed
// build), and preact + htm from node_modules as ES modules, wired by an import map.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire, stripTypeScriptTypes } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stylesheet } from "./style.ts";

export interface Asset {
  type: string;
  body(): string;
}

const JS = "text/javascript; charset=utf-8";
const webDir = join(dirname(fileURLToPath(import.meta.url)), "web");
const require = createRequire(import.meta.url);

/** An ES module file of a package, next to the file its main export resolves to. */
function vendor(spec: string, file: string): string {
  return readFileSync(join(dirname(require.resolve(spec)), file), "utf8");
}

export const importMap = {
  imports: {
    preact: "/vendor/preact.js",
    "preact/hooks": "/vendor/preact-hooks.js",
    htm: "/vendor/htm.js",
  },
};

const importMapText = JSON.stringify(importMap);
const importMapHash = createHash("sha256").update(importMapText).digest("base64");

/** The Content-Security-Policy of the page: its own scripts and the import map (by hash) only. */
export const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${importMapHash}'`,
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** Node's type stripping, without its one-time "experimental" warning on the user's terminal. */
function stripTypes(src: string): string {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (text.includes("stripTypeScriptTypes")) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(src, { mode: "strip" });
  } finally {
    process.emitWarning = emit;
  }
}

let cached: Map<string, Asset> | undefined;

/** Every static path the server answers, built once (file contents are read at first request). */
export function assets(): Map<string, Asset> {
  if (cached) return cached;
  const m = new Map<string, Asset>();
  const once = (f: () => string) => {
    let v: string | undefined;
    return () => {
      v ??= f();
      return v;
    };
  };
  m.set("/vendor/preact.js", { type: JS, body: once(() => vendor("preact", "preact.mjs")) });
  m.set("/vendor/preact-hooks.js", { type: JS, body: once(() => vendor("preact/hooks", "hooks.mjs")) });
  m.set("/vendor/htm.js", { type: JS, body: once(() => vendor("htm", "htm.mjs")) });
  m.set("/app/style.css", { type: "text/css; charset=utf-8", body: () => stylesheet });
  for (const f of readdirSync(webDir)) {
    const base = f.replace(/\.(ts|js)$/, "");
    if (f.endsWith(".d.ts") || f.endsWith(".map") || base === f) continue;
    const file = join(webDir, f);
    const body = once(() => {
      const src = readFileSync(file, "utf8");
      // Relative imports name .ts files in the sources (the compiled build has .js): serve both names.
      return f.endsWith(".ts") ? stripTypes(src) : src;
    });
    m.set(`/app/${base}.js`, { type: JS, body });
    m.set(`/app/${base}.ts`, { type: JS, body });
  }
  if (!existsSync(join(webDir, "main.ts")) && !existsSync(join(webDir, "main.js")))
    throw new Error(`the UI's browser code is missing from ${webDir}: reinstall jobset`);
  cached = m;
  return m;
}

/** Every module the page imports, announced up front: one round of requests instead of an import waterfall. */
function preloads(): string {
  const paths = [...assets().keys()].filter(
    (p) => p.startsWith("/vendor/") || (p.startsWith("/app/") && p.endsWith(".ts")),
  );
  return paths.map((p) => `<link rel="modulepreload" href="${p}">`).join("\n");
}

/** The one HTML page (client-side routing by URL hash); `csrf` is the token actions must send back. */
export function indexHtml(csrf: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="jobset-ui-csrf" content="${csrf}">
<title>JobSets</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app/style.css">
<script type="importmap">${importMapText}</script>
${preloads()}
<script type="module" src="/app/main.ts"></script>
</head>
<body>
<noscript>The JobSet UI needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
}
