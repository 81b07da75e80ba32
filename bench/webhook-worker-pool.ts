// Experiment (docs/benchmarks.md, "Admission webhook latency"): does handling admission requests on worker
// threads lower p99? The main thread keeps TLS and HTTP; each request body goes to one of N workers
// (the one with the fewest requests in flight), which parses the review, runs the same handlers as
// bench/webhook-server.ts and serialises the answer; with 0 workers the same minimal server runs them
// inline (to tell the workers' effect from the server's). `node bench/webhook.bench.ts --workers N`.
// Not used in production code: see the measurements in docs/benchmarks.md.
import { once } from "node:events";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { defaultFeatureGates } from "../src/api/features.ts";
import { errored, parseAdmissionReview, reviewResponse } from "../src/webhooks/admission.ts";
import { webhookHandlers } from "../src/webhooks/handlers.ts";

interface Job {
  id: number;
  path: string;
  body: string;
}

const handlers = webhookHandlers({
  gates: defaultFeatureGates,
  getPVC: async () => undefined,
  pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes in the benchmark")) },
});
const signal = new AbortController().signal;

/** Parses, handles and serialises one review (on a worker, or inline with 0 workers). */
async function answerOf(path: string, body: string): Promise<string> {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) return JSON.stringify(reviewResponse("", errored(400, parsed.message)));
  const handler = handlers[path];
  const outcome = handler ? await handler(parsed.request, signal) : errored(404, "no handler");
  return JSON.stringify(reviewResponse(parsed.request.uid, outcome, parsed.apiVersion, parsed.kind));
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on("message", async (job: Job) => {
    port.postMessage({ id: job.id, answer: await answerOf(job.path, job.body) });
  });
}

export interface PooledServer {
  port: number;
  stop(): Promise<void>;
}

/** An HTTPS admission server whose handlers run on `workers` worker threads (0: inline). */
export async function startPooledServer(cert: { cert: string; key: string }, workers: number): Promise<PooledServer> {
  const pool = Array.from({ length: workers }, () => ({
    worker: new Worker(new URL(import.meta.url)),
    inFlight: 0,
  }));
  const pending = new Map<number, (answer: string) => void>();
  for (const w of pool) {
    w.worker.on("message", (m: { id: number; answer: string }) => {
      w.inFlight--;
      pending.get(m.id)?.(m.answer);
      pending.delete(m.id);
    });
  }
  let next = 0;
  const server = https.createServer({ cert: cert.cert, key: cert.key, minVersion: "TLSv1.2" }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const body = Buffer.concat(chunks).toString("utf8");
      const reply = (answer: string) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
        res.end(answer);
      };
      const first = pool[0];
      if (!first) {
        void answerOf(path, body).then(reply);
        return;
      }
      const w = pool.reduce((a, b) => (b.inFlight < a.inFlight ? b : a), first);
      const id = next++;
      w.inFlight++;
      pending.set(id, reply);
      w.worker.postMessage({ id, path, body });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await Promise.all(pool.map((w) => w.worker.terminate()));
    },
  };
}
