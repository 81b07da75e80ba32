// A thin Kubernetes REST client: raw JSON in and out, one HTTP/1.1 connection pool, client-side
// token-bucket rate limiters (client-go's QPS/burst, one bucket per resource as controller-runtime's
// per-kind REST clients have: ADR 0024), explicit patch content types, a user agent, and watch streams.
// Kubeconfig loading and authentication: kubeconfig.ts.
import type { KubeObject, Status } from "../api/k8s.ts";
import { type Credentials, loadKubeConfig, type ResolvedKubeConfig } from "./kubeconfig.ts";
import { Transport, type TransportResponse } from "./transport.ts";

export type PatchType = "merge" | "json" | "strategic" | "apply";
const patchContentTypes: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** An error answered by the API server (or a transport failure, code 0). */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: Status | undefined;
  constructor(code: number, reason: string, message: string, status?: Status) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
    this.status = status;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.reason === "AlreadyExists";
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;
export const isGone = (e: unknown): boolean => e instanceof ApiError && e.code === 410;

/** client-go's token bucket: `qps` tokens per second, at most `burst` saved up. qps <= 0 disables it. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  readonly qps: number;
  readonly burst: number;
  private readonly now: () => number;
  constructor(qps: number, burst: number, now: () => number = () => performance.now()) {
    this.qps = qps;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.last = now();
  }
  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
  }
  /** Resolves when a token is available, and takes it. Waiters are served in arrival order. */
  acquire(): Promise<void> {
    if (this.qps <= 0) return Promise.resolve();
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }
  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, ((1 - this.tokens) / this.qps) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiters.shift()?.();
      }
      if (this.waiters.length > 0) this.schedule();
    }, wait);
  }
}

/**
 * The rate-limiter key of a request path: group/version/resource, subresources and object names left out
 * (`/apis/batch/v1/namespaces/ns/jobs/j/status` → `batch/v1/jobs`, `/api/v1/services` → `v1/services`).
 * controller-runtime builds one REST client per kind, each with its own token bucket of the configured
 * QPS and burst, so upstream's Job creates never wait behind its Service creates or status writes.
 * Paths outside /api and /apis (discovery, /version) share the key "".
 */
export function rateLimiterKey(path: string): string {
  const q = path.indexOf("?");
  const segs = (q < 0 ? path : path.slice(0, q)).split("/").filter((s) => s !== "");
  let gv: string;
  let rest: string[];
  if (segs[0] === "api" && segs.length >= 2) {
    gv = segs[1] ?? "";
    rest = segs.slice(2);
  } else if (segs[0] === "apis" && segs.length >= 3) {
    gv = `${segs[1]}/${segs[2]}`;
    rest = segs.slice(3);
  } else return "";
  // namespaced resources: namespaces/<ns>/<resource>/...; the namespaces resource itself otherwise
  const resource = rest[0] === "namespaces" && rest.length >= 3 ? rest[2] : rest[0];
  return resource === undefined ? gv : `${gv}/${resource}`;
}

/** Request paths whose token bucket a client remembers (rateLimiterFor). */
const PathMemo = 1024;

export interface ClientOptions {
  /** Path of a kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or in-cluster. */
  kubeconfig?: string;
  /** Context of the kubeconfig to use; default: its current context. */
  context?: string;
  /** Client-side rate limit of each resource (default QPS 500, burst 500; qps <= 0 disables it). */
  qps?: number;
  burst?: number;
  userAgent?: string;
  /** Called once per request when the answer's status line arrives (or the transport fails). */
  onRequest?: RequestObserver;
}

/** What a request observer sees (the REST-client metrics of metrics.ts are one). */
export interface RequestInfo {
  method: string;
  path: string;
  /** HTTP status code, or 0 for a transport failure. */
  code: number;
  /** Seconds from sending to the status line (rate-limiter wait excluded). */
  seconds: number;
  /** Seconds spent waiting for the client-side rate limiter. */
  rateLimiterSeconds: number;
  host: string;
}
export type RequestObserver = (info: RequestInfo) => void;

export interface WatchOptions {
  /** Called when the server has accepted the watch (2xx status line), before any event. */
  onConnect?: () => void;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Requests that stream for a long time (watches) skip the rate limiter's accounting of body time. */
  timeoutMs?: number;
  /** Accept header (default application/json; pods/log answers text). */
  accept?: string;
}

