// The fake kubelet's API server: the kubelet's log endpoint `GET /containerLogs/{ns}/{pod}/{container}`
// over HTTPS on 127.0.0.1, which kube-apiserver proxies pods/log to (the Node advertises InternalIP
// 127.0.0.1 and this port as its kubelet endpoint). Loopback only, no authentication: kube-apiserver
// neither verifies the kubelet's certificate nor presents a client certificate here.
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { createCa, issueServingCert } from "../pki/x509.ts";
import { type ContainerLog, LogRenderer, parseLogQuery } from "./kubelet-logs.ts";

/** Where a request's log lives: the container's log and which run of it. */
export interface LogTarget {
  log: ContainerLog;
  /** The run (restart count) to serve. */
  run: number;
  /** The time of lines this kubelet did not see appear (epoch ms). */
  fallbackTime: number;
}

export type LogLookup = (
  namespace: string,
  pod: string,
  container: string,
  previous: boolean,
) => LogTarget | { status: number; message: string };

export interface KubeletServer {
  readonly port: number;
  /** The self-signed CA of the serving certificate (PEM). */
  readonly caCert: string;
  close(): Promise<void>;
}

function fail(res: import("node:http").ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(`${message}\n`);
}

/** Starts the server on 127.0.0.1 (a free port unless `port` is given). */
export async function startKubeletServer(lookup: LogLookup, o: { port?: number } = {}): Promise<KubeletServer> {
  const ca = createCa("fake-kubelet CA", 3650);
  const cert = issueServingCert(ca, { commonName: "fake-kubelet", ipAddresses: ["127.0.0.1"] });
  const sockets = new Set<Socket>();
  const unsubscribes = new Set<() => void>();
  const server: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    if (url.pathname === "/healthz") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
      return;
    }
    const m = /^\/containerLogs\/([^/]*)\/([^/]*)\/([^/]*)\/?$/.exec(url.pathname);
    if (!m) {
      fail(res, 404, "404 page not found");
      return;
    }
    if (req.method !== "GET") {
      fail(res, 405, "405: Method Not Allowed");
      return;
    }
    const [ns, pod, container] = [m[1], m[2], m[3]].map((s) => decodeURIComponent(s ?? ""));
    if (!pod) return fail(res, 400, '{"message": "Missing podID."}');
    if (!container) return fail(res, 400, '{"message": "Missing container name."}');
    if (!ns) return fail(res, 400, '{"message": "Missing podNamespace."}');
    const parsed = parseLogQuery(url.searchParams, Date.now());
    if (!parsed.ok) return fail(res, parsed.status, parsed.message);
    const q = parsed.query;
    const target = lookup(ns ?? "", pod ?? "", container ?? "", q.previous);
    if ("status" in target) return fail(res, target.status, target.message);
    const { log, run, fallbackTime } = target;
    const seg = log.segment(run);
    if (!seg) return fail(res, 400, `previous terminated container "${container}" in pod "${pod}_${ns}" not found`);
    log.sync(Date.now());
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
    const renderer = new LogRenderer(q);
    const following = q.follow && log.open(run);
    // The initial read: everything of the run so far (a partial last line waits when following).
    let pos = seg.start;
    const first = log.read(pos, seg.end ?? log.size, !following, fallbackTime);
    pos = first.next;
    const out = renderer.render(first.lines);
    if (out.length > 0) res.write(out);
    if (!following || renderer.full) {
      res.end();
      return;
    }
    let done = false;
    const unsubscribe = log.subscribe(() => {
      if (done) return;
      const open = log.open(run);
      const end = log.segment(run)?.end ?? log.size;
      const more = log.read(pos, end, !open, fallbackTime);
      pos = more.next;
      const b = renderer.render(more.lines);
      if (b.length > 0) res.write(b);
      if (!open || renderer.full) finish();
    });
    const finish = () => {
      if (done) return;
      done = true;
      unsubscribe();
      unsubscribes.delete(finish);
      if (!res.writableEnded) res.end();
    };
    unsubscribes.add(finish);
    res.on("close", finish);
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  // A client that never completes the TLS handshake must not hold the server open.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    caCert: ca.certPem,
    close: () =>
      new Promise<void>((resolve) => {
        for (const f of [...unsubscribes]) f();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
