// `jobset ui`'s web server: serves the browser app (src/ui/web, type-stripped; preact and htm from
// node_modules; nothing from a CDN) and a small API over the UI cache (cache.ts):
//
//   GET  /api/jobsets[?namespace=NS]            the JobSet list (JSON)
//   GET  /api/jobsets/stream[?namespace=NS]     the same, live (server-sent events "list")
//   GET  /api/jobsets/NS/NAME                   a JobSet page: tree view, timeline (JSON)
//   GET  /api/jobsets/NS/NAME/stream            the same, live (server-sent events "page", "gone")
//   GET  /api/logs/NS/POD?container=C[&follow=1][&previous=1][&tail=N]
//                                               a JobSet pod's container log (server-sent events "log", "end")
//   POST /api/jobsets/NS/NAME/action            {"action":"suspend"|"resume"|"delete","confirm":NAME}
//
// Towards the API server it only LISTs and WATCHes (the informers) and GETs pods/log, except for the
// three confirmed actions (PATCH spec.suspend, DELETE). Access: loopback by default (Host header checked
// against DNS rebinding); any other address needs the access token (printed in the URL, kept in an
// HttpOnly cookie) and HTTPS (docs/adr: the UI's access model). Bodies, URLs and streams are bounded.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { JobSetResource } from "../api/constants.ts";
import type { JobSet } from "../api/types.ts";
import { podLogPath } from "../cli/fetch.ts";
import { ApiError, type KubeClient } from "../runtime/client.ts";
import type { Logger } from "../runtime/logger.ts";
import { silentLogger } from "../runtime/logger.ts";
import { http } from "../runtime/node-http.ts";
import { resourcePath } from "../runtime/resources.ts";
import { assets, contentSecurityPolicy, indexHtml } from "./assets.ts";
import { type ChangeKind, UiCache } from "./cache.ts";
import { buildPage, listRows } from "./model.ts";
import {
  actionRefusal,
  hostAllowed,
  isLoopback,
  newToken,
  presentedToken,
  sameSecret,
  TokenCookie,
} from "./security.ts";

export const MAX_BODY_BYTES = 4096;
export const MAX_URL_LENGTH = 2048;
/** Concurrent live streams (list, page and log streams together). */
export const MAX_STREAMS = 64;
/** Minimum time between two pushes of one live stream. */
export const PUSH_INTERVAL_MS = 250;
const HEARTBEAT_MS = 15_000;

export interface UiServerOptions {
  client: KubeClient;
  /** Address to bind (default 127.0.0.1). Anything but loopback requires the token and TLS. */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Watch one namespace only (default: all namespaces). */
  namespace?: string;
  /** TLS certificate and key (PEM). Without them a non-loopback server gets a self-signed certificate. */
  tls?: { cert: string; key: string };
  /** Access token (default: generated). Required on non-loopback addresses; optional on loopback. */
  token?: string;
  /** Require the token on loopback too (default false). */
  requireToken?: boolean;
  logger?: Logger;
  now?: () => number;
  /** How long the first LIST of every cache may take (default 60 s). */
  syncTimeoutMs?: number;
}

export interface UiServer {
  /** The URL to open (with `?token=` when the token is required). */
  url: string;
  /** The server's origin (scheme://host:port). */
  origin: string;
  port: number;
  token: string;
  tokenRequired: boolean;
  /** SHA-256 fingerprint of the certificate, when serving HTTPS. */
  fingerprint: string | undefined;
  cache: UiCache;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const jobsetPath = (namespace: string, name: string) => resourcePath({ ...JobSetResource, namespace, name });

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function checkName(what: string, v: string, re: RegExp): string {
  if (!re.test(v)) throw new HttpError(400, `${what} "${v.slice(0, 80)}" is not a valid Kubernetes name`);
  return v;
}

/** Starts the UI server; resolves once the caches have synced and the socket listens. */
export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const log = o.logger ?? silentLogger();
  const now = o.now ?? Date.now;
  const host = o.host ?? "127.0.0.1";
  const loopback = isLoopback(host);
  const tokenRequired = !loopback || o.requireToken === true;
  const token = o.token ?? newToken();
  const csrf = newToken();
  let tls = o.tls;
  if (!loopback && !tls) tls = await selfSignedCert(host);
  const scheme: "http" | "https" = tls ? "https" : "http";

