// Admission webhook latency (`npm run bench:webhook`, part of `npm run bench`; docs/benchmarks.md).
// Starts the webhook server in its own process (bench/webhook-server.ts) and sends it a fixed set of
// AdmissionReview requests from a Go load generator (bench/webhook-load) over TLS with keep-alive
// connections, 8 in flight (as the issue's comparison with upstream did), endpoint after endpoint. Records
// p50/p99/mean latency and throughput per endpoint, measured by the client from the request's first byte to
// the answer's last, and the server's CPU milliseconds per request (steadier than latency on a loaded
// machine: it does not count waiting for a core).
//
// Results: bench/results/webhook.local.json (gitignored); `--reference` also writes
// bench/results/webhook.json (the committed reference). Checked against the `webhook` section of
// bench/thresholds.json; exits 1 when a threshold is broken.
//
// Flags: --requests N   requests per endpoint (default 3000, after 500 warm-up requests in all)
//        --cpu-prof P   V8 CPU profile of the server process, written to P
//        --gc-stats     the server prints its GC pauses by kind (stderr) when it stops
//        --server-node-flags="F…"   Node/V8 flags of the server process (e.g. ="--max-semi-space-size=32"),
//                       instead of the deployed ones (the Dockerfile's ENTRYPOINT: bench/deployed-node-flags.ts)
//        --workers N    the worker-thread experiment (bench/webhook-worker-pool.ts); not for references
//        --upstream     measure upstream's Go webhooks instead (test/support/upstream-webhook: jobset v0.12.0),
//                       same requests and load generator; results to --out or webhook-upstream.local.json
//        --only S       only the endpoints whose path contains S (profiling; thresholds of the others are skipped)
//        --out FILE     write the results there instead of bench/results/webhook.local.json
//        --reference
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startUpstreamWebhook } from "../test/support/upstream-webhook.ts";
import { atSpeed, calibrate, speedFactor } from "./calibration.ts";
import { deployedEntrypoint } from "./deployed-node-flags.ts";
import { requests } from "./webhook-requests.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    requests: { type: "string", default: "3000" },
    "cpu-prof": { type: "string" },
    reference: { type: "boolean", default: false },
    out: { type: "string" },
    only: { type: "string" },
    upstream: { type: "boolean", default: false },
    workers: { type: "string" },
    "gc-stats": { type: "boolean", default: false },
    "server-node-flags": { type: "string" },
  },
});
const perEndpoint = Number(flags.requests);
if (flags.reference && (flags.workers || flags["server-node-flags"] || flags.only || flags.upstream)) {
  throw new Error(
    "--workers, --server-node-flags, --only and --upstream are experiments or comparisons: they cannot write the reference",
  );
}
const InFlight = 8;
const WarmUp = 500;

// ---------------------------------------------------------------------------------------------- client

/**
 * The load generator: bench/webhook-load (Go), built with the machine's `go` (its build cache makes later
 * builds instant) and fed over stdin. Not a Node client: on the same two cores a Node client's own
 * garbage collection and event-loop queueing stalled it for up to 36 ms, and those stalls counted as
 * webhook latency (docs/benchmarks.md, "The load generator").
 */
interface LoadGenerator {
  run(path: string, count: number): Promise<{ latenciesMs: number[]; seconds: number }>;
  close(): Promise<void>;
}

function buildLoadGenerator(): string {
  const src = join(here, "webhook-load");
  const bin = join(os.tmpdir(), `jobset-webhook-load-${process.getuid?.() ?? 0}`);
  const r = spawnSync("go", ["build", "-o", bin, "."], { cwd: src, stdio: ["ignore", "inherit", "inherit"] });
  if (r.error || r.status !== 0) {
    throw new Error(
      `cannot build the load generator in ${src} (${r.error?.message ?? `go build exited ${r.status}`}); ` +
        "install Go 1.24 or newer (the local control plane needs it too)",
    );
  }
  return bin;
}

