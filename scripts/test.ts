// The whole test suite: lint, type-check, then every test layer.
import { spawnSync } from "node:child_process";

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run("npx", ["biome", "check", "."]);
run("npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]);
run(process.execPath, ["--test", "--test-reporter=spec", "test/unit/**/*.test.ts"]);