  // Fail fast with the API server's own answer (no CRD, forbidden, unreachable) instead of retrying forever.
  await o.client.get(resourcePath({ ...JobSetResource, namespace: o.namespace }), { limit: 1 });

  const cache = new UiCache({ client: o.client, logger: log, now, ...(o.namespace ? { namespace: o.namespace } : {}) });
  cache.start();
  const streams = new Set<ServerResponse>();
  const cleanups = new Set<() => void>();

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : e instanceof ApiError && e.code >= 400 ? e.code : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (status >= 500) log.warn({ err: e, url: req.url }, "ui request failed");
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.end();
    });
  };

  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key, maxHeaderSize: 16_384 }, handler)
    : http.createServer({ maxHeaderSize: 16_384 }, handler);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.url ?? "").length > MAX_URL_LENGTH) throw new HttpError(414, "URL too long");
    const port = (server.address() as AddressInfo).port;
    if (!hostAllowed(req.headers.host, port, loopback)) throw new HttpError(421, "unexpected Host header");
    const url = new URL(req.url ?? "/", `${scheme}://${req.headers.host}`);
    const method = req.method ?? "GET";
    securityHeaders(res);

    if (tokenRequired) {
      // The URL printed at start carries ?token=: trade it for an HttpOnly cookie, then drop it from the URL.
      const fromQuery = url.searchParams.get("token");
      if (method === "GET" && url.pathname === "/" && fromQuery !== null) {
        if (!sameSecret(fromQuery, token)) throw new HttpError(401, "wrong token: use the URL `jobset ui` printed");
        res.setHeader(
          "set-cookie",
          `${TokenCookie}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/${scheme === "https" ? "; Secure" : ""}`,
        );
        res.writeHead(303, { location: "/" }).end();
        return;
      }
      if (!sameSecret(presentedToken(req.headers), token))
        throw new HttpError(401, "this UI needs its access token: open the URL `jobset ui` printed");
    }

    if (method === "POST") {
      const m = /^\/api\/jobsets\/([^/]+)\/([^/]+)\/action$/.exec(url.pathname);
      if (!m) throw new HttpError(404, "no such action");
      await action(req, res, decodeURIComponent(m[1] ?? ""), decodeURIComponent(m[2] ?? ""));
      return;
    }
    if (method !== "GET" && method !== "HEAD") throw new HttpError(405, `method ${method} not allowed`);
    if (req.headers["content-length"] && Number(req.headers["content-length"]) > 0)
      throw new HttpError(413, "GET requests carry no body");

    const p = url.pathname;
    if (p === "/" || p === "/index.html") return sendText(res, 200, "text/html; charset=utf-8", indexHtml(csrf));
    const asset = assets().get(p);
    if (asset) return sendText(res, 200, asset.type, asset.body(), "public, max-age=60");
    if (p === "/api/jobsets") return sendJson(res, 200, { items: list(url.searchParams.get("namespace")) });
    if (p === "/api/jobsets/stream") return listStream(req, res, url.searchParams.get("namespace"));
    let m = /^\/api\/jobsets\/([^/]+)\/([^/]+)(\/stream)?$/.exec(p);
    if (m) {
      const ns = checkName("namespace", decodeURIComponent(m[1] ?? ""), DNS_LABEL);
      const name = checkName("JobSet name", decodeURIComponent(m[2] ?? ""), OBJECT_NAME);
      if (m[3]) return pageStream(req, res, ns, name);
      const page = pageOf(ns, name);
      if (!page) throw new HttpError(404, `JobSet ${ns}/${name} not found`);
      return sendJson(res, 200, page);
    }
    m = /^\/api\/logs\/([^/]+)\/([^/]+)$/.exec(p);
    if (m) return logStream(req, res, decodeURIComponent(m[1] ?? ""), decodeURIComponent(m[2] ?? ""), url.searchParams);
    throw new HttpError(404, `no such page: ${p.slice(0, 80)}`);
  }

  function list(ns: string | null) {
    const items = cache.jobsets.list(ns || undefined);
    return listRows(items, now());
  }

  function pageOf(ns: string, name: string) {
    const js = cache.jobsets.get(ns, name);
    if (!js) return undefined;
    return buildPage({ jobset: js, ...cache.snapshot(js), now: now() });
  }

  // ---- live streams ----

  function openStream(req: IncomingMessage, res: ServerResponse): (event: string, data: unknown) => void {
    if (streams.size >= MAX_STREAMS)
      throw new HttpError(503, `too many live views open (${MAX_STREAMS}): close some tabs`);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    res.write("retry: 2000\n\n");
    streams.add(res);
    const beat = setInterval(() => res.write(": ping\n\n"), HEARTBEAT_MS);
    const done = () => {
      clearInterval(beat);
      streams.delete(res);
    };
    req.on("close", done);
    res.on("close", done);
    return (event, data) => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
  }

  /** Pushes `build()` now and again after every relevant change, at most once per PUSH_INTERVAL_MS. */
  function live(
    req: IncomingMessage,
    res: ServerResponse,
    relevant: (kind: ChangeKind, ns: string) => boolean,
    push: () => boolean,
  ): void {
    let timer: NodeJS.Timeout | undefined;
    let last = 0;
    const fire = () => {
      timer = undefined;
      last = Date.now();
      if (!push()) stop();
    };
    const unsubscribe = cache.subscribe((kind, ns) => {
      if (timer || !relevant(kind, ns)) return;
      timer = setTimeout(fire, Math.max(0, last + PUSH_INTERVAL_MS - Date.now()));
    });
    const stop = () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      cleanups.delete(stop);
      if (!res.writableEnded) res.end();
    };
    cleanups.add(stop);
    req.on("close", stop);
    void cache.waitForSync().then(() => {
      if (!res.writableEnded) fire();
    });
  }

  function listStream(req: IncomingMessage, res: ServerResponse, ns: string | null): void {
    if (ns) checkName("namespace", ns, DNS_LABEL);
    const send = openStream(req, res);
    let previous = "";
    live(
      req,
      res,
      (kind, n) => kind === "jobset" && (!ns || n === ns),
      () => {
        const items = list(ns);
        const text = JSON.stringify(items);
        if (text !== previous) send("list", { items });
        previous = text;
        return true;
      },
    );
  }

  function pageStream(req: IncomingMessage, res: ServerResponse, ns: string, name: string): void {
    const send = openStream(req, res);
    let previous = "";
    live(
      req,
      res,
      (_kind, n) => n === ns,
      () => {
        const page = pageOf(ns, name);
        if (!page) {
          send("gone", { namespace: ns, name });
          return false;
        }
        // `now` alone moves every time: compare the page without it.
        const text = JSON.stringify({ ...page, now: 0, row: { ...page.row, age: "" } });
        if (text !== previous) send("page", page);
        previous = text;
        return true;
      },
    );
  }

  async function logStream(req: IncomingMessage, res: ServerResponse, ns: string, podName: string, q: URLSearchParams) {
    checkName("namespace", ns, DNS_LABEL);
    checkName("pod name", podName, OBJECT_NAME);
    const pod = cache.pods.get(ns, podName);
    if (!pod) throw new HttpError(404, `pod ${ns}/${podName} is not a pod of a JobSet (or is gone)`);
    const containers = [
      ...(pod.spec?.initContainers ?? []).map((c) => c.name),
      ...(pod.spec?.containers ?? []).map((c) => c.name),
    ];
    const container = q.get("container") ?? containers[containers.length - (pod.spec?.containers?.length ?? 1)] ?? "";
    if (!containers.includes(container))
      throw new HttpError(
        400,
        `pod ${podName} has no container "${container.slice(0, 63)}" (it has ${containers.join(", ")})`,
      );
    const tail = q.get("tail");
    const tailLines = tail === null ? undefined : Number(tail);
    if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0 || tailLines > 100_000))
      throw new HttpError(400, "tail must be a whole number from 0 to 100000");
    const follow = q.get("follow") === "1";
    const previous = q.get("previous") === "1";
    const send = openStream(req, res);
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    cleanups.add(stop);
    req.on("close", stop);
    // Without tail, a log is capped to its last 1 MiB: the browser shows a window, not an archive.
    const query = {
      container,
      follow: follow || undefined,
      previous: previous || undefined,
      tailLines,
      limitBytes: tailLines === undefined ? 1 << 20 : undefined,
    };
    try {
      for await (const chunk of o.client.streamText(podLogPath(ns, podName), query, ctl.signal)) send("log", chunk);
      send("end", { reason: "the log ended" });
    } catch (e) {
      if (!ctl.signal.aborted) send("end", { reason: e instanceof Error ? e.message : String(e), error: true });
    } finally {
      cleanups.delete(stop);
      res.end();
    }
  }

  // ---- the three confirmed actions ----

  async function action(req: IncomingMessage, res: ServerResponse, ns: string, name: string): Promise<void> {
    const refusal = actionRefusal(req.headers as Record<string, string | undefined>, scheme, csrf);
    if (refusal) throw new HttpError(403, refusal);
    checkName("namespace", ns, DNS_LABEL);
    checkName("JobSet name", name, OBJECT_NAME);
    const body = await readBody(req);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new HttpError(400, "the body is not JSON");
    }
    const b = (parsed ?? {}) as { action?: unknown; confirm?: unknown };
    if (b.action !== "suspend" && b.action !== "resume" && b.action !== "delete")
      throw new HttpError(400, 'action: want "suspend", "resume" or "delete"');
    if (b.confirm !== name)
      throw new HttpError(400, `confirm: type the JobSet's name ("${name}") to confirm ${b.action}`);
    const path = jobsetPath(ns, name);
    if (b.action === "delete") await o.client.delete(path, { propagationPolicy: "Foreground" });
    else await o.client.patch<JobSet>(path, { spec: { suspend: b.action === "suspend" } }, "merge");
    log.info({ namespace: ns, name, action: b.action }, "ui action");
    sendJson(res, 200, { ok: true, action: b.action });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const origin = `${scheme}://${hostPart}:${port}`;
  const synced = await cache.waitForSync(AbortSignal.timeout(o.syncTimeoutMs ?? 60_000));
  if (!synced) {
    server.close();
    await cache.stop();
    throw new Error(
      "could not list JobSets, Jobs, pods and events in time: check that you may list and watch them " +
        `(${o.namespace ? `in namespace ${o.namespace}` : "in all namespaces; or pick one with -n"})`,
    );
  }
  return {
    url: tokenRequired ? `${origin}/?token=${token}` : `${origin}/`,
    origin,
    port,
    token,
    tokenRequired,
    fingerprint: tls ? fingerprintOf(tls.cert) : undefined,
    cache,
    async close() {
      for (const c of [...cleanups]) c();
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cache.stop();
    },
  };
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("x-frame-options", "DENY");
  res.setHeader("content-security-policy", contentSecurityPolicy);
}

