// Start-up cost of the `jobset` command: wall time, CPU time and peak RSS of one whole process per
// command, run as users run it — from the build (the installed package, the container image: `npm run
// build` into a temporary directory, run by its bin/jobset.js, which runs the bundle dist/bundle/jobset.js)
// and from the TypeScript sources (a checkout without a build: src/cli/jobset.ts with Node's type
// stripping, as bin/jobset.js runs it there; run directly, since in this checkout bin/jobset.js would
// run a dist/ that `npm run build` left).
//
//   node bench/cli.bench.ts [--runs N] [--no-cluster] [--write-thresholds]
//
// Commands: `version`, `lint FILE`, `plan FILE` (offline), and `get` against a running API server
// (etcd + kube-apiserver with the JobSet CRD and three JobSets; skipped with --no-cluster). Each command
// runs once to warm Node's compile cache (what every run after a user's first one finds), then --runs
// times (default 7); the figures are the median wall and CPU time and the largest peak RSS. The cold
// first run is recorded too.
//
// Results: bench/results/cli.json. Limits: bench/cli-thresholds.json (at most 25% above measured
// figures; --write-thresholds rewrites them from this run). Exit 1 when a figure is over its limit.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { atSpeed, calibrate, speedFactor } from "./calibration.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const resultsPath = join(root, "bench/results/cli.json");
const thresholdsPath = join(root, "bench/cli-thresholds.json");
const fixture = join(root, "test/fixtures/jobsets/two-replicated-jobs.yaml");

