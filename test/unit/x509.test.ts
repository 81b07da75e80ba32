import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { connect, createServer } from "node:tls";
import { caFromPem, createCa, issueClientCert, issueServingCert, loadCa } from "../../src/pki/x509.ts";

describe("x509", () => {
  const ca = createCa("test CA");

  test("the CA is self-signed, a CA, and verifies itself", () => {
    const c = new X509Certificate(ca.certPem);
    assert.equal(c.ca, true);
    assert.equal(c.subject, "CN=test CA");
    assert.equal(c.issuer, "CN=test CA");
    assert.ok(c.verify(c.publicKey));
    assert.ok(c.checkIssued(c));
  });

  test("a serving cert carries the IP and DNS SANs, is signed by the CA, and is no CA", () => {
    const s = issueServingCert(ca, { ipAddresses: ["127.0.0.1", "::1"], dnsNames: ["localhost"] });
    const c = new X509Certificate(s.certPem);
    const caCert = new X509Certificate(ca.certPem);
    assert.ok(c.verify(caCert.publicKey));
    assert.ok(c.checkIssued(caCert));
    assert.equal(c.ca, false);
    assert.equal(c.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(c.checkIP("::1"), "::1");
    assert.equal(c.checkIP("10.1.1.1"), undefined);
    assert.equal(c.checkHost("localhost"), "localhost");
    assert.deepEqual(c.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
    const days = (Date.parse(c.validTo) - Date.now()) / 86400_000;
    assert.ok(days > 360 && days < 366, `valid for ${days} days`);
  });

  test("a client cert maps user to CN and groups to O", () => {
    const k = issueClientCert(ca, "alice", ["dev", "ops"]);
    const c = new X509Certificate(k.certPem);
    assert.equal(c.subject, "O=dev\nO=ops\nCN=alice");
    assert.deepEqual(c.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
    assert.ok(c.checkIssued(new X509Certificate(ca.certPem)));
  });

  test("a TLS client that trusts only the CA accepts the serving cert on 127.0.0.1", async () => {
    const s = issueServingCert(ca);
    const server = createServer({ key: s.keyPem, cert: s.certPem }, (sock) => sock.end("hi"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const got = await new Promise<string>((resolve, reject) => {
        const sock = connect({ host: "127.0.0.1", port, ca: ca.certPem }, () => {
          let data = "";
          sock.on("data", (d) => {
            data += d;
          });
          sock.on("end", () => resolve(data));
        });
        sock.on("error", reject);
      });
      assert.equal(got, "hi");
    } finally {
      server.close();
    }
  });

  test("caFromPem and loadCa give a CA whose certificates chain to the original", async () => {
    const caCert = new X509Certificate(ca.certPem);
    const dir = await mkdtemp(join(tmpdir(), "x509-test-"));
    try {
      await writeFile(join(dir, "ca.crt"), ca.certPem);
      await writeFile(join(dir, "ca.key"), ca.keyPem);
      for (const loaded of [caFromPem(ca.certPem, ca.keyPem), loadCa(join(dir, "ca.crt"), join(dir, "ca.key"))]) {
        assert.deepEqual(loaded.subject, ca.subject);
        assert.deepEqual(loaded.keyId, ca.keyId);
        const leaf = new X509Certificate(issueServingCert(loaded).certPem);
        assert.ok(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey));
        assert.equal(leaf.issuer, "CN=test CA");
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("caFromPem names the source when the PEM is no certificate", () => {
    assert.throws(
      () => caFromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", ca.keyPem, "Secret x/y ca.crt"),
      /^Error: Secret x\/y ca\.crt: not a PEM certificate$/,
    );
  });
});