function startLoadGenerator(port: number, ca: string, payloads: Record<string, string[]>): LoadGenerator {
  const child = spawn(buildLoadGenerator(), [], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const pending: ((line: string) => void)[] = [];
  lines.on("line", (l) => pending.shift()?.(l));
  child.stdin.write(`${JSON.stringify({ port, ca, inFlight: InFlight, payloads })}\n`);
  return {
    run(path, count) {
      return new Promise((res, rej) => {
        const onExit = (code: number | null) => rej(new Error(`load generator exited (${code})`));
        child.once("exit", onExit);
        pending.push((line) => {
          child.off("exit", onExit);
          const r = JSON.parse(line) as { latenciesMs?: number[]; seconds?: number; error?: string };
          if (r.error !== undefined) rej(new Error(`load generator: ${r.error}`));
          else res({ latenciesMs: r.latenciesMs ?? [], seconds: r.seconds ?? 0 });
        });
        child.stdin.write(`${JSON.stringify({ path, count })}\n`);
      });
    },
    close() {
      child.stdin.end();
      return new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
    },
  };
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------- main

interface EndpointResult {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  requestsPerSecond: number;
  serverCpuMsPerRequest: number;
}
interface Thresholds {
  webhook?: {
    /** The calibration of the runs the limits came from (bench/calibration.ts): every limit scales with it. */
    calibrationMs?: number;
    endpoints: Record<string, { maxP50Ms: number; maxP99Ms: number; maxServerCpuMsPerRequest: number }>;
  };
}

/** The server under benchmark: its port, the CA its certificate chains to, its CPU so far, and a stop. */
interface ServerUnderTest {
  port: number;
  ca: string;
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
  /** Node flags it runs with (ours) or what it is (upstream). */
  description: string;
}

/** Ours: bench/webhook-server.ts in its own Node process, with the deployed Node flags unless overridden. */
async function startOurs(): Promise<ServerUnderTest> {
  const nodeFlags = flags["server-node-flags"]?.split(/\s+/).filter((f) => f !== "") ?? deployedEntrypoint().nodeFlags;
  const serverArgs = [...nodeFlags, join(here, "webhook-server.ts")];
  if (flags["cpu-prof"]) serverArgs.push("--cpu-prof", resolve(flags["cpu-prof"]));
  if (flags.workers) serverArgs.push("--workers", flags.workers);
  if (flags["gc-stats"]) serverArgs.push("--gc-stats");
  const child = spawn(process.execPath, serverArgs, { stdio: ["pipe", "pipe", "inherit"] });
  const rl = createInterface({ input: child.stdout });
  const nextLine = () =>
    new Promise<string>((res, rej) => {
      rl.once("line", res);
      child.once("exit", (code) => rej(new Error(`webhook server exited (${code})`)));
    });
  const { port, ca } = JSON.parse(await nextLine()) as { port: number; ca: string };
  return {
    port,
    ca,
    description: nodeFlags.join(" "),
    async cpuMs() {
      const line = nextLine();
      child.stdin.write("cpu\n");
      return (JSON.parse(await line) as { cpuMs: number }).cpuMs;
    },
    async stop() {
      child.stdin.end();
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    },
  };
}

/** CPU milliseconds (user + system) a process has used so far, from /proc (Linux). */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ on Linux
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

/** Upstream's: sigs.k8s.io/jobset v0.12.0's webhooks in Go (test/support/upstream-webhook.ts builds and starts it). */
async function startUpstream(): Promise<ServerUnderTest> {
  const up = await startUpstreamWebhook();
  return {
    port: up.port,
    ca: up.caPem,
    description: "upstream sigs.k8s.io/jobset v0.12.0 (Go)",
    cpuMs: async () => procCpuMs(up.pid),
    stop: () => up.stop(),
  };
}

async function main(): Promise<number> {
  const calibrationMs = calibrate();
  const server = flags.upstream ? await startUpstream() : await startOurs();
  const { port, ca } = server;
  const serverCpuMs = () => server.cpuMs();
  const all = Object.fromEntries(
    Object.entries(requests()).filter(([path]) => flags.only === undefined || path.includes(flags.only)),
  );
  const load = startLoadGenerator(port, ca, all);
  const results: Record<string, EndpointResult> = {};
  const loadBefore = os.loadavg()[0] ?? 0;
  try {
    // Warm-up: every endpoint, so the server's code is optimised before anything is measured.
    for (const path of Object.keys(all)) await load.run(path, WarmUp / Object.keys(all).length);
    for (const path of Object.keys(all)) {
      const cpu0 = await serverCpuMs();
      const { latenciesMs: lat, seconds } = await load.run(path, perEndpoint);
      const cpuMs = (await serverCpuMs()) - cpu0;
      const sorted = [...lat].sort((a, b) => a - b);
      results[path] = {
        requests: lat.length,
        p50Ms: round(percentile(sorted, 50)),
        p99Ms: round(percentile(sorted, 99)),
        meanMs: round(lat.reduce((s, v) => s + v, 0) / lat.length),
        maxMs: round(sorted[sorted.length - 1] ?? 0),
        requestsPerSecond: round(lat.length / seconds, 1),
        serverCpuMsPerRequest: round(cpuMs / lat.length),
      };
      process.stdout.write(
        `${path.padEnd(44)} p50 ${results[path].p50Ms.toFixed(2)} ms  p99 ${results[path].p99Ms.toFixed(2)} ms  ` +
          `${results[path].requestsPerSecond} req/s  server CPU ${results[path].serverCpuMsPerRequest} ms/request\n`,
      );
    }
  } finally {
    await load.close();
    await server.stop();
  }

  const thresholds = JSON.parse(readFileSync(join(here, "thresholds.json"), "utf8")) as Thresholds;
  const broken: string[] = [];
  // limits at this machine speed (bench/calibration.ts)
  const f = speedFactor(calibrationMs, thresholds.webhook?.calibrationMs);
  if (f !== 1) process.stdout.write(`limits ×${f} for this machine speed (calibration ${calibrationMs} ms)\n`);
  // The limits are ours: a run of upstream's server is a comparison, not checked against them.
  for (const [path, limit] of Object.entries(flags.upstream ? {} : (thresholds.webhook?.endpoints ?? {}))) {
    if (!Object.hasOwn(all, path)) continue;
    const r = results[path];
    if (!r) broken.push(`${path}: not measured`);
    else {
      const p50 = atSpeed(limit.maxP50Ms, f);
      const p99 = atSpeed(limit.maxP99Ms, f);
      const cpu = atSpeed(limit.maxServerCpuMsPerRequest, f);
      if (r.p50Ms > p50) broken.push(`${path}: p50 ${r.p50Ms} ms > ${p50} ms`);
      if (r.p99Ms > p99) broken.push(`${path}: p99 ${r.p99Ms} ms > ${p99} ms`);
      if (r.serverCpuMsPerRequest > cpu)
        broken.push(`${path}: server CPU ${r.serverCpuMsPerRequest} ms/request > ${cpu}`);
    }
  }
  const out = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      loadAverage1m: { before: round(loadBefore, 2), after: round(os.loadavg()[0] ?? 0, 2) },
      calibrationMs,
    },
    node: process.version,
    ...(flags.workers ? { workers: Number(flags.workers) } : {}),
    server: server.description,
    loadGenerator: "bench/webhook-load (Go)",
    inFlight: InFlight,
    requestsPerEndpoint: perEndpoint,
    endpoints: results,
    thresholdsBroken: broken,
    passed: broken.length === 0,
  };
  const dir = join(here, "results");
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(out, null, 2)}\n`;
  const localName = flags.upstream ? "webhook-upstream.local.json" : "webhook.local.json";
  writeFileSync(flags.out ? resolve(flags.out) : join(dir, localName), json);
  if (flags.reference) writeFileSync(join(dir, "webhook.json"), json);
  for (const b of broken) process.stdout.write(`THRESHOLD BROKEN ${b}\n`);
  process.stdout.write(broken.length === 0 ? "webhook thresholds met\n" : "WEBHOOK THRESHOLDS BROKEN\n");
  return broken.length === 0 ? 0 : 1;
}

process.exitCode = await main();
