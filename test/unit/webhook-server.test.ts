import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import { checkAdmissionReviewResponse, decodePatch } from "../../src/webhooks/admission.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { webhookHandlers } from "../../src/webhooks/handlers.ts";
import { tlsOptions, WebhookServer } from "../../src/webhooks/server.ts";
import { jobSet, rjob } from "../builders.ts";
import { post, review, send } from "../support/admission-client.ts";

const ca = createCa("test-ca", 1);
const leaf = issueServingCert(ca);

const podLookups = { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) };

function server(extra: Partial<ConstructorParameters<typeof WebhookServer>[0]> = {}) {
  return new WebhookServer({
    host: "127.0.0.1",
    port: 0,
    certificate: { cert: leaf.certPem, key: leaf.keyPem },
    handlers: webhookHandlers({ gates: defaultFeatureGates, getPVC: async () => undefined, pods: podLookups }),
    ...extra,
  });
}

/** Polls `f` until it returns true (deadline 5 s). */
async function eventually(f: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("webhook server", () => {
  const s = server({
    maxBodyBytes: 64 * 1024,
    handlers: {
      ...webhookHandlers({ gates: defaultFeatureGates, getPVC: async () => undefined, pods: podLookups }),
      "/slow": (_req, signal) =>
        new Promise((resolve) => {
          const t = setTimeout(() => resolve({ allowed: true }), 10_000);
          signal.addEventListener("abort", () => clearTimeout(t));
        }),
      "/throws": () => {
        throw new TypeError("cannot read properties of undefined");
      },
      "/rejects": async () => {
        throw new RangeError("index out of range");
      },
    },
    handlerTimeoutMs: 200,
  });
  const o = { ca: ca.certPem };
  before(() => s.start());
  after(() => s.stop());

  test("JobSet CREATE is defaulted with a JSON patch", async () => {
    const js = jobSet("js").replicatedJob(rjob("rj")).obj();
    const r = await send(`${s.url}${Paths.MutateJobSet}`, review({ operation: "CREATE", object: js }), o);
    assert.deepEqual(checkAdmissionReviewResponse(r), []);
    assert.equal(r.response?.allowed, true);
    const paths = decodePatch(r.response ?? {}).map((p) => p.path);
    assert.ok(paths.includes("/spec/successPolicy"), paths.join(","));
    assert.ok(paths.includes("/spec/replicatedJobs/0/template/spec/completionMode"), paths.join(","));
  });
  test("invalid JobSet → 422 Invalid Status with causes", async () => {
    const js = jobSet("js").replicatedJob(rjob("rj")).obj();
    js.spec = { ...js.spec, network: { subdomain: "Foo" } };
    const r = await send(`${s.url}${Paths.ValidateJobSet}`, review({ operation: "CREATE", object: js }), o);
    assert.equal(r.response?.allowed, false);
    const st = r.response?.status;
    assert.equal(st?.code, 422);
    assert.equal(st?.reason, "Invalid");
    assert.equal(st?.details?.name, "js");
    assert.equal(st?.details?.group, "jobset.x-k8s.io");
    assert.equal(st?.details?.kind, "JobSet");
    assert.ok((st?.details?.causes ?? []).some((c) => c.field === "spec.network.subdomain"));
    assert.match(st?.message ?? "", /^JobSet\.jobset\.x-k8s\.io "js" is invalid: /);
  });
  test("generateName create: details.name is omitted, as Go omits an empty name", async () => {
    const js = jobSet("js").generateName("gen-").replicatedJob(rjob("rj")).obj();
    js.spec = { ...js.spec, network: { subdomain: "Foo" } };
    const r = await send(`${s.url}${Paths.ValidateJobSet}`, review({ operation: "CREATE", object: js }), o);
    assert.equal(r.response?.status?.details !== undefined && "name" in r.response.status.details, false);
    assert.match(r.response?.status?.message ?? "", /^JobSet\.jobset\.x-k8s\.io "" is invalid: /);
  });
  test("valid UPDATE passes; DELETE is allowed", async () => {
    const js = jobSet("js").replicatedJob(rjob("rj")).obj();
    for (const operation of ["UPDATE", "DELETE"] as const) {
      const r = await send(`${s.url}${Paths.ValidateJobSet}`, review({ operation, object: js, oldObject: js }), o);
      assert.equal(r.response?.allowed, true, JSON.stringify(r.response));
    }
  });
  test("pod denial is 403 Forbidden", async () => {
    const pod = {
      metadata: {
        labels: { "jobset.sigs.k8s.io/jobset-name": "js" },
        annotations: {
          "jobset.sigs.k8s.io/jobset-name": "js",
          "alpha.jobset.sigs.k8s.io/exclusive-topology": "rack",
          "batch.kubernetes.io/job-completion-index": "1",
        },
      },
      spec: { containers: [{ name: "c", image: "i" }] },
    };
    const r = await send(`${s.url}${Paths.ValidatePod}`, review({ operation: "CREATE", object: pod }), o);
    assert.equal(
      JSON.stringify(r.response?.status),
      JSON.stringify({ metadata: {}, message: "follower pod node selector not set", reason: "Forbidden", code: 403 }),
    );
  });

  const malformed: [string, string, string | undefined, number][] = [
    ["not JSON", "{nope", undefined, 400],
    ["not an AdmissionReview", JSON.stringify({ kind: "Pod" }), undefined, 400],
    ["wrong content type", JSON.stringify(review({ operation: "CREATE", object: {} })), "text/plain", 400],
    ["empty body", "", undefined, 400],
    [
      "JobSet with a type error",
      JSON.stringify(review({ operation: "CREATE", object: { spec: "x" } })),
      undefined,
      400,
    ],
  ];
  for (const [name, body, contentType, code] of malformed) {
    test(`malformed: ${name} → well-formed AdmissionReview with code ${code}`, async () => {
      const a = await post(`${s.url}${Paths.ValidateJobSet}`, body, { ...o, ...(contentType ? { contentType } : {}) });
      assert.equal(a.status, 200);
      const doc = JSON.parse(a.body);
      assert.deepEqual(checkAdmissionReviewResponse(doc), []);
      assert.equal(doc.response.allowed, false);
      assert.equal(doc.response.status.code, code);
    });
  }
  test("a type error names the field path in Go's wording", async () => {
    const r = await send(
      `${s.url}${Paths.MutateJobSet}`,
      review({ operation: "CREATE", object: { spec: { replicatedJobs: [{ name: "a", replicas: "x" }] } } }),
      o,
    );
    assert.equal(r.response?.status?.code, 400);
    assert.equal(
      r.response?.status?.message,
      "json: cannot unmarshal string into Go struct field ReplicatedJob.spec.replicatedJobs.replicas of type int32",
    );
  });
  test("bodies over the limit → 413", async () => {
    const big = JSON.stringify(review({ operation: "CREATE", object: { pad: "x".repeat(100 * 1024) } }));
    const a = await post(`${s.url}${Paths.ValidateJobSet}`, big, o);
    const doc = JSON.parse(a.body);
    assert.deepEqual(checkAdmissionReviewResponse(doc), []);
    assert.equal(doc.response.status.code, 413);
    assert.match(doc.response.status.message, /request entity is too large; limit is 65536 bytes/);
  });
  test("slow handlers time out with a well-formed answer", async () => {
    const r = await send(`${s.url}/slow`, review({ operation: "CREATE", object: {} }), o);
    assert.equal(r.response?.allowed, false);
    assert.equal(r.response?.status?.code, 500);
    assert.match(r.response?.status?.message ?? "", /did not answer within 200ms/);
  });
  test("a throwing handler is answered 500 and the server keeps serving", async () => {
    const r = await send(`${s.url}/throws`, review({ operation: "CREATE", object: {} }), o);
    assert.equal(r.response?.status?.code, 500);
    const again = await send(`${s.url}${Paths.MutateJobSet}`, review({ operation: "CREATE", object: {} }), o);
    assert.equal(again.response?.allowed, true);
  });
  test("a handler whose promise rejects is answered 500 too", async () => {
    const r = await send(`${s.url}/rejects`, review({ operation: "CREATE", object: {} }), o);
    assert.equal(r.response?.status?.code, 500);
    assert.equal(r.response?.status?.message, "panic: index out of range [recovered]");
  });
  test("a client that goes away in the middle of its body leaves the server serving", async () => {
    const url = new URL(`${s.url}${Paths.ValidateJobSet}`);
    await new Promise<void>((resolve, reject) => {
      const req = https.request(url, {
        method: "POST",
        ca: ca.certPem,
        agent: false,
        headers: { "content-type": "application/json", "content-length": "1000" },
      });
      req.on("error", () => resolve()); // our own abort
      req.on("response", () => reject(new Error("answered a request whose body never arrived")));
      req.write('{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {', () => {
        setTimeout(() => req.destroy(), 50);
      });
    });
    // the abandoned request is over (not left in flight, which would hold up a graceful stop)
    await eventually(() => s.inFlight === 0, "no request in flight");
    const again = await send(`${s.url}${Paths.MutateJobSet}`, review({ operation: "CREATE", object: {} }), o);
    assert.equal(again.response?.allowed, true);
  });
  test("unknown paths 404, GET on a webhook 405, /healthz 200", async () => {
    assert.equal((await post(`${s.url}/nope`, "{}", o)).status, 404);
    assert.equal((await post(`${s.url}${Paths.MutatePod}`, "", { ...o, method: "GET" })).status, 405);
    const h = await post(`${s.url}/healthz`, "", { ...o, method: "GET" });
    assert.deepEqual([h.status, h.body], [200, "ok"]);
  });
  test("TLS 1.1 is refused, TLS 1.2 accepted", async () => {
    await assert.rejects(
      post(`${s.url}/healthz`, "", { ...o, method: "GET", maxVersion: "TLSv1.1", minVersion: "TLSv1" }),
    );
    const a = await post(`${s.url}/healthz`, "", { ...o, method: "GET", maxVersion: "TLSv1.2" });
    assert.equal(a.status, 200);
  });
});

describe("TLS options", () => {
  test("min version and cipher names (IANA → OpenSSL)", () => {
    assert.deepEqual(tlsOptions(), { minVersion: "TLSv1.2" });
    assert.equal(tlsOptions({ minVersion: "VersionTLS13" }).minVersion, "TLSv1.3");
    assert.match(
      tlsOptions({ cipherSuites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"] }).ciphers ?? "",
      /ECDHE-RSA-AES128-GCM-SHA256$/,
    );
    assert.throws(() => tlsOptions({ minVersion: "VersionTLS11" }), /unsupported TLS minVersion/);
    assert.throws(() => tlsOptions({ cipherSuites: ["TLS_RSA_WITH_RC4_128_SHA"] }), /unsupported cipher suite/);
  });
  test("VersionTLS13 refuses TLS 1.2 clients", async () => {
    const s = server({ tls: { minVersion: "VersionTLS13" } });
    await s.start();
    try {
      await assert.rejects(post(`${s.url}/healthz`, "", { ca: ca.certPem, method: "GET", maxVersion: "TLSv1.2" }));
      assert.equal((await post(`${s.url}/healthz`, "", { ca: ca.certPem, method: "GET" })).status, 200);
    } finally {
      await s.stop();
    }
  });
  test("a restricted cipher list still serves ECDSA certificates", async () => {
    const s = server({ tls: { cipherSuites: ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"] } });
    await s.start();
    try {
      const a = await post(`${s.url}/healthz`, "", { ca: ca.certPem, method: "GET", maxVersion: "TLSv1.2" });
      assert.equal(a.status, 200);
    } finally {
      await s.stop();
    }
  });
});

describe("certificate swap", () => {
  test("setCertificate: new connections get the new cert, open keep-alive connections keep working", async () => {
    const s = server();
    await s.start();
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const o = { ca: ca.certPem, method: "GET", agent };
      const first = await post(`${s.url}/healthz`, "", o);
      const next = issueServingCert(ca);
      s.setCertificate({ cert: next.certPem, key: next.keyPem });
      // The kept-alive connection still works (it negotiated before the swap).
      const reused = await post(`${s.url}/healthz`, "", o);
      assert.equal(reused.status, 200);
      assert.equal(reused.fingerprint, first.fingerprint);
      const fresh = await post(`${s.url}/healthz`, "", { ca: ca.certPem, method: "GET" });
      assert.equal(fresh.status, 200);
      assert.notEqual(fresh.fingerprint, first.fingerprint);
      assert.throws(() => s.setCertificate({ cert: next.certPem, key: leaf.keyPem }), /does not match/);
      const still = await post(`${s.url}/healthz`, "", { ca: ca.certPem, method: "GET" });
      assert.equal(still.fingerprint, fresh.fingerprint);
    } finally {
      agent.destroy();
      await s.stop();
    }
  });
  test("certDir: new files are picked up; broken files keep the old cert", async () => {
    const dir = await mkdtemp(join(tmpdir(), "whcert-"));
    await writeFile(join(dir, "tls.crt"), leaf.certPem);
    await writeFile(join(dir, "tls.key"), leaf.keyPem);
    const s = new WebhookServer({
      host: "127.0.0.1",
      port: 0,
      certDir: dir,
      certPollIntervalMs: 30,
      handlers: {},
    });
    await s.start();
    try {
      const o = { ca: ca.certPem, method: "GET" };
      const before = (await post(`${s.url}/healthz`, "", o)).fingerprint;
      await writeFile(join(dir, "tls.key"), "garbage");
      const next = issueServingCert(ca);
      await new Promise((r) => setTimeout(r, 100)); // let the watcher see the broken pair at least once
      assert.equal((await post(`${s.url}/healthz`, "", o)).fingerprint, before);
      await writeFile(join(dir, "tls.key"), next.keyPem);
      await writeFile(join(dir, "tls.crt"), next.certPem);
      await eventually(async () => (await post(`${s.url}/healthz`, "", o)).fingerprint !== before, "new certificate");
    } finally {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
