// The admission webhook server: HTTPS (node:https, HTTP/1.1 only, like controller-runtime's server with
// HTTP/2 disabled), TLS 1.2+ with an optional cipher-suite list, AdmissionReview v1 in and out.
//
// Robustness: the request body is limited (3 MiB by default, the API server's own limit for admission
// payloads; beyond it the answer is an AdmissionReview with code 413), every handler call has a
// deadline, and nothing a client sends can crash the process: malformed reviews are answered with a
// well-formed AdmissionReview carrying code 400 (controller-runtime's `Errored(400, ...)`), thrown
// handler errors with code 500. The serving certificate can be replaced at any time
// (`setCertificate`, or by watching a cert dir): new connections get the new one, open ones are untouched.
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { type AdmissionRequest, errored, type Outcome, parseAdmissionReview, reviewResponse } from "./admission.ts";

/**
 * The request body, buffered up to `limit` bytes; beyond it the rest is drained (not buffered) so the
 * answer can still be written on this connection. Plain stream events: an async iterator over the
 * request costs measurably more per request. Rejects if the client goes away before the end.
 */
function readBody(req: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; size: number; over: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.once("end", () => resolve({ chunks, size, over }));
    req.once("error", reject);
    req.once("close", () => {
      if (!req.complete) reject(new Error("the client closed the connection before the request was complete"));
    });
  });
}

/** A webhook: decides one AdmissionRequest. Throwing is a bug; it is answered with code 500. */
export type AdmissionHandler = (request: AdmissionRequest, signal: AbortSignal) => Promise<Outcome> | Outcome;

export interface ServerLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface ServingCertificate {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface TLSConfig {
  /** `VersionTLS12` (default) or `VersionTLS13`. */
  minVersion?: string;
  /** IANA cipher suite names (TLS 1.2; TLS 1.3 suites are not configurable, as in Go). */
  cipherSuites?: readonly string[];
}

export interface WebhookServerOptions {
  /** Bind host; "" or undefined = all interfaces. */
  host?: string;
  /** Port; 0 picks a free one (see `port` after `start`). Default 9443. */
  port?: number;
  /** Handlers by URL path. */
  handlers: Record<string, AdmissionHandler>;
  /** Initial certificate; or give `certDir` to load `tls.crt`/`tls.key` from there. */
  certificate?: ServingCertificate;
  /** Directory with `tls.crt` and `tls.key`, polled for changes (externally managed certificates). */
  certDir?: string;
  /** How often `certDir` is checked for new files. Default 10 s (controller-runtime's certwatcher). */
  certPollIntervalMs?: number;
  tls?: TLSConfig;
  /** Largest accepted request body. Default 3 MiB. */
  maxBodyBytes?: number;
  /** Deadline of one handler call. Default 10 s (the webhooks' timeoutSeconds). */
  handlerTimeoutMs?: number;
  /** Deadline for receiving a whole request. Default 30 s. */
  requestTimeoutMs?: number;
  logger?: ServerLogger;
  /** Called after each admission request with its path, HTTP-level outcome and duration. */
  onRequest?: (o: { path: string; allowed: boolean; code: number; seconds: number }) => void;
}

export const DefaultWebhookPort = 9443;
export const DefaultMaxBodyBytes = 3 * 1024 * 1024;
export const DefaultCertDir = "/tmp/k8s-webhook-server/serving-certs";

/** Go's secure TLS 1.2 cipher suites (crypto/tls CipherSuites()) by IANA name → OpenSSL name. */
export const CipherSuiteNames: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
};
const TLS13Suites = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

/** node:tls options for a TLS config; throws on an unsupported version or cipher name. */
export function tlsOptions(c: TLSConfig = {}): { minVersion: "TLSv1.2" | "TLSv1.3"; ciphers?: string } {
  const v = c.minVersion ?? "";
  let minVersion: "TLSv1.2" | "TLSv1.3";
  if (v === "" || v === "VersionTLS12") minVersion = "TLSv1.2";
  else if (v === "VersionTLS13") minVersion = "TLSv1.3";
  else throw new Error(`unsupported TLS minVersion ${JSON.stringify(v)}: use VersionTLS12 or VersionTLS13`);
  const suites = c.cipherSuites ?? [];
  if (suites.length === 0) return { minVersion };
  const names: string[] = [];
  for (const s of suites) {
    if (TLS13Suites.includes(s)) continue;
    const n = CipherSuiteNames[s];
    if (!n) throw new Error(`unsupported cipher suite ${s}`);
    names.push(n);
  }
  // TLS 1.3 suites are always allowed (Go does not let them be configured either).
  return { minVersion, ciphers: [...TLS13Suites, ...names].join(":") };
}