function sendText(res: ServerResponse, status: number, type: string, body: string, cache = "no-store"): void {
  res.writeHead(status, { "content-type": type, "cache-control": cache, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, "application/json; charset=utf-8", JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** A throwaway self-signed certificate for the bound address (a non-loopback server without --tls-*). */
async function selfSignedCert(host: string): Promise<{ cert: string; key: string }> {
  const { createCa, issueServingCert } = await import("../pki/x509.ts");
  const { isIP } = await import("node:net");
  const ca = createCa("jobset ui (self-signed)", 30);
  const ips = isIP(host) && host !== "0.0.0.0" && host !== "::" ? [host, "127.0.0.1"] : ["127.0.0.1"];
  const dnsNames = isIP(host) ? ["localhost"] : [host, "localhost"];
  const leaf = issueServingCert(ca, { commonName: "jobset ui", ipAddresses: ips, dnsNames });
  // The leaf's chain: leaf + its (throwaway) CA, so the fingerprint the user compares is the leaf's.
  return { cert: leaf.certPem + ca.certPem, key: leaf.keyPem };
}

function fingerprintOf(certPem: string): string {
  const first = certPem.split("-----END CERTIFICATE-----")[0] ?? "";
  const b64 = first.replace(/-----BEGIN CERTIFICATE-----/, "").replace(/\s+/g, "");
  const digest = createHash("sha256").update(Buffer.from(b64, "base64")).digest("hex").toUpperCase();
  return digest.match(/../g)?.join(":") ?? digest;
}
