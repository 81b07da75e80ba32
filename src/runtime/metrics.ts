// Prometheus metrics for the process: one prom-client Registry holding controller-runtime's reconcile
// and work-queue families, client-go's REST-client families, informer telemetry and leader election.
// Controllers register their own families on `registry` (JobSet's: src/controllers/jobset/metrics.ts).
// Plus the /metrics HTTP(S) server (TLS ≥ 1.2 when a certificate is given; optional Kubernetes authn/authz).
import { readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { join } from "node:path";
import type { SecureVersion } from "node:tls";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { KubeClient, RequestInfo } from "./client.ts";
import type { InformerMetricsSink } from "./informer.ts";
import { closeServer, listen, parseBindAddress } from "./net.ts";
import { http } from "./node-http.ts";
import { Resources, resourcePath } from "./resources.ts";
import type { QueueMetricsSink, ReconcileOutcome, WorkQueue } from "./workqueue.ts";

/** controller-runtime's reconcile-time buckets. */
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
  2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's work-queue buckets: ExponentialBuckets(10e-9, 10, 12). */
const queueBuckets = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
/** client-go's REST-client latency buckets. */
const restBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0];

export class Metrics {
  readonly registry: Registry;
  // controller-runtime
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly terminalReconcileErrors: Counter<"controller">;
  readonly reconcilePanics: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly maxConcurrentReconciles: Gauge<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  // work queue
  readonly queueDepth: Gauge<"name" | "controller">;
  readonly queueAdds: Counter<"name" | "controller">;
  readonly queueRetries: Counter<"name" | "controller">;
  readonly queueLatency: Histogram<"name" | "controller">;
  readonly queueWorkDuration: Histogram<"name" | "controller">;
  private readonly queues = new Map<string, WorkQueue>();
  // REST client
  readonly restRequests: Counter<"code" | "method" | "host">;
  readonly restLatency: Histogram<"verb" | "host">;
  readonly restRateLimiterLatency: Histogram<"verb" | "host">;
  // informers
  readonly informerEvents: Counter<"resource" | "type">;
  readonly informerRelists: Counter<"resource" | "reason">;
  readonly informerReconnects: Counter<"resource" | "reason">;
  // leader election (client-go's leader_election_master_status)
  readonly leaderStatus: Gauge<"name">;