/** Checks that a key pair parses and belongs together; returns the certificate's expiry. */
export function checkKeyPair(c: ServingCertificate): { notAfter: Date } {
  const pem = c.cert.toString();
  const x = new X509Certificate(pem);
  const key = createPrivateKey(c.key);
  if (!x.checkPrivateKey(key)) throw new Error("tls.key does not match tls.crt");
  return { notAfter: new Date(x.validTo) };
}

const hashOf = (c: ServingCertificate) => createHash("sha256").update(c.cert).update("\0").update(c.key).digest("hex");

export class WebhookServer {
  private readonly opts: WebhookServerOptions;
  private server: https.Server | undefined;
  private certHash = "";
  private certTimer: NodeJS.Timeout | undefined;
  private readonly tls: ReturnType<typeof tlsOptions>;
  private started = false;
  private readonly sockets = new Set<TLSSocket>();
  /** Number of requests being handled (tests, graceful stop). */
  inFlight = 0;

  constructor(opts: WebhookServerOptions) {
    this.opts = opts;
    this.tls = tlsOptions(opts.tls);
  }

  /** The bound port (after `start`). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === "object" ? (a as AddressInfo).port : 0;
  }

  /** `https://<host>:<port>` the server is reachable at (127.0.0.1 when bound to all interfaces). */
  get url(): string {
    const h = this.opts.host && this.opts.host !== "0.0.0.0" && this.opts.host !== "::" ? this.opts.host : "127.0.0.1";
    return `https://${h.includes(":") ? `[${h}]` : h}:${this.port}`;
  }

