// The whole test suite: lint, type-check, unit tests, the upstream compatibility checks (when the
// upstream reference data is beside the project, see test/compat/reference.ts), then integration tests
// against one shared control plane (etcd + kube-apiserver) and e2e tests against one shared full control
// plane (plus controller manager and scheduler). Builds the Kubernetes binaries on first use (with
// progress).
//
//   node scripts/test.ts                         everything
//   node scripts/test.ts unit integration        only these layers (lint, unit, compat, integration, e2e)
//   node scripts/test.ts test/e2e/foo.test.ts    only these files (their layers' control planes)
//
// Control planes are stopped at the end, on failure and on Ctrl-C; if this process is killed, their
// supervisors end them anyway (docs/adr/0003-no-leaked-processes.md).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries } from "../src/local/binaries.ts";
import { type ControlPlane, type Profile, startControlPlane } from "../src/local/controlplane.ts";
import { notAvailableLine, referenceAvailable } from "../test/compat/reference.ts";
import { exportCluster } from "../test/support/cluster.ts";

type Layer = "lint" | "unit" | "compat" | "integration" | "e2e";
const LAYERS: Layer[] = ["lint", "unit", "compat", "integration", "e2e"];
const PROFILE: Partial<Record<Layer, Profile>> = { integration: "apiserver", e2e: "full" };

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith(".ts"));
const named = args.filter((a): a is Layer => (LAYERS as string[]).includes(a));
const unknown = args.filter((a) => !a.endsWith(".ts") && !(LAYERS as string[]).includes(a));
if (unknown.length > 0) {
  console.error(`unknown argument(s) ${unknown.join(" ")}; expected layers (${LAYERS.join(", ")}) or test files`);
  process.exit(2);
}
const layerOf = (f: string): Layer | undefined => LAYERS.find((l) => f.split(/[\\/]/).includes(l));
const layers: Layer[] =
  files.length > 0
    ? LAYERS.filter((l) => files.some((f) => layerOf(f) === l))
    : named.length > 0
      ? LAYERS.filter((l) => named.includes(l))
      : LAYERS;

const hasTests = (dir: string): boolean =>
  existsSync(dir) && readdirSync(dir, { recursive: true, encoding: "utf8" }).some((f) => f.endsWith(".test.ts"));

let current: ChildProcess | undefined;
let plane: ControlPlane | undefined;
let interrupted = false;

const run = (cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> =>
  new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: "inherit", env });
    current = child;
    child.on("exit", (code, signal) => {
      current = undefined;
      resolve(code ?? (signal ? 1 : 0));
    });
    child.on("error", (e) => {
      console.error(`${cmd}: ${e.message}`);
      resolve(127);
    });
  });

const onSignal = (sig: NodeJS.Signals) => {
  if (interrupted) return;
  interrupted = true;
  console.error(`\n${sig}: stopping tests and the control plane…`);
  current?.kill(sig);
  void (plane?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

const failed: string[] = [];
const step = async (name: string, fn: () => Promise<number>) => {
  if (interrupted) return;
  const code = await fn();
  if (code !== 0) failed.push(name);
};

// Each layer's counts land in a file (scripts/count-reporter.ts) so the run ends with one total line.
const countsDir = mkdtempSync(join(tmpdir(), "jobset-test-counts-"));
let layerRuns = 0;
const nodeTest = (targets: string[], concurrency: number, env?: NodeJS.ProcessEnv) =>
  run(
    process.execPath,
    [
      "--test",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=./scripts/count-reporter.ts",
      `--test-reporter-destination=${join(countsDir, `${layerRuns++}.json`)}`,
      `--test-concurrency=${concurrency}`,
      ...targets,
    ],
    env ? { ...process.env, ...env } : process.env,
  );

/** Sums the counts every layer wrote; tests of a layer that crashed before reporting count as failed there. */
function totals(): { passed: number; failed: number; skipped: number } {
  const t = { passed: 0, failed: 0, skipped: 0 };
  for (const f of readdirSync(countsDir)) {
    for (const line of readFileSync(join(countsDir, f), "utf8").split("\n")) {
      if (!line.trim()) continue;
      const c = JSON.parse(line) as {
        passed: number;
        failed: number;
        skipped: number;
        cancelled: number;
        todo: number;
      };
      t.passed += c.passed;
      t.failed += c.failed + c.cancelled;
      t.skipped += c.skipped + c.todo;
    }
  }
  rmSync(countsDir, { recursive: true, force: true });
  return t;
}

for (const layer of layers) {
  if (interrupted) break;
  const dir = join("test", layer);
  const targets = files.length > 0 ? files.filter((f) => layerOf(f) === layer) : [`${dir}/**/*.test.ts`];
  if (layer === "lint") {
    await step("biome", () => run("npx", ["biome", "check", "."]));
    await step("tsc", () => run("npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]));
    continue;
  }
  if (files.length === 0 && !hasTests(dir)) {
    console.error(`(no ${layer} tests yet)`);
    continue;
  }
  if (layer === "unit") {
    await step("unit", () => nodeTest(targets, 2));
    continue;
  }
  if (layer === "compat") {
    // Without the upstream reference (a plain clone) this layer is not run, and says so in one line;
    // that is neither a failure nor a silent skip.
    if (referenceAvailable()) await step("compat", () => nodeTest(targets, 2));
    else console.error(notAvailableLine);
    continue;
  }
  const profile = PROFILE[layer] ?? "apiserver";
  try {
    const bins = await ensureBinaries();
    console.error(`starting the "${profile}" control plane for ${layer} tests (binaries: ${bins.dir})…`);
    plane = await startControlPlane({ profile, binaries: bins, log: (l) => console.error(`  ${l}`) });
  } catch (e) {
    console.error(`cannot start the ${profile} control plane: ${e instanceof Error ? e.message : String(e)}`);
    failed.push(`${layer} (control plane)`);
    continue;
  }
  try {
    const env = await exportCluster(plane);
    await step(layer, () => nodeTest(targets, 1, env));
  } finally {
    const p = plane;
    plane = undefined;
    if (!interrupted) await p.stop();
  }
}

if (interrupted) await new Promise(() => {}); // the signal handler exits
const t = totals();
const skipped = t.skipped > 0 ? `, ${t.skipped} skipped` : "";
if (failed.length > 0) {
  console.log(`\nFAILED: ${failed.join(", ")}`);
  console.log(`total: ${t.passed} passed, ${t.failed} failed${skipped}`);
  process.exit(1);
}
console.log(layerRuns > 0 ? `\ntotal: ${t.passed} passed, ${t.failed} failed${skipped}` : "\nall checks passed");