  constructor(registry: Registry = new Registry(), opts: { processMetrics?: boolean } = {}) {
    this.registry = registry;
    const registers = [registry];
    if (opts.processMetrics) collectDefaultMetrics({ register: registry });
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.terminalReconcileErrors = new Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Total number of terminal reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcilePanics = new Counter({
      name: "controller_runtime_reconcile_panics_total",
      help: "Total number of reconciliation panics per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: reconcileBuckets,
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"],
      registers,
    });
    this.activeWorkers = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"],
      registers,
    });
    this.queueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: ["name", "controller"],
      registers,
    });
    this.queueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames: ["name", "controller"],
      registers,
    });
    this.queueRetries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames: ["name", "controller"],
      registers,
    });
    this.queueLatency = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: ["name", "controller"],
      buckets: queueBuckets,
      registers,
    });
    this.queueWorkDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes.",
      labelNames: ["name", "controller"],
      buckets: queueBuckets,
      registers,
    });
    const queues = this.queues;
    new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help:
        "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
        "Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      labelNames: ["name", "controller"],
      registers,
      collect() {
        for (const [name, q] of queues) this.set({ name, controller: name }, q.unfinishedWorkSeconds());
      },
    });
    new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running.",
      labelNames: ["name", "controller"],
      registers,
      collect() {
        for (const [name, q] of queues) this.set({ name, controller: name }, q.longestRunningProcessorSeconds());
      },
    });
    this.restRequests = new Counter({
      name: "rest_client_requests_total",
      help: "Number of HTTP requests, partitioned by status code, method, and host.",
      labelNames: ["code", "method", "host"],
      registers,
    });
    this.restLatency = new Histogram({
      name: "rest_client_request_duration_seconds",
      help: "Request latency in seconds. Broken down by verb, and host.",
      labelNames: ["verb", "host"],
      buckets: restBuckets,
      registers,
    });
    this.restRateLimiterLatency = new Histogram({
      name: "rest_client_rate_limiter_duration_seconds",
      help: "Client side rate limiter latency in seconds. Broken down by verb, and host.",
      labelNames: ["verb", "host"],
      buckets: restBuckets,
      registers,
    });
    this.informerEvents = new Counter({
      name: "informer_watch_events_total",
      help: "Watch events received by informers, by resource and event type.",
      labelNames: ["resource", "type"],
      registers,
    });
    this.informerRelists = new Counter({
      name: "informer_relists_total",
      help: "Full LISTs made by informers, by resource and reason (initial, expired, periodic, error).",
      labelNames: ["resource", "reason"],
      registers,
    });
    this.informerReconnects = new Counter({
      name: "informer_watch_reconnects_total",
      help: "Watch reconnections made by informers, by resource and reason (closed, error, stalled).",
      labelNames: ["resource", "reason"],
      registers,
    });
    this.leaderStatus = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
      labelNames: ["name"],
      registers,
    });
  }

  /** Work-queue metrics for the queue of controller `name`; registers the queue for the in-progress gauges. */
  queueSink(name: string, queue?: WorkQueue): QueueMetricsSink {
    if (queue) this.queues.set(name, queue);
    const l = { name, controller: name };
    this.queueDepth.set(l, 0);
    this.queueAdds.inc(l, 0);
    this.queueRetries.inc(l, 0);
    return {
      add: () => this.queueAdds.inc(l),
      depth: (n) => this.queueDepth.set(l, n),
      queueLatency: (s) => this.queueLatency.observe(l, s),
      workDuration: (s) => this.queueWorkDuration.observe(l, s),
      retry: () => this.queueRetries.inc(l),
    };
  }

  /** Attaches a queue created before its sink (for the unfinished-work gauges). */
  trackQueue(name: string, queue: WorkQueue): void {
    this.queues.set(name, queue);
  }

  /** Initializes controller `name`'s series (as controller-runtime does, so they exist at 0). */
  initController(name: string, maxConcurrent: number): void {
    for (const result of ["success", "error", "requeue", "requeue_after"])
      this.reconcileTotal.inc({ controller: name, result }, 0);
    this.reconcileErrors.inc({ controller: name }, 0);
    this.terminalReconcileErrors.inc({ controller: name }, 0);
    this.reconcilePanics.inc({ controller: name }, 0);
    this.maxConcurrentReconciles.set({ controller: name }, maxConcurrent);
    this.activeWorkers.set({ controller: name }, 0);
  }

  /** Records one reconcile of controller `name`. */
  observeReconcile(name: string, outcome: ReconcileOutcome, seconds: number): void {
    this.reconcileTotal.inc({ controller: name, result: outcome });
    if (outcome === "error") this.reconcileErrors.inc({ controller: name });
    this.reconcileTime.observe({ controller: name }, seconds);
  }

  /** Counts every request of `client` in the REST-client families. */
  instrumentClient(client: KubeClient): void {
    client.requestObservers.push((r: RequestInfo) => {
      this.restRequests.inc({ code: r.code === 0 ? "<error>" : String(r.code), method: r.method, host: r.host });
      this.restLatency.observe({ verb: r.method, host: r.host }, r.seconds);
      this.restRateLimiterLatency.observe({ verb: r.method, host: r.host }, r.rateLimiterSeconds);
    });
  }

  /** Informer telemetry for resource `resource` (e.g. "jobs.batch"). */
  informerSink(resource: string): InformerMetricsSink {
    return {
      event: (type) => this.informerEvents.inc({ resource, type }),
      relist: (reason) => this.informerRelists.inc({ resource, reason }),
      reconnect: (reason) => this.informerReconnects.inc({ resource, reason }),
    };
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

let processMetrics: Metrics | undefined;
/** The process-wide metrics (one Registry per process, with Node process metrics). */
export function defaultMetrics(): Metrics {
  processMetrics ??= new Metrics(new Registry(), { processMetrics: true });
  return processMetrics;
}

export type TlsMinVersion = "VersionTLS12" | "VersionTLS13";

export interface MetricsServerOptions {
  /** `host:port`, `:port`, or "0" to disable (no server; resolves `undefined`). */
  bindAddress: string;
  metrics: Metrics;
  /** Serve HTTPS with these (PEM files); otherwise plain HTTP. */
  certFile?: string;
  keyFile?: string;
  /** Alternatively, a directory holding `tls.crt` and `tls.key`. */
  certDir?: string;
  /** Minimum TLS version (default TLS 1.2; TLS 1.0/1.1 are never accepted). */
  minVersion?: TlsMinVersion;
  /** OpenSSL cipher list (TLS 1.2 suites). */
  ciphers?: string;
  /**
   * Decides whether a request may read /metrics: `true` allows; a number is the HTTP status to deny
   * with (401/403). See `kubeMetricsAuthorizer`.
   */
  authorize?: (req: IncomingMessage) => Promise<true | number>;
}

export interface RunningServer {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Starts the /metrics server. */
export async function startMetricsServer(o: MetricsServerOptions): Promise<RunningServer | undefined> {
  const bind = parseBindAddress(o.bindAddress);
  if (!bind) return undefined;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (o.authorize) {
        const ok = await o.authorize(req).catch(() => 500);
        if (ok !== true) {
          res.writeHead(ok, { "content-type": "text/plain" }).end(ok === 401 ? "Unauthorized\n" : "Forbidden\n");
          return;
        }
      }
      const body = await o.metrics.text();
      res
        .writeHead(200, { "content-type": o.metrics.registry.contentType })
        .end(req.method === "HEAD" ? undefined : body);
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`${e instanceof Error ? e.message : String(e)}\n`);
    });
  };
  let certFile = o.certFile;
  let keyFile = o.keyFile;
  if (!certFile && o.certDir) {
    certFile = join(o.certDir, "tls.crt");
    keyFile = join(o.certDir, "tls.key");
  }
  let server: Server;
  if (certFile && keyFile) {
    const minVersion: SecureVersion = o.minVersion === "VersionTLS13" ? "TLSv1.3" : "TLSv1.2";
    const https = createHttpsServer(
      {
        cert: readFileSync(certFile),
        key: readFileSync(keyFile),
        minVersion,
        ...(o.ciphers ? { ciphers: o.ciphers } : {}),
      },
      handler,
    );
    server = https as unknown as Server;
  } else {
    server = http.createServer(handler);
  }
  const port = await listen(server, bind);
  return { server, port, close: () => closeServer(server) };
}

