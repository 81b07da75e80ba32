// In-process cost of the admission handlers (no TLS, no HTTP): for each endpoint of webhook.bench.ts, the
// request body is parsed as the server parses it, handled, and the answer serialised, N times in a row.
// Prints CPU microseconds per request and garbage-collection pauses (count and milliseconds per 1,000
// requests: a proxy for allocations). On a shared machine this is steadier than latency: it measures work,
// not waiting for a core. Not part of `npm run bench` (no thresholds): a tool for optimising the handlers.
//
// Usage: node [--cpu-prof] bench/webhook-cpu.bench.ts [--requests N] [--only validate-jobset] [--json]
import { PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { defaultFeatureGates } from "../src/api/features.ts";
import { type Outcome, parseAdmissionReview, reviewResponse } from "../src/webhooks/admission.ts";
import { webhookHandlers } from "../src/webhooks/handlers.ts";
import { requests } from "./webhook-requests.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "6000" },
    only: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const n = Number(values.requests);

const handlers = webhookHandlers({
  gates: defaultFeatureGates,
  getPVC: async () => undefined, // no PVC exists (a cache miss)
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes in the benchmark")) },
});

let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ["gc"] });

const signal = new AbortController().signal;
async function once(path: string, body: Buffer): Promise<number> {
  const parsed = parseAdmissionReview(body.toString("utf8"));
  if (!parsed.ok) throw new Error(parsed.message);
  const handler = handlers[path];
  if (!handler) throw new Error(`no handler for ${path}`);
  const outcome: Outcome = await handler(parsed.request, signal);
  return JSON.stringify(reviewResponse(parsed.request.uid, outcome, parsed.apiVersion, parsed.kind)).length;
}

async function run(path: string, bodies: Buffer[], count: number): Promise<void> {
  for (let i = 0; i < count; i++) await once(path, bodies[i % bodies.length] ?? Buffer.alloc(0));
}

const results: Record<string, { cpuUsPerRequest: number; gcPer1000: number; gcMsPer1000: number }> = {};
const all = Object.entries(requests())
  .filter(([path]) => values.only === undefined || path.includes(values.only))
  .map(([path, bodies]) => [path, bodies.map((b) => Buffer.from(b))] as const);
for (const [path, bodies] of all) await run(path, bodies, 500); // warm-up
for (const [path, bodies] of all) {
  await new Promise((r) => setTimeout(r, 50)); // let pending GC entries arrive
  const [c0, g0, m0] = [process.cpuUsage(), gcCount, gcMs];
  await run(path, bodies, n);
  const c = process.cpuUsage(c0);
  await new Promise((r) => setTimeout(r, 50));
  results[path] = {
    cpuUsPerRequest: Math.round(((c.user + c.system) / n) * 10) / 10,
    gcPer1000: Math.round(((gcCount - g0) / n) * 1000 * 10) / 10,
    gcMsPer1000: Math.round(((gcMs - m0) / n) * 1000 * 100) / 100,
  };
}
if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  for (const [path, r] of Object.entries(results)) {
    process.stdout.write(
      `${path.padEnd(44)} ${String(r.cpuUsPerRequest).padStart(7)} µs CPU/request  ` +
        `GC ${r.gcPer1000} pauses, ${r.gcMsPer1000} ms per 1,000 requests\n`,
    );
  }
}
