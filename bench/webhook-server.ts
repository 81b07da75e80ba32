// The webhook server under benchmark, in its own process (its CPU is its own, as in a real deployment).
// Serves the four admission handlers over TLS on 127.0.0.1 with a throwaway certificate, prints
// {"port": N, "ca": PEM} on stdout, answers a `cpu` line on stdin with {"cpuMs": N} (this process's CPU
// time so far: user + system), and stops on SIGTERM or when stdin closes.
//
// Usage: node bench/webhook-server.ts [--cpu-prof PATH] [--workers N] [--gc-stats]
//   --cpu-prof: writes a V8 CPU profile of the main thread there when stopping
//   --workers:  the experiment of bench/webhook-worker-pool.ts (handlers on N worker threads)
//   --gc-stats: prints this process's GC pauses by kind on stderr when stopping
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { PerformanceObserver } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { defaultFeatureGates } from "../src/api/features.ts";
import { tlsWebhookServer } from "../test/support/webhook-server.ts";
import { startPooledServer } from "./webhook-worker-pool.ts";

const { values } = parseArgs({
  options: { "cpu-prof": { type: "string" }, workers: { type: "string" }, "gc-stats": { type: "boolean" } },
});

// --gc-stats: garbage-collection pauses of this process by kind (count, total, longest), on stderr at stop.
const gcKinds: Record<number, string> = { 1: "minor", 2: "major", 4: "incremental", 8: "weakcb" };
const gc = new Map<string, { count: number; totalMs: number; maxMs: number }>();
if (values["gc-stats"]) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = (e as PerformanceEntry & { detail?: { kind?: number } }).detail;
      const kind = gcKinds[detail?.kind ?? 0] ?? "other";
      const g = gc.get(kind) ?? { count: 0, totalMs: 0, maxMs: 0 };
      g.count++;
      g.totalMs += e.duration;
      g.maxMs = Math.max(g.maxMs, e.duration);
      gc.set(kind, g);
    }
  }).observe({ entryTypes: ["gc"] });
}

let profiler: Session | undefined;
if (values["cpu-prof"]) {
  profiler = new Session();
  profiler.connect();
  await profiler.post("Profiler.enable");
  await profiler.post("Profiler.start");
}

const { server, caPem, leaf } = tlsWebhookServer("webhook-bench-ca", {
  gates: defaultFeatureGates,
  // No PVC exists (an informer cache miss).
  getPVC: async () => undefined,
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes in the benchmark")) },
});
const pooled = values.workers ? await startPooledServer(leaf, Number(values.workers)) : undefined;
if (!pooled) await server.start();
process.stdout.write(`${JSON.stringify({ port: pooled?.port ?? server.port, ca: caPem })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const [kind, g] of gc) {
    process.stderr.write(
      `GC ${kind}: ${g.count} pauses, ${g.totalMs.toFixed(1)} ms in all, longest ${g.maxMs.toFixed(2)} ms\n`,
    );
  }
  if (pooled) await pooled.stop();
  else await server.stop(1_000);
  if (profiler && values["cpu-prof"]) {
    const { profile } = await profiler.post("Profiler.stop");
    writeFileSync(values["cpu-prof"], JSON.stringify(profile));
  }
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() !== "cpu") return;
  const u = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpuMs: (u.user + u.system) / 1000 })}\n`);
});
lines.on("close", () => void stop());
