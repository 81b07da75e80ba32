// The `jobset` command as one runnable module: the entry point scripts/build.ts bundles (with esbuild)
// into dist/bundle/jobset.js, each subcommand's module a chunk beside it that loads only when that
// subcommand runs (the dynamic imports of ./main.ts). The container image runs it directly
// (`node /app/dist/bundle/jobset.js controller`, import.meta.main is true); bin/jobset.js imports it
// and calls main() itself, after its Node version check and with the compile cache on.
import { main } from "./main.ts";

export { commands, main } from "./main.ts";

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