export interface WatchEvent<T = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface ListResult<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface DeleteOptions {
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

// Paths are built by resources.ts (re-exported here for callers that import them with the client).
export { type GroupVersionResource, type ResourceRef, Resources, resourcePath } from "./resources.ts";

export class KubeClient {
  /** Number of requests sent, by HTTP method (for benchmarks and metrics). */
  readonly requestCounts: Record<string, number> = {};
  readonly server: string;
  /** host[:port] of the API server (the `host` label of REST-client metrics). */
  readonly host: string;
  /** The resolved kubeconfig (context, namespace, TLS, credentials). */
  readonly config: ResolvedKubeConfig;
  /** Token buckets by rateLimiterKey, made on first use. */
  private readonly limiters = new Map<string, TokenBucket>();
  /** The bucket of recent request paths (rateLimiterKey parses the path; a path repeats in a burst). */
  private readonly limiterByPath = new Map<string, TokenBucket>();
  private transport: Transport;
  /** The client certificate the transport was built with (exec plugins may rotate it). */
  private transportCert: string | undefined;
  private readonly opts: ClientOptions;
  /** Observers of every request (metrics); more can be pushed at any time. */
  readonly requestObservers: RequestObserver[] = [];

  /** A client for a resolved kubeconfig (see kubeconfig.ts); `create` finds and loads one. */
  constructor(config: ResolvedKubeConfig, opts: ClientOptions = {}) {
    this.config = config;
    this.opts = opts;
    if (opts.onRequest) this.requestObservers.push(opts.onRequest);
    this.server = config.server;
    this.host = URL.canParse(config.server) ? new URL(config.server).host : config.server;
    this.transportCert = config.tls.cert;
    this.transport = this.makeTransport(config.tls.cert, config.tls.key);
  }

  private makeTransport(cert: string | undefined, key: string | undefined): Transport {
    const tls = { ...this.config.tls };
    if (cert !== undefined) tls.cert = cert;
    if (key !== undefined) tls.key = key;
    return new Transport(this.server, {
      tls,
      ...(this.config.proxyUrl ? { proxyUrl: this.config.proxyUrl } : {}),
    });
  }

  /** Loads a kubeconfig (explicit path, $KUBECONFIG, ~/.kube/config, or the in-cluster service account). */
  static async create(opts: ClientOptions = {}): Promise<KubeClient> {
    const lo: { kubeconfig?: string; context?: string } = {};
    if (opts.kubeconfig) lo.kubeconfig = opts.kubeconfig;
    if (opts.context) lo.context = opts.context;
    const config = loadKubeConfig(lo);
    const client = new KubeClient(config, opts);
    // fail early on credentials that cannot be obtained (an exec plugin that is missing or fails)
    await client.auth();
    return client;
  }

  /** The namespace of the current kubeconfig context ("default" when unset). */
  get defaultNamespace(): string {
    return this.config.namespace;
  }

  /** Credentials of the kubeconfig (token files and exec plugins cache and refresh them themselves). */
  private async auth(): Promise<Record<string, string>> {
    const creds: Credentials = await this.config.credentials.get();
    if (creds.cert !== undefined && creds.cert !== this.transportCert) {
      // an exec plugin issued a (new) client certificate: new requests use a pool with it; requests in
      // flight (watches) finish on the old one, which is dropped when they end
      this.transport = this.makeTransport(creds.cert, creds.key);
      this.transportCert = creds.cert;
    }
    return creds.headers;
  }

  private url(path: string, query?: RequestOptions["query"]): string {
    if (query === undefined) return `${this.server}${path}`;
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return `${this.server}${path}${s ? `?${s}` : ""}`;
  }

  private observe(method: string, path: string, code: number, sent: number, waited: number): void {
    if (this.requestObservers.length === 0) return;
    const info: RequestInfo = {
      method,
      path,
      code,
      seconds: (performance.now() - sent) / 1000,
      rateLimiterSeconds: waited / 1000,
      host: this.host,
    };
    for (const obs of this.requestObservers) {
      try {
        obs(info);
      } catch {
        // observers never break requests
      }
    }
  }