interface TokenReview {
  status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[] } };
}
interface SubjectAccessReview {
  status?: { allowed?: boolean };
}

/**
 * controller-runtime's `WithAuthenticationAndAuthorization` filter: the bearer token is checked with a
 * TokenReview, then a SubjectAccessReview asks whether its user may `get` the non-resource URL
 * `/metrics`. Answers are cached for `cacheMs` (default 10 s).
 */
export function kubeMetricsAuthorizer(
  client: KubeClient,
  cacheMs = 10_000,
): (req: IncomingMessage) => Promise<true | number> {
  const cache = new Map<string, { at: number; result: true | number }>();
  return async (req) => {
    const auth = req.headers.authorization ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (!m?.[1]) return 401;
    const token = m[1];
    const hit = cache.get(token);
    if (hit && Date.now() - hit.at < cacheMs) return hit.result;
    const tr = await client.create<TokenReview>(resourcePath(Resources.tokenReviews), {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token },
    });
    let result: true | number = 401;
    const user = tr.status?.user;
    if (tr.status?.authenticated && user) {
      const sar = await client.create<SubjectAccessReview>(resourcePath(Resources.subjectAccessReviews), {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          uid: user.uid,
          groups: user.groups,
          nonResourceAttributes: { path: "/metrics", verb: "get" },
        },
      });
      result = sar.status?.allowed ? true : 403;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(token, { at: Date.now(), result });
    return result;
  };
}
