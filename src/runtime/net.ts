// Small helpers for the runtime's HTTP servers (metrics, health): Go-style bind addresses.
import type { Server } from "node:net";

export interface BindAddress {
  /** Empty for all interfaces. */
  host: string;
  port: number;
}

/**
 * Parses a Go-style bind address: `:8080`, `host:8080`, `[::1]:8080`, or a bare port. "0" and ""
 * mean "disabled" (controller-runtime's convention) and give `undefined`.
 */
export function parseBindAddress(addr: string): BindAddress | undefined {
  const a = addr.trim();
  if (a === "" || a === "0") return undefined;
  let host = "";
  let port: string;
  if (/^\d+$/.test(a)) port = a;
  else {
    const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(a);
    if (!m) throw new Error(`invalid bind address ${JSON.stringify(addr)}: want host:port or :port`);
    host = m[1] ?? m[2] ?? "";
    port = m[3] as string;
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`invalid port in bind address ${JSON.stringify(addr)}`);
  return { host, port: n };
}

/** Starts listening; resolves the bound port. */
export function listen(server: Server, bind: BindAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once("error", onError);
    const cb = () => {
      server.off("error", onError);
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : bind.port);
    };
    if (bind.host) server.listen(bind.port, bind.host, cb);
    else server.listen(bind.port, cb);
  });
}

/** Stops accepting connections, closes idle keep-alive connections, resolves when closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    const s = server as Server & { closeIdleConnections?: () => void; closeAllConnections?: () => void };
    s.closeIdleConnections?.();
    setTimeout(() => s.closeAllConnections?.(), 2000).unref();
  });
}
