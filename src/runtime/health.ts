// Liveness and readiness endpoints with named checks, answering like controller-runtime's healthz
// handler: "ok" when every check passes, otherwise 500 with one `[+]name ok` / `[-]name failed: reason
// withheld` line per check; `?verbose` lists checks on success too; `?exclude=name` skips one;
// `/<endpoint>/<name>` runs a single check.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { type Logger, silentLogger } from "./logger.ts";
import { closeServer, listen, parseBindAddress } from "./net.ts";
import { http } from "./node-http.ts";

/** A check passes by returning, fails by throwing (or rejecting). */
export type Check = () => void | Promise<void>;

/** Always passes (controller-runtime healthz.Ping). */
export const ping: Check = () => {};

/** Passes once every informer has synced. */
export function informersSynced(informers: () => readonly { hasSynced(): boolean; name: string }[]): Check {
  return () => {
    const pending = informers().filter((i) => !i.hasSynced());
    if (pending.length > 0) throw new Error(`informers not synced: ${pending.map((i) => i.name).join(", ")}`);
  };
}

export interface HealthServerOptions {
  /** `host:port`, `:port`, or "0" to disable. */
  bindAddress: string;
  /** Default `/healthz`. */
  livenessPath?: string;
  /** Default `/readyz`. */
  readinessPath?: string;
  logger?: Logger;
}

export interface CheckResult {
  status: number;
  body: string;
}

export class HealthServer {
  private readonly o: HealthServerOptions;
  private readonly health = new Map<string, Check>();
  private readonly ready = new Map<string, Check>();
  private server: Server | undefined;
  private readonly log: Logger;

  constructor(o: HealthServerOptions) {
    this.o = o;
    this.log = (o.logger ?? silentLogger()).child({ component: "health" });
  }

  get livenessPath(): string {
    return this.o.livenessPath || "/healthz";
  }
  get readinessPath(): string {
    return this.o.readinessPath || "/readyz";
  }

  addHealthCheck(name: string, check: Check): void {
    if (this.health.has(name)) throw new Error(`health check ${JSON.stringify(name)} already exists`);
    this.health.set(name, check);
  }
  addReadyCheck(name: string, check: Check): void {
    if (this.ready.has(name)) throw new Error(`readiness check ${JSON.stringify(name)} already exists`);
    this.ready.set(name, check);
  }

  /** Runs the checks of `kind` as an HTTP request for `url` (path + query) would. */
  async evaluate(kind: "health" | "ready", url = "/"): Promise<CheckResult> {
    const checks = kind === "health" ? this.health : this.ready;
    const label = kind === "health" ? "healthz" : "readyz";
    const u = new URL(url, "http://x");
    const base = kind === "health" ? this.livenessPath : this.readinessPath;
    const sub = u.pathname.startsWith(`${base}/`) ? u.pathname.slice(base.length + 1) : "";
    if (sub) {
      const check = checks.get(sub);
      if (!check) return { status: 404, body: "404 page not found\n" };
      try {
        await check();
        return { status: 200, body: "ok" };
      } catch (e) {
        return { status: 500, body: `internal server error: ${e instanceof Error ? e.message : String(e)}\n` };
      }
    }
    const excluded = new Set(u.searchParams.getAll("exclude"));
    const verbose = u.searchParams.has("verbose");
    const names = [...checks.keys()].sort();
    const lines: string[] = [];
    let failed = false;
    await Promise.all(
      names.map(async (name, i) => {
        if (excluded.has(name)) {
          lines[i] = `[+]${name} excluded: ok`;
          return;
        }
        try {
          await (checks.get(name) as Check)();
          lines[i] = `[+]${name} ok`;
        } catch (e) {
          failed = true;
          lines[i] = `[-]${name} failed: reason withheld`;
          this.log.info({ check: name, err: e }, `${label} check failed`);
        }
      }),
    );
    if (failed) return { status: 500, body: `${lines.join("\n")}\n${label} check failed\n` };
    if (verbose) return { status: 200, body: `${lines.join("\n")}\n${label} check passed\n` };
    return { status: 200, body: "ok" };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const path = new URL(url, "http://x").pathname;
    const is = (base: string) => path === base || path.startsWith(`${base}/`);
    const kind = is(this.livenessPath) ? "health" : is(this.readinessPath) ? "ready" : undefined;
    if (!kind) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("404 page not found\n");
      return;
    }
    void this.evaluate(kind, url).then((r) => {
      res
        .writeHead(r.status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" })
        .end(req.method === "HEAD" ? undefined : r.body);
    });
  }

  /** Starts serving; resolves the bound port (undefined when disabled). */
  async start(): Promise<number | undefined> {
    const bind = parseBindAddress(this.o.bindAddress);
    if (!bind) return undefined;
    this.server = http.createServer((req, res) => this.handle(req, res));
    return listen(this.server, bind);
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.server = undefined;
  }
}