  /** True once listening with a certificate (controller-runtime's "started" check). */
  get isStarted(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    if (this.server) throw new Error("webhook server already started");
    let cert = this.opts.certificate;
    if (!cert && this.opts.certDir) cert = await this.readCertDir(this.opts.certDir);
    if (!cert) throw new Error("webhook server needs a certificate or a certDir");
    checkKeyPair(cert);
    this.certHash = hashOf(cert);
    const server = https.createServer(
      {
        key: cert.key,
        cert: cert.cert,
        minVersion: this.tls.minVersion,
        ...(this.tls.ciphers ? { ciphers: this.tls.ciphers } : {}),
        // The API server sends no client certificate unless configured to; none is requested.
        requestCert: false,
      },
      (req, res) => {
        this.handle(req, res).catch((e: unknown) => {
          this.opts.logger?.error({ err: String(e) }, "webhook request failed");
          if (!res.headersSent) {
            res.writeHead(500, { "content-type": "text/plain" });
            res.end("internal error");
          } else res.destroy();
        });
      },
    );
    server.requestTimeout = this.opts.requestTimeoutMs ?? 30_000;
    server.headersTimeout = Math.min(server.requestTimeout, 10_000);
    server.keepAliveTimeout = 30_000;
    server.maxHeadersCount = 200;
    server.on("tlsClientError", () => {
      // Handshake failures (wrong CA, TLS < 1.2) concern only that client.
    });
    server.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    server.on("secureConnection", (s: TLSSocket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port ?? DefaultWebhookPort, this.opts.host || undefined, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (e) => this.opts.logger?.error({ err: String(e) }, "webhook server error"));
    this.server = server;
    this.started = true;
    if (this.opts.certDir) this.watchCertDir(this.opts.certDir);
    this.opts.logger?.info({ url: this.url }, "webhook server listening");
  }

  /** Stops accepting connections, lets in-flight requests finish (up to `graceMs`), then closes the rest. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.certTimer) clearInterval(this.certTimer);
    this.certTimer = undefined;
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.started = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /**
   * Replaces the serving certificate. New TLS handshakes use it immediately; established connections
   * keep theirs, so a rotation never fails a request. Throws (keeping the old one) if the pair is invalid.
   */
  setCertificate(c: ServingCertificate): void {
    checkKeyPair(c);
    const h = hashOf(c);
    if (h === this.certHash) return;
    if (this.server) {
      this.server.setSecureContext({
        key: c.key,
        cert: c.cert,
        minVersion: this.tls.minVersion,
        ...(this.tls.ciphers ? { ciphers: this.tls.ciphers } : {}),
      });
    } else this.opts.certificate = c;
    this.certHash = h;
    this.opts.logger?.info({}, "webhook serving certificate updated");
  }

  private async readCertDir(dir: string): Promise<ServingCertificate> {
    const [cert, key] = await Promise.all([readFile(join(dir, "tls.crt")), readFile(join(dir, "tls.key"))]);
    return { cert, key };
  }

  private watchCertDir(dir: string): void {
    let busy = false;
    this.certTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.readCertDir(dir)
        .then((c) => this.setCertificate(c))
        .catch((e: unknown) => {
          // Half-written files during an update: keep serving the current certificate and retry.
          this.opts.logger?.error({ err: String(e), dir }, "cannot load webhook certificate; keeping the current one");
        })
        .finally(() => {
          busy = false;
        });
    }, this.opts.certPollIntervalMs ?? 10_000);
    this.certTimer.unref();
  }

  /** Re-reads the cert dir now (after the certificate manager wrote new files). */
  async reloadFromCertDir(): Promise<void> {
    if (!this.opts.certDir) throw new Error("no certDir configured");
    this.setCertificate(await this.readCertDir(this.opts.certDir));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && (path === "/healthz" || path === "/readyz")) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
      return;
    }
    const handler = Object.hasOwn(this.opts.handlers, path) ? this.opts.handlers[path] : undefined;
    if (!handler) {
      req.resume();
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404 page not found\n");
      return;
    }
    if (req.method !== "POST") {
      req.resume();
      res.writeHead(405, { "content-type": "text/plain", allow: "POST" });
      res.end("method not allowed\n");
      return;
    }
    this.inFlight++;
    const t0 = performance.now();
    try {
      const { apiVersion, kind, uid, outcome } = await this.review(req, path, handler);
      // Go's json.Encoder, which controller-runtime writes the review with, ends it with a newline.
      const body = `${JSON.stringify(reviewResponse(uid, outcome, apiVersion, kind))}\n`;
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
      this.opts.onRequest?.({
        path,
        allowed: outcome.allowed,
        code: outcome.status?.code ?? 200,
        seconds: (performance.now() - t0) / 1000,
      });
    } finally {
      this.inFlight--;
    }
  }

  private async review(
    req: IncomingMessage,
    path: string,
    handler: AdmissionHandler,
  ): Promise<{ apiVersion?: string; kind?: string; uid: string; outcome: Outcome }> {
    const limit = this.opts.maxBodyBytes ?? DefaultMaxBodyBytes;
    const tooLarge = () => ({
      uid: "",
      outcome: errored(413, `request entity is too large; limit is ${limit} bytes`),
    });
    const declared = Number(req.headers["content-length"] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return tooLarge();
    }
    const { chunks, size, over } = await readBody(req, limit);
    if (over) return tooLarge();
    if (size === 0) return { uid: "", outcome: errored(400, "request body is empty") };
    // Exactly "application/json", as controller-runtime compares it (no parameters, case-sensitive).
    const ct = req.headers["content-type"] ?? "";
    if (ct !== "application/json") {
      return {
        uid: "",
        outcome: errored(400, `contentType=${req.headers["content-type"] ?? ""}, expected application/json`),
      };
    }
    const parsed = parseAdmissionReview(Buffer.concat(chunks).toString("utf8"));
    if (!parsed.ok) return { uid: "", outcome: errored(400, parsed.message) };
    const { request } = parsed;
    const ac = new AbortController();
    const failed = (e: unknown): Outcome => {
      const msg = e instanceof Error ? e.message : String(e);
      this.opts.logger?.error({ err: msg, path, uid: request.uid }, "webhook handler failed");
      return errored(500, `panic: ${msg} [recovered]`);
    };
    let result: Outcome | Promise<Outcome>;
    try {
      result = handler(request, ac.signal);
    } catch (e) {
      result = failed(e);
    }
    // A handler that answered at once (most requests) needs no deadline: no timer is armed for it.
    let outcome: Outcome;
    if (!(result instanceof Promise)) outcome = result;
    else {
      const timeoutMs = this.opts.handlerTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => {
          ac.abort();
          resolve(errored(500, `webhook ${path} did not answer within ${timeoutMs}ms`));
        }, timeoutMs);
      });
      try {
        outcome = await Promise.race([result, timeout]);
      } catch (e) {
        outcome = failed(e);
      } finally {
        clearTimeout(timer);
      }
    }
    return { apiVersion: parsed.apiVersion, kind: parsed.kind, uid: request.uid, outcome };
  }
}
