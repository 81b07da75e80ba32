// The controller under benchmark, in its own process so that its CPU time and peak RSS are its own.
// Runs startControllerManager (as `jobset controller --leader-elect=false --webhooks=false` does, same
// client defaults: QPS 500, burst 500, one worker) and talks JSON lines on stdio:
//
//   stdout  {"type":"ready"}                      caches synced, workers running
//   stdin   report                                → stdout {"type":"report", ...Report}
//   stdin   stop (or SIGTERM)                     → stops, then stdout {"type":"final", ...Report}, exit 0
//
// Usage: npx node bench/runner.ts --kubeconfig PATH [--resync-ms N] [--namespace NS] [--qps N] [--burst N]
//        [--workers N]
//        [--cpu-prof]  (writes a V8 CPU profile to bench/results/ when stopping; see docs/benchmarks.md)
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { startControllerManager } from "../src/app/controller-manager.ts";
import { silentLogger } from "../src/runtime/logger.ts";

export interface RunnerReport {
  /** process.cpuUsage() of this process, seconds (user + system). */
  cpuSeconds: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  /** process.resourceUsage().maxRSS: peak resident set size, MiB. */
  peakRssMiB: number;
  /** Current RSS and V8 heap used, MiB. */
  rssMiB: number;
  heapUsedMiB: number;
  /** The controller client's requests by HTTP method (watches and list pages are GETs). */
  requests: Record<string, number>;
  /** Every request: summed seconds to the answer's status line (watches: to the stream's start), summed rate-limiter waits. */
  latency: { requests: number; seconds: number; rateLimiterSeconds: number; maxSeconds: number };
  /** JobSetController.stats (reconciles, errors, writes, skippedStale). */
  stats: Record<string, number>;
}

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    "resync-ms": { type: "string" },
    namespace: { type: "string" },
    qps: { type: "string", default: "500" },
    burst: { type: "string", default: "500" },
    "cpu-prof": { type: "string" },
    workers: { type: "string", default: "1" },
  },
});
if (!values.kubeconfig) throw new Error("--kubeconfig is required");

let profiler: Session | undefined;
if (values["cpu-prof"]) {
  profiler = new Session();
  profiler.connect();
  await profiler.post("Profiler.enable");
  await profiler.post("Profiler.start");
}

const MiB = 1024 * 1024;
const running = await startControllerManager({
  client: {
    kubeconfig: values.kubeconfig,
    qps: Number(values.qps),
    burst: Number(values.burst),
    userAgent: "jobset-bench-controller",
  },
  telemetry: { logger: silentLogger() },
  ...(values.namespace ? { namespace: values.namespace } : {}),
  jobset: {
    workers: Number(values.workers),
    ...(values["resync-ms"] ? { resyncPeriodMs: Number(values["resync-ms"]) } : {}),
  },
});

const latency = { requests: 0, seconds: 0, rateLimiterSeconds: 0, maxSeconds: 0 };
running.client.requestObservers.push((r) => {
  latency.requests++;
  latency.seconds += r.seconds;
  latency.rateLimiterSeconds += r.rateLimiterSeconds;
  latency.maxSeconds = Math.max(latency.maxSeconds, r.seconds);
});

function report(): RunnerReport {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
    rssMiB: mem.rss / MiB,
    heapUsedMiB: mem.heapUsed / MiB,
    requests: { ...running.client.requestCounts },
    latency: { ...latency },
    stats: { ...running.controller.stats },
  };
}

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const final = report(); // before shutdown traffic (lease-free, but watches close)
  if (profiler && values["cpu-prof"]) {
    const { profile } = await profiler.post("Profiler.stop");
    writeFileSync(values["cpu-prof"], JSON.stringify(profile));
  }
  await running.stop();
  say({ type: "final", ...final });
  process.exit(0);
}

process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "report") say({ type: "report", ...report() });
  else if (cmd === "stop") void stop();
});
rl.on("close", () => void stop());
say({ type: "ready" });