  /** The token bucket that requests to `path` wait for (one per resource: rateLimiterKey). */
  rateLimiterFor(path: string): TokenBucket {
    const known = this.limiterByPath.get(path);
    if (known) return known;
    const key = rateLimiterKey(path);
    let bucket = this.limiters.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.opts.qps ?? 500, this.opts.burst ?? 500);
      this.limiters.set(key, bucket);
    }
    // a burst sends one path (a collection) over and over; object paths are many: start over when full
    if (this.limiterByPath.size >= PathMemo) this.limiterByPath.clear();
    this.limiterByPath.set(path, bucket);
    return bucket;
  }

  private async send(method: string, path: string, o: RequestOptions = {}): Promise<TransportResponse> {
    const queued = performance.now();
    await this.rateLimiterFor(path).acquire();
    const sent = performance.now();
    this.requestCounts[method] = (this.requestCounts[method] ?? 0) + 1;
    const headers: Record<string, string> = {
      accept: o.accept ?? "application/json",
      "user-agent": this.opts.userAgent ?? "jobset-ts",
      ...(await this.auth()),
    };
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
      headers["content-type"] = o.contentType ?? "application/json";
    }
    try {
      const res = await this.transport.request(this.url(path, o.query), {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        timeoutMs: o.timeoutMs ?? 60_000,
      });
      this.observe(method, path, res.statusCode, sent, sent - queued);
      if (res.statusCode === 401) this.config.credentials.invalidate();
      return res;
    } catch (e) {
      this.observe(method, path, 0, sent, sent - queued);
      if (o.signal?.aborted) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new ApiError(0, "ConnectionError", `cannot reach the API server at ${this.server}: ${msg}`);
    }
  }

  private static async fail(res: TransportResponse): Promise<never> {
    const text = await res.body.text();
    let status: Status | undefined;
    try {
      status = JSON.parse(text) as Status;
    } catch {
      status = undefined;
    }
    const reason = status?.reason ?? `HTTP${res.statusCode}`;
    throw new ApiError(res.statusCode, reason, status?.message ?? (text || `HTTP ${res.statusCode}`), status);
  }

  /** Sends one request and parses the JSON answer; non-2xx answers throw ApiError. */
  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, o);
    if (res.statusCode < 200 || res.statusCode >= 300) return KubeClient.fail(res);
    const text = await res.body.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Sends one request and returns the answer as text (pods/log); non-2xx answers throw ApiError. */
  async requestText(method: string, path: string, o: RequestOptions = {}): Promise<string> {
    const res = await this.send(method, path, { accept: "*/*", ...o });
    if (res.statusCode < 200 || res.statusCode >= 300) return KubeClient.fail(res);
    return res.body.text();
  }

  /** Streams a text answer chunk by chunk (pods/log?follow=true) until it ends or the signal aborts. */
  async *streamText(path: string, query: RequestOptions["query"], signal?: AbortSignal): AsyncGenerator<string> {
    const res = await this.send("GET", path, { query, signal, timeoutMs: 0, accept: "*/*" });
    if (res.statusCode < 200 || res.statusCode >= 300) await KubeClient.fail(res);
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) yield decoder.decode(chunk as Uint8Array, { stream: true });
    } finally {
      res.body.destroy();
    }
  }

  get<T = KubeObject>(path: string, query?: RequestOptions["query"]): Promise<T> {
    return this.request<T>("GET", path, { query });
  }
  create<T = KubeObject>(path: string, body: unknown, query?: RequestOptions["query"]): Promise<T> {
    return this.request<T>("POST", path, { body, query });
  }
  update<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, { body });
  }
  patch<T = KubeObject>(path: string, body: unknown, type: PatchType, query?: RequestOptions["query"]): Promise<T> {
    return this.request<T>("PATCH", path, { body, contentType: patchContentTypes[type], query });
  }
  delete<T = KubeObject>(path: string, opts: DeleteOptions = {}): Promise<T> {
    const body = { apiVersion: "v1", kind: "DeleteOptions", ...opts };
    return this.request<T>("DELETE", path, { body });
  }

  /** Lists every page (`limit`/`continue`) of a collection; the result's resourceVersion is the first page's. */
  async list<T = KubeObject>(
    path: string,
    query: RequestOptions["query"] = {},
    pageSize = 500,
    signal?: AbortSignal,
  ): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let first: ListResult<T> | undefined;
    do {
      const page: ListResult<T> = await this.request("GET", path, {
        query: { ...query, limit: pageSize, continue: cont },
        signal,
      });
      first ??= page;
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { ...first, metadata: { resourceVersion: first.metadata?.resourceVersion }, items };
  }

  /**
   * Opens a watch and yields its events until the server ends the stream, the signal aborts, or an
   * error occurs (thrown as ApiError; an in-stream ERROR event with code 410 throws a 410 ApiError).
   */
  async *watch<T = KubeObject>(
    path: string,
    query: RequestOptions["query"],
    signal?: AbortSignal,
    opts: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const res = await this.send("GET", path, {
      query: { ...query, watch: true },
      signal,
      timeoutMs: 0,
    });
    if (res.statusCode < 200 || res.statusCode >= 300) await KubeClient.fail(res);
    opts.onConnect?.();
    let buf = "";
    const decoder = new TextDecoder(); // streaming: a UTF-8 sequence may straddle two chunks
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          nl = buf.indexOf("\n");
          if (!line) continue;
          const ev = JSON.parse(line) as WatchEvent<T>;
          if (ev.type === "ERROR") {
            const st = ev.object as unknown as Status;
            throw new ApiError(st.code ?? 500, st.reason ?? "WatchError", st.message ?? "watch error", st);
          }
          yield ev;
        }
      }
    } finally {
      res.body.destroy();
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.transport.close();
  }
}
