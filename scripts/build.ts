// `npm run build`: emits src/ and bin/ as JavaScript into dist/ (tsconfig.build.json) and stamps the
// build: dist/src/build-info.json with the source commit ($JOBSET_COMMIT — the Dockerfile passes its
// COMMIT build arg — else `git rev-parse HEAD`, else "unknown") and the build time ($SOURCE_DATE_EPOCH
// for reproducible builds, else now). Runs the TypeScript compiler with the running Node, so it works
// where node_modules/.bin/node (the dev-dependency Node) was not installed (`npm ci --ignore-scripts`).
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rfc3339 } from "../src/api/time.ts";
import { BuildInfoFile } from "../src/version.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function resolveCommit(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.JOBSET_COMMIT?.trim();
  if (fromEnv) return fromEnv;
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

export function resolveBuildDate(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = Number(env.SOURCE_DATE_EPOCH);
  const d = env.SOURCE_DATE_EPOCH && Number.isFinite(epoch) ? new Date(epoch * 1000) : new Date();
  return rfc3339(d);
}

export function build(outDir: string = join(root, "dist")): void {
  rmSync(outDir, { recursive: true, force: true });
  const pkgJson = createRequire(import.meta.url).resolve("typescript/package.json");
  const tsc = join(dirname(pkgJson), "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", outDir], {
    cwd: root,
    stdio: "inherit",
  });
  const info = { commit: resolveCommit(), buildDate: resolveBuildDate() };
  writeFileSync(join(outDir, "src", BuildInfoFile), `${JSON.stringify(info, null, 2)}\n`);
  console.log(`built ${outDir} (commit ${info.commit}, ${info.buildDate})`);
}

if (import.meta.main) build(process.argv[2]);
