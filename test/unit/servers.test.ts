// The health and metrics HTTP servers on loopback (port 0): answers, formats, TLS floor.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { jobSetMetrics } from "../../src/controllers/jobset/metrics.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import { HealthServer, ping } from "../../src/runtime/health.ts";
import { Metrics, startMetricsServer } from "../../src/runtime/metrics.ts";
import { parseBindAddress } from "../../src/runtime/net.ts";

describe("parseBindAddress", () => {
  for (const [input, want] of [
    [":8081", { host: "", port: 8081 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["[::1]:8443", { host: "::1", port: 8443 }],
    ["9090", { host: "", port: 9090 }],
    ["0", undefined],
    ["", undefined],
  ] as const) {
    test(JSON.stringify(input), () => assert.deepEqual(parseBindAddress(input), want));
  }
  test("rejects garbage", () => assert.throws(() => parseBindAddress("localhost"), /invalid bind address/));
});

describe("HealthServer", () => {
  test("healthz/readyz answers like controller-runtime", async (t) => {
    const h = new HealthServer({ bindAddress: "127.0.0.1:0" });
    let ready = false;
    h.addHealthCheck("ping", ping);
    h.addReadyCheck("informers", () => {
      if (!ready) throw new Error("not synced");
    });
    h.addReadyCheck("webhook", ping);
    const port = await h.start();
    t.after(() => h.stop());
    const get = async (path: string) => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: r.status, body: await r.text() };
    };
    assert.deepEqual(await get("/healthz"), { status: 200, body: "ok" });
    assert.deepEqual(await get("/readyz"), {
      status: 500,
      body: "[-]informers failed: reason withheld\n[+]webhook ok\nreadyz check failed\n",
    });
    assert.equal((await get("/readyz?exclude=informers")).status, 200);
    assert.deepEqual(await get("/readyz/informers"), { status: 500, body: "internal server error: not synced\n" });
    assert.equal((await get("/readyz/nope")).status, 404);
    assert.equal((await get("/other")).status, 404);
    ready = true;
    assert.deepEqual(await get("/readyz"), { status: 200, body: "ok" });
    assert.deepEqual(await get("/readyz?verbose"), {
      status: 200,
      body: "[+]informers ok\n[+]webhook ok\nreadyz check passed\n",
    });
  });

  test("custom endpoint names; bind address 0 disables", async () => {
    const h = new HealthServer({ bindAddress: "0", readinessPath: "/ready" });
    assert.equal(await h.start(), undefined);
    h.addReadyCheck("x", ping);
    assert.deepEqual(await h.evaluate("ready", "/ready/x"), { status: 200, body: "ok" });
  });
});

describe("metrics server", () => {
  test("serves /metrics in Prometheus text format, with the JobSet controller's counters", async (t) => {
    const metrics = new Metrics();
    const jobsets = jobSetMetrics(metrics.registry);
    assert.equal(jobSetMetrics(metrics.registry), jobsets, "registered once per registry");
    jobsets.jobsetCompletedInc("js-a", "ns1");
    jobsets.jobsetFailedInc("js-b", "ns2");
    const s = await startMetricsServer({ bindAddress: "127.0.0.1:0", metrics });
    assert.ok(s);
    t.after(() => s.close());
    const r = await fetch(`http://127.0.0.1:${s.port}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /text\/plain/);
    const body = await r.text();
    assert.match(body, /jobset_completed_total\{jobset_name="js-a",namespace="ns1"\} 1/);
    assert.match(body, /jobset_failed_total\{jobset_name="js-b",namespace="ns2"\} 1/);
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/other`)).status, 404);
  });

  test("an authorizer can deny", async (t) => {
    const s = await startMetricsServer({
      bindAddress: "127.0.0.1:0",
      metrics: new Metrics(),
      authorize: async (req) => (req.headers.authorization === "Bearer good" ? true : 403),
    });
    assert.ok(s);
    t.after(() => s.close());
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/metrics`)).status, 403);
    const ok = await fetch(`http://127.0.0.1:${s.port}/metrics`, { headers: { authorization: "Bearer good" } });
    assert.equal(ok.status, 200);
  });

  test("HTTPS with a certificate directory: TLS 1.2 floor, or TLS 1.3 when asked", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "metrics-tls-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const ca = createCa("test ca", 1);
    const cert = issueServingCert(ca);
    await writeFile(join(dir, "tls.crt"), cert.certPem);
    await writeFile(join(dir, "tls.key"), cert.keyPem);
    const s = await startMetricsServer({ bindAddress: "127.0.0.1:0", metrics: new Metrics(), certDir: dir });
    assert.ok(s);
    t.after(() => s.close());
    const get = (port: number, maxVersion: "TLSv1.1" | "TLSv1.2" | "TLSv1.3") =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          { host: "127.0.0.1", port, path: "/metrics", ca: ca.certPem, maxVersion, minVersion: "TLSv1" },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
    assert.equal(await get(s.port, "TLSv1.2"), 200);
    await assert.rejects(get(s.port, "TLSv1.1"));
    // minVersion VersionTLS13 refuses TLS 1.2 clients
    const s13 = await startMetricsServer({
      bindAddress: "127.0.0.1:0",
      metrics: new Metrics(),
      certDir: dir,
      minVersion: "VersionTLS13",
    });
    assert.ok(s13);
    t.after(() => s13.close());
    await assert.rejects(get(s13.port, "TLSv1.2"));
    assert.equal(await get(s13.port, "TLSv1.3"), 200);
  });
});
