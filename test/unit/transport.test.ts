// The REST client's transport against local servers: TLS verification with a CA, tls-server-name,
// client certificates, an HTTP CONNECT proxy, idle timeouts and abort.
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createCa, issueClientCert, issueServingCert } from "../../src/pki/x509.ts";
import { Transport } from "../../src/runtime/transport.ts";

const ca = createCa("transport-test-ca");
const byName = issueServingCert(ca, { commonName: "api.internal", ipAddresses: [], dnsNames: ["api.internal"] });
const byIp = issueServingCert(ca);
const client = issueClientCert(ca, "alice");
const servers: net.Server[] = [];
const port = (s: net.Server) => (s.address() as AddressInfo).port;
const listen = async <S extends net.Server>(s: S): Promise<S> => {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
};

let ipServer: https.Server;
let nameServer: https.Server;
let silent: http.Server;
let chunked: http.Server;
let proxy: http.Server;
const tunnels: string[] = [];

before(async () => {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const sock = req.socket as import("node:tls").TLSSocket;
    const peer = sock.getPeerCertificate?.()?.subject?.CN ?? "anonymous";
    res.end(JSON.stringify({ path: req.url, method: req.method, peer, auth: req.headers.authorization ?? "" }));
  };
  const tlsOpts = { ca: ca.certPem, requestCert: true, rejectUnauthorized: false };
  ipServer = await listen(https.createServer({ ...tlsOpts, cert: byIp.certPem, key: byIp.keyPem }, handler));
  nameServer = await listen(https.createServer({ ...tlsOpts, cert: byName.certPem, key: byName.keyPem }, handler));
  silent = await listen(http.createServer(() => undefined)); // never answers
  chunked = await listen(
    http.createServer((req, res) => {
      // many chunks, written before the client reads; /cut stops half-way and drops the connection
      res.writeHead(200, { "content-type": "application/json" });
      for (let i = 0; i < 500; i++) res.write(`{"n":${i},"pad":"${"x".repeat(200)}"}\n`);
      if (req.url === "/cut") setTimeout(() => res.socket?.destroy(), 50);
      else res.end();
    }),
  );
  proxy = await listen(
    http.createServer((_req, res) => {
      res.statusCode = 405;
      res.end();
    }),
  );
  proxy.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? "");
    const [host, p] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(p), host, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
  });
});
after(() => {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
});

const get = async (t: Transport, url: string, o: { signal?: AbortSignal; timeoutMs?: number } = {}) => {
  const res = await t.request(url, {
    method: "GET",
    headers: { authorization: "Bearer x" },
    timeoutMs: o.timeoutMs ?? 5000,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { status: res.statusCode, body: JSON.parse(await res.body.text()) as Record<string, string> };
};

describe("Transport", () => {
  test("verifies the server with the CA, sends the client certificate and headers, keeps connections", async () => {
    const url = `https://127.0.0.1:${port(ipServer)}`;
    const t = new Transport(url, {
      tls: { ca: ca.certPem, cert: client.certPem, key: client.keyPem, rejectUnauthorized: true },
    });
    const r = await get(t, `${url}/api/v1/pods?limit=1`);
    assert.deepEqual(r, {
      status: 200,
      body: { path: "/api/v1/pods?limit=1", method: "GET", peer: "alice", auth: "Bearer x" },
    });
    await get(t, `${url}/again`);
    await t.close();
    const untrusted = new Transport(url, { tls: { rejectUnauthorized: true } });
    await assert.rejects(get(untrusted, `${url}/x`), /self[- ]signed|unable to verify|certificate/i);
    await untrusted.close();
    const insecure = new Transport(url, { tls: { rejectUnauthorized: false } });
    assert.equal((await get(insecure, `${url}/x`)).body.peer, "anonymous");
    await insecure.close();
  });

  test("the path after the server's origin is sent as it is; a server path prefix stays, raw characters are escaped", async () => {
    const url = `https://127.0.0.1:${port(ipServer)}`;
    const t = new Transport(`${url}/k8s/clusters/c-1`, { tls: { ca: ca.certPem, rejectUnauthorized: true } });
    assert.equal(
      (await get(t, `${url}/k8s/clusters/c-1/api/v1/pods?watch=true`)).body.path,
      "/k8s/clusters/c-1/api/v1/pods?watch=true",
    );
    assert.equal(
      (await get(t, `${url}/api/v1/namespaces/a b/pods/é`)).body.path,
      "/api/v1/namespaces/a%20b/pods/%C3%A9",
    );
    // a URL of another origin goes there (here: a server whose certificate names api.internal only)
    const other = `https://127.0.0.1:${port(nameServer)}`;
    await assert.rejects(get(t, `${other}/x`), /altnames|does not match|IP: 127\.0\.0\.1/i);
    await t.close();
  });

  test("tls-server-name: a certificate for a DNS name, reached by IP", async () => {
    const url = `https://127.0.0.1:${port(nameServer)}`;
    const plain = new Transport(url, { tls: { ca: ca.certPem, rejectUnauthorized: true } });
    await assert.rejects(get(plain, `${url}/x`), /altnames|does not match|IP: 127\.0\.0\.1/i);
    await plain.close();
    const named = new Transport(url, { tls: { ca: ca.certPem, rejectUnauthorized: true, servername: "api.internal" } });
    assert.equal((await get(named, `${url}/x`)).status, 200);
    await named.close();
  });

  test("proxy-url: HTTPS through an HTTP CONNECT tunnel", async () => {
    const url = `https://127.0.0.1:${port(ipServer)}`;
    const t = new Transport(url, {
      tls: { ca: ca.certPem, rejectUnauthorized: true },
      proxyUrl: `http://127.0.0.1:${port(proxy)}`,
    });
    tunnels.length = 0;
    assert.equal((await get(t, `${url}/through`)).body.path, "/through");
    assert.deepEqual(tunnels, [`127.0.0.1:${port(ipServer)}`]);
    await t.close();
  });

  test("an idle request times out; an aborted one rejects with the abort", async () => {
    const url = `http://127.0.0.1:${port(silent)}`;
    const t = new Transport(url, { tls: { rejectUnauthorized: true } });
    await assert.rejects(get(t, `${url}/x`, { timeoutMs: 200 }), /no data from the API server/);
    const ctl = new AbortController();
    const p = get(t, `${url}/y`, { timeoutMs: 0, signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    await assert.rejects(p, { name: "AbortError" });
    await t.close();
  });

  test("text(): an answer of many chunks arrives whole; one cut short rejects", async () => {
    const url = `http://127.0.0.1:${port(chunked)}`;
    const t = new Transport(url, { tls: { rejectUnauthorized: true } });
    const whole = await t.request(`${url}/all`, { method: "GET", headers: {}, timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await whole.body.text()).split("\n").filter(Boolean).length, 500);
    const cut = await t.request(`${url}/cut`, { method: "GET", headers: {}, timeoutMs: 5000 });
    await assert.rejects(cut.body.text());
    await t.close();
  });
});
