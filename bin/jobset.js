#!/usr/bin/env node
// Entry point of the `jobset` command. Runs the build when there is one — the esbuild bundle
// dist/bundle/jobset.js (scripts/build.ts), else the tsc emit dist/src/ — and the TypeScript sources
// (Node's type stripping) otherwise. In a checkout (the sources beside bin/), a build older than any
// file of src/ (or package.json) is passed over for the sources, so that a dist/ left by an earlier
// `npm run build` never runs old code unnoticed; that check (a stat of each file of src/) is made only
// in a checkout that has a build. The installed package ships no sources, and the container image runs
// the bundle directly.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `jobset needs Node.js >= 22.19 (this is ${process.version}). ` +
      "Run it through npm (`npx jobset ...`), which uses the Node pinned in package.json, or install Node 22.19+.\n",
  );
  process.exit(2);
}
// Cache compiled code (and, for the TypeScript sources, their type-stripped text) between runs: a
// warm start skips parsing and stripping, which is most of a short command's time (bench/cli.bench.ts).
// NODE_COMPILE_CACHE chooses the directory (default: the OS temp dir); NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
const { existsSync, readdirSync, statSync } = await import("node:fs");
const { fileURLToPath } = await import("node:url");
const sources = new URL("../src/cli/main.ts", import.meta.url);
// bin/ of the package or checkout, next to dist/; dist/bin/ (the emitted copy of this file, next to dist/src/).
let entry = ["../dist/bundle/jobset.js", "../bundle/jobset.js", "../dist/src/cli/main.js", "../src/cli/main.js"]
  .map((p) => new URL(p, import.meta.url))
  .find((u) => existsSync(u));
if (entry && existsSync(sources)) {
  const built = statSync(entry).mtimeMs;
  const at = (p) => fileURLToPath(new URL(p, import.meta.url));
  const src = at("../src/");
  const newer = (path) => statSync(path).mtimeMs > built;
  if ([at("../package.json"), src].some(newer) || readdirSync(src, { recursive: true }).some((f) => newer(src + f)))
    entry = undefined;
}
const { main } = await import((entry ?? sources).href);
process.exitCode = await main(process.argv.slice(2));