/** The targets of issue 16 (shown next to the figures; the limits that fail the run are the thresholds). */
const targets: Record<string, { wallMs: number; rssMiB?: number }> = {
  version: { wallMs: 150, rssMiB: 70 },
  lint: { wallMs: 150, rssMiB: 70 },
  plan: { wallMs: 150, rssMiB: 70 },
  get: { wallMs: 300 },
};

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "7" },
    "no-cluster": { type: "boolean", default: false },
    "write-thresholds": { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: want a positive integer, got ${values.runs}`);

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
}
interface Figures {
  /** Median of the warm runs. */
  wallMs: number;
  cpuMs: number;
  /** Largest peak RSS of the warm runs. */
  maxRssMiB: number;
  /** The first run, with an empty compile cache. */
  coldWallMs: number;
  coldRssMiB: number;
}
type Variant = "dist" | "src";

/** The machine's speed before the runs (bench/calibration.ts): wall-time limits scale with it. */
const calibrationMs = calibrate();
const work = mkdtempSync(join(tmpdir(), "jobset-cli-bench-"));
const cacheDir = join(work, "compile-cache");
const usageFile = join(work, "usage.json");
// Preloaded into every measured process: on exit, writes the process's own peak RSS and CPU time.
const usageHook = `data:text/javascript,${encodeURIComponent(
  `import { writeFileSync } from "node:fs";
   process.on("exit", () => {
     const u = process.resourceUsage();
     writeFileSync(process.env.JOBSET_BENCH_USAGE, JSON.stringify({ maxRssKiB: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime }));
   });`,
)}`;

function runOnce(bin: string, args: string[]): Sample {
  rmSync(usageFile, { force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--import", usageHook, bin, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NODE_COMPILE_CACHE: cacheDir, JOBSET_BENCH_USAGE: usageFile },
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) {
    throw new Error(`jobset ${args.join(" ")} (${bin}) exited ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  const u = JSON.parse(readFileSync(usageFile, "utf8")) as { maxRssKiB: number; cpuUs: number };
  return { wallMs, cpuMs: u.cpuUs / 1000, rssMiB: u.maxRssKiB / 1024 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

function measure(bin: string, args: string[]): Figures {
  const cold = runOnce(bin, args);
  const warm = Array.from({ length: runs }, () => runOnce(bin, args));
  return {
    wallMs: round(median(warm.map((s) => s.wallMs))),
    cpuMs: round(median(warm.map((s) => s.cpuMs))),
    maxRssMiB: round(Math.max(...warm.map((s) => s.rssMiB))),
    coldWallMs: round(cold.wallMs),
    coldRssMiB: round(cold.rssMiB),
  };
}

// ---- the compiled package: dist/ built into the work dir, resolving packages from our node_modules
console.error("building dist/ into a temporary directory…");
const pkgDir = join(work, "package");
mkdirSync(pkgDir);
symlinkSync(join(root, "node_modules"), join(pkgDir, "node_modules"), "dir");
const build = spawnSync(process.execPath, [join(root, "scripts/build.ts"), join(pkgDir, "dist")], {
  cwd: root,
  encoding: "utf8",
});
if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
const bins: Record<Variant, string> = {
  dist: join(pkgDir, "dist/bin/jobset.js"),
  src: join(root, "src/cli/jobset.ts"),
};

const commands: Record<string, Partial<Record<Variant, Figures>>> = {};
const offline: [string, string[]][] = [
  ["version", ["version"]],
  ["lint", ["lint", fixture]],
  ["plan", ["plan", fixture]],
];
try {
  for (const [name, args] of offline) {
    for (const variant of ["dist", "src"] as const) {
      console.error(`jobset ${name} (${variant})…`);
      commands[name] ??= {};
      (commands[name] as Partial<Record<Variant, Figures>>)[variant] = measure(bins[variant], args);
    }
  }
  if (!values["no-cluster"]) await measureGet();
} finally {
  rmSync(work, { recursive: true, force: true });
}

async function measureGet(): Promise<void> {
  const { startControlPlane } = await import("../src/local/controlplane.ts");
  const { KubeClient } = await import("../src/runtime/client.ts");
  console.error("starting etcd + kube-apiserver for `jobset get`…");
  const cp = await startControlPlane({ profile: "apiserver" });
  try {
    const client = await KubeClient.create({ kubeconfig: cp.kubeconfigPath });
    for (const name of ["alpha", "beta", "gamma"]) {
      await client.create("/apis/jobset.x-k8s.io/v1alpha2/namespaces/default/jobsets", {
        apiVersion: "jobset.x-k8s.io/v1alpha2",
        kind: "JobSet",
        metadata: { name },
        spec: {
          replicatedJobs: [
            {
              name: "w",
              template: { spec: { template: { spec: { containers: [{ name: "c", image: "busybox" }] } } } },
            },
          ],
        },
      });
    }
    await client.close();
    for (const variant of ["dist", "src"] as const) {
      console.error(`jobset get (${variant})…`);
      commands.get ??= {};
      commands.get[variant] = measure(bins[variant], ["get", "--kubeconfig", cp.kubeconfigPath]);
    }
  } finally {
    await cp.stop();
  }
}

// ---- report, results, thresholds
type Limits = Record<string, Partial<Record<Variant, { maxWallMs: number; maxRssMiB: number }>>>;
const load = loadavg().map((l) => round(l));
writeFileSync(
  resultsPath,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loadAverage: load, calibrationMs, runs, commands }, null, 2)}\n`,
);
console.log(`\nload average ${load.join(" ")}; median of ${runs} warm runs (cold = first run, empty compile cache)`);
console.log("command   from  wall ms  cpu ms  max RSS MiB  cold ms  cold MiB  target");
for (const [name, byVariant] of Object.entries(commands)) {
  for (const [variant, f] of Object.entries(byVariant)) {
    const t = targets[name];
    const target = t ? `≤ ${t.wallMs} ms${t.rssMiB ? `, ≤ ${t.rssMiB} MiB` : ""}` : "";
    console.log(
      `${name.padEnd(9)} ${variant.padEnd(5)} ${String(f.wallMs).padStart(7)} ${String(f.cpuMs).padStart(7)} ${String(f.maxRssMiB).padStart(12)} ${String(f.coldWallMs).padStart(8)} ${String(f.coldRssMiB).padStart(9)}  ${target}`,
    );
  }
}
console.log(`results: ${resultsPath}`);

if (values["write-thresholds"]) {
  const limits: Limits = {};
  for (const [name, byVariant] of Object.entries(commands)) {
    limits[name] = {};
    for (const [variant, f] of Object.entries(byVariant) as [Variant, Figures][]) {
      (limits[name] as Partial<Record<Variant, { maxWallMs: number; maxRssMiB: number }>>)[variant] = {
        maxWallMs: Math.ceil(f.wallMs * 1.25),
        maxRssMiB: Math.ceil(f.maxRssMiB * 1.25),
      };
    }
  }
  const comment =
    "Limits checked by bench/cli.bench.ts: 25% above the figures of the run that wrote them (bench/results/cli.json at that commit). Warm runs, median wall time, largest peak RSS. Wall-time limits scale with the machine's speed: calibration now / calibrationMs (bench/calibration.ts).";
  writeFileSync(thresholdsPath, `${JSON.stringify({ comment, calibrationMs, commands: limits }, null, 2)}\n`);
  console.log(`wrote ${thresholdsPath}`);
}

const stored = JSON.parse(readFileSync(thresholdsPath, "utf8")) as { calibrationMs?: number; commands: Limits };
const limits = stored.commands;
// wall-time limits at this machine speed (bench/calibration.ts)
const speed = speedFactor(calibrationMs, stored.calibrationMs);
if (speed !== 1) console.log(`wall-time limits ×${speed} for this machine speed (calibration ${calibrationMs} ms)`);
const over: string[] = [];
for (const [name, byVariant] of Object.entries(commands)) {
  for (const [variant, f] of Object.entries(byVariant) as [Variant, Figures][]) {
    const l = limits[name]?.[variant];
    if (!l) {
      over.push(`${name} (${variant}): no threshold in ${thresholdsPath}`);
      continue;
    }
    const maxWallMs = atSpeed(l.maxWallMs, speed);
    if (f.wallMs > maxWallMs) over.push(`${name} (${variant}): wall ${f.wallMs} ms > ${maxWallMs} ms`);
    if (f.maxRssMiB > l.maxRssMiB) over.push(`${name} (${variant}): RSS ${f.maxRssMiB} MiB > ${l.maxRssMiB} MiB`);
  }
}
if (over.length > 0) {
  console.log(`\nFAIL\n  ${over.join("\n  ")}`);
  process.exit(1);
}
console.log("\nall figures within bench/cli-thresholds.json");
