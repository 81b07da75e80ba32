import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { after, before, describe, test } from "node:test";
import type { Container } from "../../src/api/k8s.ts";
import { type Probe, type ProbeTarget, probeOnce, probePort } from "../../src/local/kubelet-probes.ts";

describe("fake kubelet probes (exec runtime)", () => {
  let server: Server;
  let port = 0;
  let closedPort = 0;
  const seen: { path: string; headers: Record<string, string | string[] | undefined> }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? "", headers: req.headers });
      if (req.url === "/hang") return; // never answers
      res.statusCode = req.url === "/ok" ? 200 : req.url === "/moved" ? 302 : 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    const spare = createServer();
    await new Promise<void>((r) => spare.listen(0, "127.0.0.1", r));
    closedPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const container: Container = { name: "agent", ports: [{ name: "barrier", containerPort: 0 }] };
  const target = (): ProbeTarget => ({
    container: { ...container, ports: [{ name: "barrier", containerPort: port }] },
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    cwd: tmpdir(),
    podIP: "127.0.0.1",
  });

  test("httpGet dials the pod IP: 2xx and 3xx pass, 5xx fails; headers are sent", async () => {
    const get = (path: string): Probe => ({
      httpGet: { path, port, httpHeaders: [{ name: "X-Probe", value: "startup" }] },
    });
    assert.equal(await probeOnce(get("/ok"), target()), true);
    assert.equal(await probeOnce(get("/moved"), target()), true);
    assert.equal(await probeOnce(get("/barrier-is-down"), target()), false);
    const last = seen.at(-1);
    assert.equal(last?.path, "/barrier-is-down");
    assert.equal(last?.headers["x-probe"], "startup");
    assert.match(String(last?.headers["user-agent"]), /^kube-probe\//);
  });

  test("httpGet: a named port is the container's port of that name; an unknown name fails", async () => {
    assert.equal(await probeOnce({ httpGet: { path: "/ok", port: "barrier" } }, target()), true);
    assert.equal(await probeOnce({ httpGet: { path: "/ok", port: "nope" } }, target()), false);
  });

  test("httpGet: nothing listening, or no answer within timeoutSeconds, fails", async () => {
    assert.equal(await probeOnce({ httpGet: { path: "/ok", port: closedPort } }, target()), false);
    const t0 = Date.now();
    assert.equal(await probeOnce({ httpGet: { path: "/hang", port }, timeoutSeconds: 1 }, target()), false);
    assert.ok(Date.now() - t0 >= 900, "waited for the timeout");
  });

  test("tcpSocket passes when a connection opens", async () => {
    assert.equal(await probeOnce({ tcpSocket: { port } }, target()), true);
    assert.equal(await probeOnce({ tcpSocket: { port: closedPort } }, target()), false);
  });

  test("exec passes when the command exits 0", async () => {
    assert.equal(await probeOnce({ exec: { command: ["sh", "-c", "exit 0"] } }, target()), true);
    assert.equal(await probeOnce({ exec: { command: ["sh", "-c", "exit 1"] } }, target()), false);
  });

  test("probePort: numbers, numeric strings, names", () => {
    const c: Container = { name: "x", ports: [{ name: "http", containerPort: 8080 }] };
    assert.equal(probePort(8081, c), 8081);
    assert.equal(probePort("9000", c), 9000);
    assert.equal(probePort("http", c), 8080);
    assert.equal(probePort("grpc", c), undefined);
    assert.equal(probePort(undefined, c), undefined);
  });
});
