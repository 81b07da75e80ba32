// Probes of the fake kubelet's exec runtime, as a kubelet runs them: exec (the command, in the pod's
// environment), httpGet (a GET to the pod's IP, or `host`; 200–399 passes) and tcpSocket (a connection
// opens). Every pod of the local cluster runs on this machine with its own loopback address
// (127.244.x.y, kubelet-ips.ts), which is what httpGet and tcpSocket dial unless the probe names a host.
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { Container } from "../api/k8s.ts";
import { http } from "../runtime/node-http.ts";
import { containerArgv } from "./kubelet-env.ts";
import { runProbe } from "./kubelet-exec.ts";

export type Probe = NonNullable<Container["startupProbe"]>;

export interface ProbeTarget {
  /** The container (its command's env, its named ports). */
  container: Container;
  env: Record<string, string>;
  cwd: string;
  podIP: string;
}

/** A probe's port: a number, or the name of one of the container's ports; undefined when neither. */
export function probePort(port: number | string | undefined, container: Container): number | undefined {
  if (typeof port === "number") return port;
  if (port === undefined || port === "") return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Runs a probe once: whether it passed within `probe.timeoutSeconds` (default 1 s). Probes without a handler we run (grpc) pass. */
export function probeOnce(probe: Probe, t: ProbeTarget): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec?.command)
    return runProbe(
      { argv: containerArgv({ name: t.container.name, command: probe.exec.command }, t.env), env: t.env, cwd: t.cwd },
      timeoutMs,
    );
  if (probe.httpGet) return httpProbe(probe.httpGet, t, timeoutMs);
  if (probe.tcpSocket) return tcpProbe(probe.tcpSocket, t, timeoutMs);
  return Promise.resolve(true);
}

function httpProbe(h: NonNullable<Probe["httpGet"]>, t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  const port = probePort(h.port, t.container);
  if (port === undefined) return Promise.resolve(false);
  const headers: Record<string, string> = { "User-Agent": "kube-probe/1.36", Accept: "*/*" };
  for (const x of h.httpHeaders ?? []) headers[x.name] = x.value;
  const https = h.scheme === "HTTPS";
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(ok);
    };
    const req = (https ? httpsRequest : http.request)(
      {
        host: h.host || t.podIP,
        port,
        path: h.path || "/",
        method: "GET",
        headers,
        agent: false,
        // A kubelet does not verify the serving certificate of an HTTPS probe.
        ...(https ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const code = res.statusCode ?? 0;
        res.resume();
        settle(code >= 200 && code < 400);
      },
    );
    const timer = setTimeout(() => settle(false), timeoutMs);
    req.once("error", () => settle(false));
    req.end();
  });
}

function tcpProbe(s: NonNullable<Probe["tcpSocket"]>, t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  const port = probePort(s.port, t.container);
  if (port === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    let settled = false;
    const sock = connect({ host: s.host || t.podIP, port });
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    sock.once("connect", () => settle(true));
    sock.once("error", () => settle(false));
  });
}
