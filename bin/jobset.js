#!/usr/bin/env node
// Entry point of the `jobset` command. Runs the TypeScript sources directly (Node's type stripping),
// or the compiled dist/ when present (installed packages).
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
const { existsSync } = await import("node:fs");
// bin/ of the package next to dist/; dist/bin/ (the emitted copy, as in the container image); the sources.
const entry = ["../dist/src/cli/main.js", "../src/cli/main.js", "../src/cli/main.ts"]
  .map((p) => new URL(p, import.meta.url))
  .find((u) => existsSync(u));
const { main } = await import((entry ?? new URL("../src/cli/main.ts", import.meta.url)).href);
process.exitCode = await main(process.argv.slice(2));
