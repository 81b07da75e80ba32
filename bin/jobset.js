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
const { existsSync } = await import("node:fs");
const dist = new URL("../dist/src/cli/main.js", import.meta.url);
const { main } = await import(existsSync(dist) ? dist.href : new URL("../src/cli/main.ts", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
