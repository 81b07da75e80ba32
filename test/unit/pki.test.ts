import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { writeControlPlanePki } from "../../src/local/pki.ts";
import { issueServingCert, loadCa } from "../../src/pki/x509.ts";

describe("local control plane pki", () => {
  test("writeControlPlanePki writes loadable files, and loadCa issues certs that chain to it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pki-test-"));
    try {
      const f = await writeControlPlanePki(dir);
      const caCert = new X509Certificate(await readFile(f.caCert));
      const api = new X509Certificate(await readFile(f.apiserverCert));
      const admin = new X509Certificate(await readFile(f.adminCert));
      assert.ok(api.checkIssued(caCert) && api.verify(caCert.publicKey));
      assert.equal(api.checkIP("127.0.0.1"), "127.0.0.1");
      assert.equal(admin.subject, "O=system:masters\nCN=admin");
      assert.match(await readFile(f.saPub, "utf8"), /BEGIN PUBLIC KEY/);
      const loaded = loadCa(f.caCert, f.caKey);
      const leaf = new X509Certificate(issueServingCert(loaded).certPem);
      assert.ok(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey));
      assert.equal(leaf.issuer, caCert.subject);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
