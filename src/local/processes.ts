// The control plane's processes as one group: each component runs under a supervisor that dies with us
// (./supervise.ts) and logs to <dataDir>/logs/<name>.log; the group waits for health endpoints and
// stops components in dependency order.
import { closeSync, openSync, readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { http } from "../runtime/node-http.ts";
import { type Supervised, supervise } from "./supervise.ts";

/** Client TLS material for health probes (none for plain HTTP; `insecure` for self-signed servers). */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecure?: boolean;
}

export interface Component {
  name: string;
  sup: Supervised;
  port: number;
  log: string;
}

/** GET `url`; resolves with status and body, or rejects on connection errors. 2 s timeout. */
function get(url: string, tls: TlsMaterial = {}): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const u = new URL(url);
    const opts = {
      method: "GET",
      timeout: 2000,
      ...(u.protocol === "https:"
        ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure }
        : {}),
    };
    const req = (u.protocol === "https:" ? httpsRequest : http.request)(u, opts, (r) => {
      let body = "";
      r.on("data", (d) => {
        body += d;
      });
      r.on("end", () => res({ status: r.statusCode ?? 0, body }));
      r.on("error", rej);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", rej);
    req.end();
  });
}

function tailOf(path: string, lines = 25): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls `url` until it answers 200, the component exits, or the deadline passes. */
export async function waitHealthy(c: Component, url: string, tls: TlsMaterial, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    if (c.sup.done()) {
      throw new Error(
        `${c.name} exited (code ${await c.sup.exited}) before ${url} was healthy; last lines of ${c.log}:\n${tailOf(c.log)}`,
      );
    }
    try {
      const r = await get(url, tls);
      if (r.status === 200) return;
      last = `HTTP ${r.status}: ${r.body.slice(0, 300)}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline)
      throw new Error(
        `${c.name} not healthy at ${url} after ${timeoutMs} ms (${last}); last lines of ${c.log}:\n${tailOf(c.log)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ProcessGroupOptions {
  /** Where `<name>.pid` files go; logs go to `<dataDir>/logs`. */
  dataDir: string;
  logDir: string;
  /** SIGTERM → SIGKILL grace per component. */
  graceMs: number;
  /** Supervisors do not keep the event loop alive. */
  unref?: boolean;
}

export class ProcessGroup {
  private readonly running: Component[] = [];
  private readonly o: ProcessGroupOptions;

  constructor(o: ProcessGroupOptions) {
    this.o = o;
  }

  /** Starts `command` under a supervisor; its output is appended to `<logDir>/<name>.log`. */
  start(name: string, command: string, args: string[], port: number): Component {
    const logPath = join(this.o.logDir, `${name}.log`);
    const fd = openSync(logPath, "a");
    try {
      const sup = supervise({
        name,
        command,
        args,
        logFd: fd,
        pidFile: join(this.o.dataDir, `${name}.pid`),
        graceMs: this.o.graceMs,
      });
      if (this.o.unref) sup.unref();
      const c: Component = { name, sup, port, log: logPath };
      this.running.push(c);
      return c;
    } finally {
      closeSync(fd);
    }
  }

  /** Stops one component (SIGTERM, SIGKILL after the grace period) and forgets it. */
  async stop(c: Component): Promise<void> {
    await c.sup.stop();
    const i = this.running.indexOf(c);
    if (i >= 0) this.running.splice(i, 1);
  }

  /**
   * Stops everything: the components of each stage in parallel, stage after stage (clients before the
   * servers they talk to), then whatever is not named in a stage.
   */
  async stopAll(stages: string[][]): Promise<void> {
    for (const names of stages)
      await Promise.all(this.running.filter((c) => names.includes(c.name)).map((c) => this.stop(c)));
    await Promise.all([...this.running].map((c) => this.stop(c)));
  }

  list(): readonly Component[] {
    return this.running;
  }
}
