import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createCa, issueCert, issueServingCert } from "../../src/pki/x509.ts";
import { ApiError } from "../../src/runtime/client.ts";
import {
  CertManager,
  type CertManagerOptions,
  decideCerts,
  readCertFile,
  renewalTime,
  waitForCertFiles,
} from "../../src/webhooks/certs.ts";
import { localWebhookConfigurations, serviceWebhookConfigurations } from "../../src/webhooks/configurations.ts";
import { WebhookServer } from "../../src/webhooks/server.ts";
import { post } from "../support/admission-client.ts";

const DAY = 86_400_000;

/** An in-memory API: objects by path, resourceVersion checks, hooks to simulate other writers. */
class FakeApi {
  objects = new Map<string, Record<string, unknown>>();
  rv = 1;
  writes: { verb: string; path: string; body: Record<string, unknown> }[] = [];
  beforeUpdate: ((path: string) => void) | undefined;
  async get<T>(path: string): Promise<T> {
    const o = this.objects.get(path);
    if (!o) throw new ApiError(404, "NotFound", `${path} not found`);
    return structuredClone(o) as T;
  }
  async create<T>(path: string, body: unknown): Promise<T> {
    const b = structuredClone(body) as { metadata: { name: string; resourceVersion?: string } };
    const full = `${path}/${b.metadata.name}`;
    if (this.objects.has(full)) throw new ApiError(409, "AlreadyExists", "exists");
    b.metadata.resourceVersion = String(this.rv++);
    this.objects.set(full, b as unknown as Record<string, unknown>);
    this.writes.push({ verb: "create", path: full, body: structuredClone(b) as unknown as Record<string, unknown> });
    return b as T;
  }
  async update<T>(path: string, body: unknown): Promise<T> {
    this.beforeUpdate?.(path);
    const cur = this.objects.get(path) as { metadata: { resourceVersion: string } } | undefined;
    if (!cur) throw new ApiError(404, "NotFound", "not found");
    const b = structuredClone(body) as { metadata: { resourceVersion?: string } };
    if (b.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new ApiError(409, "Conflict", "conflict");
    b.metadata.resourceVersion = String(this.rv++);
    this.objects.set(path, b as unknown as Record<string, unknown>);
    this.writes.push({ verb: "update", path, body: structuredClone(b) as unknown as Record<string, unknown> });
    return b as T;
  }
}

const SECRET = "/api/v1/namespaces/jobset-system/secrets/jobset-webhook-server-cert";
const MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/jobset-mutating-webhook-configuration";
const VWC =
  "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/jobset-validating-webhook-configuration";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setup(extra: Partial<CertManagerOptions> = {}, withConfigs = true) {
  const api = new FakeApi();
  if (withConfigs) {
    const [m, v] = serviceWebhookConfigurations();
    api.objects.set(MWC, { ...m, metadata: { ...m.metadata, resourceVersion: "1" } });
    api.objects.set(VWC, { ...v, metadata: { ...v.metadata, resourceVersion: "1" } });
  }
  const certDir = await mkdtemp(join(tmpdir(), "certs-"));
  dirs.push(certDir);
  const served: string[] = [];
  let clock = Date.now();
  const mgr = new CertManager({
    client: api,
    namespace: "jobset-system",
    serviceName: "jobset-webhook-service",
    ipAddresses: ["127.0.0.1"],
    certDir,
    caPropagationDelayMs: 0,
    onCertificate: (c) => served.push(c.cert.toString()),
    now: () => clock,
    ...extra,
  });
  return {
    api,
    mgr,
    certDir,
    served,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const secretData = (api: FakeApi) =>
  Object.fromEntries(
    Object.entries((api.objects.get(SECRET) as { data: Record<string, string> }).data).map(([k, v]) => [
      k,
      Buffer.from(v, "base64").toString(),
    ]),
  );
const bundles = (api: FakeApi) =>
  [MWC, VWC].flatMap((p) =>
    ((api.objects.get(p) as { webhooks: { clientConfig: { caBundle?: string } }[] }).webhooks ?? []).map(
      (w) => w.clientConfig.caBundle,
    ),
  );

describe("certificate decisions", () => {
  const o = {
    now: Date.now(),
    dnsNames: ["svc.ns.svc"],
    ipAddresses: ["127.0.0.1"],
    caValidityMs: 10 * DAY,
    certValidityMs: DAY,
    rotateAtFraction: 0.8,
  };
  const ca = createCa("ca", 10);
  const leaf = issueServingCert(ca, { dnsNames: ["svc.ns.svc"], ipAddresses: ["127.0.0.1"] });
  const shortLeaf = issueCert(ca, {
    commonName: "svc",
    dnsNames: ["svc.ns.svc"],
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    validDays: 1,
  });
  const good = { caCert: ca.certPem, caKey: ca.keyPem, cert: leaf.certPem, key: leaf.keyPem };
  test("valid certificates are kept", () => {
    const d = decideCerts(good, o);
    assert.equal(d.action, "none");
    assert.ok(d.renewAt !== undefined && d.renewAt > o.now);
  });
  const cases: [string, Parameters<typeof decideCerts>[0], Partial<typeof o>, string][] = [
    ["empty secret", {}, {}, "issue-all"],
    ["garbage CA", { ...good, caCert: "x" }, {}, "issue-all"],
    ["CA key mismatch", { ...good, caKey: createCa().keyPem }, {}, "issue-all"],
    ["CA at 80%", good, { now: o.now + 8.1 * DAY }, "issue-all"],
    ["no serving cert", { caCert: ca.certPem, caKey: ca.keyPem }, {}, "issue-serving"],
    ["serving key mismatch", { ...good, key: issueServingCert(ca).keyPem }, {}, "issue-serving"],
    [
      "signed by another CA",
      { ...good, ...pair(issueServingCert(createCa(), { dnsNames: ["svc.ns.svc"] })) },
      {},
      "issue-serving",
    ],
    ["missing DNS SAN", good, { dnsNames: ["other.ns.svc"] }, "issue-serving"],
    ["missing IP SAN", good, { ipAddresses: ["10.0.0.1"] }, "issue-serving"],
    [
      "serving cert in the last 20% of its validity",
      { ...good, ...pair(shortLeaf) },
      { now: Date.parse(new X509Certificate(shortLeaf.certPem).validTo) - 0.19 * DAY },
      "issue-serving",
    ],
  ];
  for (const [name, certs, over, want] of cases) {
    test(name, () => assert.equal(decideCerts(certs, { ...o, ...over }).action, want));
  }
  test("renewal time caps the lifetime at the configured validity (back-dated notBefore)", () => {
    const t = 1_000_000_000;
    assert.equal(renewalTime({ notBefore: t - 3_600_000, notAfter: t + 30_000 }, 30_000, 0.8), t + 24_000);
    assert.equal(renewalTime({ notBefore: t, notAfter: t + 100 * DAY }, 365 * DAY, 0.5), t + 50 * DAY);
  });
});

function pair(c: { certPem: string; keyPem: string }) {
  return { cert: c.certPem, key: c.keyPem };
}

describe("certificate manager", () => {
  test("bootstrap: Secret created, files written, certificate served, CA injected into every webhook", async () => {
    const { api, mgr, certDir, served } = await setup();
    assert.equal(mgr.ready, false);
    assert.throws(() => mgr.readyCheck(), /certificates are not ready/);
    await mgr.ensure();
    assert.equal(mgr.ready, true);
    const data = secretData(api);
    assert.deepEqual(Object.keys(data).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    assert.equal(await readFile(join(certDir, "tls.crt"), "utf8"), data["tls.crt"]);
    assert.equal(await readFile(join(certDir, "tls.key"), "utf8"), data["tls.key"]);
    assert.equal(await readFile(join(certDir, "ca.crt"), "utf8"), data["ca.crt"]);
    assert.deepEqual(served, [data["tls.crt"]]);
    const x = new X509Certificate(data["tls.crt"] ?? "");
    assert.equal(x.checkHost("jobset-webhook-service.jobset-system.svc"), "jobset-webhook-service.jobset-system.svc");
    assert.equal(x.checkIP("127.0.0.1"), "127.0.0.1");
    assert.ok(x.verify(new X509Certificate(data["ca.crt"] ?? "").publicKey));
    const b = Buffer.from(data["ca.crt"] ?? "").toString("base64");
    assert.deepEqual(bundles(api), [b, b, b, b]);
    // A second pass changes nothing.
    const writes = api.writes.length;
    await mgr.ensure();
    assert.equal(api.writes.length, writes);
    assert.deepEqual(mgr.issued, { ca: 1, serving: 1 });
  });
  test("serving certificate renewal keeps the CA and the bundle", async () => {
    const { api, mgr, served, advance } = await setup({ certValidityMs: 60_000 });
    await mgr.ensure();
    const before = secretData(api);
    advance(45_000);
    await mgr.ensure();
    assert.equal(mgr.issued.serving, 1, "not yet at 80%");
    advance(5_000);
    await mgr.ensure();
    const afterData = secretData(api);
    assert.equal(mgr.issued.serving, 2);
    assert.equal(afterData["ca.crt"], before["ca.crt"]);
    assert.notEqual(afterData["tls.crt"], before["tls.crt"]);
    assert.deepEqual(served, [before["tls.crt"], afterData["tls.crt"]]);
    assert.ok(bundles(api).every((x) => x === Buffer.from(before["ca.crt"] ?? "").toString("base64")));
  });
  test("CA renewal injects old+new CA before serving the new certificate", async () => {
    const { api, mgr, advance } = await setup({ caValidityMs: 100_000 });
    await mgr.ensure();
    const oldCA = secretData(api)["ca.crt"] ?? "";
    const writesBefore = api.writes.length;
    advance(81_000);
    await mgr.ensure();
    const newCA = secretData(api)["ca.crt"] ?? "";
    assert.notEqual(newCA, oldCA);
    const configWrites = api.writes.slice(writesBefore).filter((w) => w.path !== SECRET);
    const firstWrite = configWrites[0]?.body as { webhooks: { clientConfig: { caBundle: string } }[] } | undefined;
    const firstBundle = firstWrite?.webhooks[0]?.clientConfig.caBundle;
    assert.equal(Buffer.from(firstBundle ?? "", "base64").toString(), newCA + oldCA);
    assert.ok(bundles(api).every((x) => x === Buffer.from(newCA + oldCA).toString("base64")));
    // The next pass drops the old CA (the clock goes back: x509.ts issues with the real time).
    advance(-81_000);
    await mgr.ensure();
    assert.equal(mgr.issued.ca, 2);
    assert.ok(bundles(api).every((x) => x === Buffer.from(newCA).toString("base64")));
  });
  test("a conflicting writer wins; its certificates are used", async () => {
    const { api, mgr, served, advance } = await setup({ certValidityMs: 60_000 });
    await mgr.ensure();
    advance(55_000);
    // Another replica rotates between our read and our write: our update conflicts, we re-read and use its pair.
    const ca = createCa("other", 1);
    const theirs = issueServingCert(ca, {
      dnsNames: ["jobset-webhook-service.jobset-system.svc"],
      ipAddresses: ["127.0.0.1"],
    });
    api.beforeUpdate = (path) => {
      if (path !== SECRET) return;
      api.beforeUpdate = undefined;
      const cur = api.objects.get(SECRET) as { metadata: { resourceVersion: string }; data: Record<string, string> };
      const enc = (x: string) => Buffer.from(x).toString("base64");
      cur.metadata.resourceVersion = String(api.rv++);
      cur.data = {
        "ca.crt": enc(ca.certPem),
        "ca.key": enc(ca.keyPem),
        "tls.crt": enc(theirs.certPem),
        "tls.key": enc(theirs.keyPem),
      };
    };
    await mgr.ensure();
    assert.equal(served.at(-1), theirs.certPem);
    assert.equal(secretData(api)["tls.crt"], theirs.certPem);
    assert.ok(bundles(api).every((x) => x === Buffer.from(ca.certPem).toString("base64")));
  });
  test("missing configurations: error without a factory, created with one", async () => {
    const a = await setup({}, false);
    await assert.rejects(a.mgr.ensure(), /webhook configuration jobset-mutating-webhook-configuration not found/);
    const b = await setup(
      { createConfigurations: (bundle) => localWebhookConfigurations("https://127.0.0.1:9443", bundle) },
      false,
    );
    await b.mgr.ensure();
    const data = secretData(b.api);
    const want = Buffer.from(data["ca.crt"] ?? "").toString("base64");
    const created = [...b.api.objects.keys()].filter((k) => k.includes("webhookconfigurations"));
    assert.equal(created.length, 2);
    assert.ok(bundles(b.api).every((x) => x === want));
  });
});

describe("certificate files that cannot be read", () => {
  test("readCertFile: absent is undefined, a directory in its place is an error naming the path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "certs-read-"));
    dirs.push(dir);
    assert.equal(await readCertFile(join(dir, "tls.crt")), undefined);
    await writeFile(join(dir, "tls.crt"), "pem");
    assert.equal(await readCertFile(join(dir, "tls.crt")), "pem");
    await mkdir(join(dir, "tls.key"));
    await assert.rejects(readCertFile(join(dir, "tls.key")), (e: Error) => {
      assert.match(e.message, /^cannot read certificate file .*tls\.key \(EISDIR: /);
      assert.match(e.message, /remove it so it is written anew/);
      assert.equal((e.cause as NodeJS.ErrnoException).code, "EISDIR");
      return true;
    });
  });

  test("the manager surfaces an unreadable file in the cert dir instead of writing over it", async () => {
    const s = await setup();
    await mkdir(join(s.certDir, "tls.key"));
    await assert.rejects(s.mgr.ensure(), /cannot read certificate file .*tls\.key \(EISDIR/);
    assert.equal(s.mgr.ready, false);
    assert.deepEqual(s.served, []);
  });

  test("waitForCertFiles keeps waiting for absent files but fails on an unreadable one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "certs-wait-"));
    dirs.push(dir);
    const ca = createCa();
    const leaf = issueServingCert(ca);
    const waiting = waitForCertFiles(dir, undefined, 10);
    await writeFile(join(dir, "tls.key"), leaf.keyPem);
    await writeFile(join(dir, "tls.crt"), leaf.certPem);
    assert.equal((await waiting).cert, leaf.certPem);
    const other = await mkdtemp(join(tmpdir(), "certs-wait-"));
    dirs.push(other);
    await mkdir(join(other, "tls.crt"));
    await assert.rejects(waitForCertFiles(other, undefined, 10), /cannot read certificate file .*tls\.crt \(EISDIR/);
  });
});

describe("rotation under load", () => {
  test("requests keep succeeding while the certificate rotates every ~1 s", async () => {
    const api = new FakeApi();
    const [m, v] = serviceWebhookConfigurations();
    api.objects.set(MWC, { ...m, metadata: { ...m.metadata, resourceVersion: "1" } });
    api.objects.set(VWC, { ...v, metadata: { ...v.metadata, resourceVersion: "1" } });
    const certDir = await mkdtemp(join(tmpdir(), "certs-load-"));
    dirs.push(certDir);
    let server: WebhookServer | undefined;
    const mgr = new CertManager({
      client: api,
      namespace: "jobset-system",
      serviceName: "jobset-webhook-service",
      ipAddresses: ["127.0.0.1"],
      certDir,
      certValidityMs: 3_000,
      rotateAtFraction: 0.34,
      checkIntervalMs: 100,
      onCertificate: (c) => server?.setCertificate(c),
    });
    await mgr.ensure();
    const srv = new WebhookServer({ host: "127.0.0.1", port: 0, certDir, handlers: {} });
    server = srv;
    await srv.start();
    await mgr.start();
    const url = `${srv.url}/healthz`;
    const ca = secretData(api)["ca.crt"] ?? "";
    const fingerprints = new Set<string>();
    let ok = 0;
    const deadline = Date.now() + 3_500;
    try {
      while (Date.now() < deadline) {
        const batch = await Promise.all(Array.from({ length: 4 }, () => post(url, "", { ca, method: "GET" })));
        for (const r of batch) {
          assert.equal(r.status, 200);
          fingerprints.add(r.fingerprint);
          ok++;
        }
      }
    } finally {
      mgr.stop();
      await srv.stop();
    }
    assert.ok(fingerprints.size >= 3, `expected several certificates, saw ${fingerprints.size} over ${ok} requests`);
  });
});
