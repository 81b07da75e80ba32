// HTTP(S) transport of the REST client on node:http/node:https (loading the `undici` package cost the
// process ≈ 20 MiB of resident memory for nothing the built-in modules cannot do; docs/benchmarks.md):
// one keep-alive connection pool per client, TLS settings from the kubeconfig, an idle timeout per
// request (none for watches), abort signals, and `proxy-url` through an HTTP CONNECT tunnel.
import type { Agent, AgentOptions, ClientRequestArgs, IncomingMessage, RequestOptions } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { http } from "./node-http.ts";

export interface TransportTls {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface TransportOptions {
  tls: TransportTls;
  /** http:// or https:// proxy: every connection is an HTTP CONNECT tunnel through it. */
  proxyUrl?: string;
  /** Connections per host (default 128). */
  maxSockets?: number;
}

export interface ResponseBody extends AsyncIterable<Buffer> {
  text(): Promise<string>;
  destroy(): void;
}

export interface TransportResponse {
  statusCode: number;
  body: ResponseBody;
}

export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Idle time (no bytes) after which the request fails; 0: none (watches, log streams). */
  timeoutMs: number;
}

/** An HTTP CONNECT tunnel to `host:port` through `proxy`. */
function tunnel(proxy: URL, host: string, port: number, done: (err: Error | null, socket?: Duplex) => void): void {
  const lib = proxy.protocol === "https:" ? https : http;
  const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: target };
  if (proxy.username || proxy.password) {
    const auth = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers["proxy-authorization"] = `Basic ${Buffer.from(auth).toString("base64")}`;
  }
  const req = lib.request({
    host: proxy.hostname.replace(/^\[|\]$/g, ""),
    port: proxy.port || (proxy.protocol === "https:" ? 443 : 80),
    method: "CONNECT",
    path: target,
    headers,
    agent: false,
  });
  req.once("connect", (res, socket) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      done(new Error(`proxy ${proxy.host} refused the tunnel to ${target}: HTTP ${res.statusCode}`));
      return;
    }
    done(null, socket);
  });
  req.once("error", (e) => done(new Error(`proxy ${proxy.host}: ${e.message}`)));
  req.end();
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;
const failed = (cb: ConnectCallback | undefined, err: Error | null) =>
  cb?.(err ?? new Error("no tunnel"), undefined as never);

/** An https.Agent whose connections go through a CONNECT tunnel (TLS on top of the tunnel). */
class HttpsTunnelAgent extends https.Agent {
  private readonly proxy: URL;
  constructor(proxy: URL, o: https.AgentOptions) {
    super(o);
    this.proxy = proxy;
  }
  override createConnection(options: ClientRequestArgs, cb?: ConnectCallback): undefined {
    tunnel(this.proxy, options.host ?? "localhost", Number(options.port ?? 443), (err, socket) => {
      if (err || !socket) return failed(cb, err);
      cb?.(null, tls.connect({ ...(options as tls.ConnectionOptions), socket }));
    });
    return undefined;
  }
}

/** A plain-HTTP agent over a CONNECT tunnel. */
class HttpTunnelAgent extends http.Agent {
  private readonly proxy: URL;
  constructor(proxy: URL, o: AgentOptions) {
    super(o);
    this.proxy = proxy;
  }
  override createConnection(options: ClientRequestArgs, cb?: ConnectCallback): undefined {
    tunnel(this.proxy, options.host ?? "localhost", Number(options.port ?? 80), (err, socket) => {
      if (err || !socket) return failed(cb, err);
      cb?.(null, socket);
    });
    return undefined;
  }
}

function wrapBody(res: IncomingMessage): ResponseBody {
  return {
    [Symbol.asyncIterator]: () => res[Symbol.asyncIterator]() as AsyncIterator<Buffer>,
    // events, not the async iterator: creating one costs more than reading a small answer
    text: () =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("end", () =>
          resolve(
            chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8"),
          ),
        );
        res.once("error", reject);
        res.once("close", () => {
          if (!res.readableEnded)
            reject(new Error("the API server closed the connection before the answer was complete"));
        });
      }),
    destroy: () => res.destroy(),
  };
}

export class Transport {
  private readonly agent: Agent;
  private readonly secure: boolean;
  /** The server's origin (`https://host:port`), its host name (no IPv6 brackets) and port. */
  private readonly origin: string;
  private readonly hostname: string;
  private readonly port: string | number;
  constructor(server: string, o: TransportOptions) {
    const base = new URL(server);
    this.secure = base.protocol === "https:";
    this.origin = base.origin;
    ({ hostname: this.hostname, port: this.port } = this.endpoint(base));
    const pool = { keepAlive: true, maxSockets: o.maxSockets ?? 128 };
    const proxy = o.proxyUrl ? new URL(o.proxyUrl) : undefined;
    if (this.secure) {
      // One TLS context for every connection of the pool: given ca/cert/key instead, each new connection
      // parses the PEMs into a context of its own (a burst of creates opens up to 50 at once).
      const ctx: tls.SecureContextOptions = {};
      if (o.tls.ca !== undefined) ctx.ca = o.tls.ca;
      if (o.tls.cert !== undefined) ctx.cert = o.tls.cert;
      if (o.tls.key !== undefined) ctx.key = o.tls.key;
      const t: https.AgentOptions = {
        ...pool,
        rejectUnauthorized: o.tls.rejectUnauthorized,
        secureContext: tls.createSecureContext(ctx),
      };
      if (o.tls.servername !== undefined) t.servername = o.tls.servername;
      this.agent = proxy ? new HttpsTunnelAgent(proxy, t) : new https.Agent(t);
    } else this.agent = proxy ? new HttpTunnelAgent(proxy, pool) : new http.Agent(pool);
  }

  /** Host name (without IPv6 brackets) and port to connect to for `u`. */
  private endpoint(u: URL): { hostname: string; port: string | number } {
    return { hostname: u.hostname.replace(/^\[|\]$/g, ""), port: u.port || (this.secure ? 443 : 80) };
  }

  /** Sends a request; resolves when the status line and headers have arrived. */
  request(url: string, r: TransportRequest): Promise<TransportResponse> {
    // the server's own URLs (all of the client's) need no parsing: the path follows the origin; URL
    // parsing still escapes what a path must not carry raw (spaces, non-ASCII)
    const own = url.startsWith(this.origin) && url.charCodeAt(this.origin.length) === 47 && !/[^\x21-\x7e]/.test(url);
    const u = own ? undefined : new URL(url);
    const opts: RequestOptions = {
      ...(u ? this.endpoint(u) : { hostname: this.hostname, port: this.port }),
      path: u ? `${u.pathname}${u.search}` : url.slice(this.origin.length),
      method: r.method,
      headers: r.body === undefined ? r.headers : { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) },
      agent: this.agent,
    };
    if (r.signal) opts.signal = r.signal;
    return new Promise((resolve, reject) => {
      const req = (this.secure ? https : http).request(opts, (res) => {
        resolve({ statusCode: res.statusCode ?? 0, body: wrapBody(res) });
      });
      req.once("error", reject);
      req.setTimeout(r.timeoutMs, () =>
        req.destroy(new Error(`no data from the API server for ${Math.round(r.timeoutMs / 1000)} s`)),
      );
      req.end(r.body);
    });
  }

  /** Closes idle and active connections. */
  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }
}
