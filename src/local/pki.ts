// The local control plane's certificate files: a CA, kube-apiserver's serving certificate, the admin
// (system:masters) client certificate and the service-account key pair, in one directory. The X.509
// machinery itself is src/pki/x509.ts (not dev-cluster specific). See docs/adr/0002-local-pki.md.
import { generateKeyPairSync } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createCa, issueCert, issueClientCert } from "../pki/x509.ts";

export interface PkiFiles {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCert: string;
  adminKey: string;
  /** Service-account token signing key (RSA 2048, PKCS#8) and its public key (SPKI). */
  saKey: string;
  saPub: string;
}

/** Writes CA, apiserver serving cert, admin (system:masters) client cert and SA keys into `dir`. */
export async function writeControlPlanePki(dir: string): Promise<PkiFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f: PkiFiles = {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    apiserverCert: join(dir, "apiserver.crt"),
    apiserverKey: join(dir, "apiserver.key"),
    adminCert: join(dir, "admin.crt"),
    adminKey: join(dir, "admin.key"),
    saKey: join(dir, "sa.key"),
    saPub: join(dir, "sa.pub"),
  };
  const ca = createCa();
  const api = issueCert(ca, {
    commonName: "kube-apiserver",
    ipAddresses: ["127.0.0.1", "10.0.0.1"],
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    usage: "server",
  });
  const admin = issueClientCert(ca, "admin", ["system:masters"]);
  const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const w = (p: string, s: string) => writeFile(p, s, { mode: 0o600 });
  await Promise.all([
    w(f.caCert, ca.certPem),
    w(f.caKey, ca.keyPem),
    w(f.apiserverCert, api.certPem),
    w(f.apiserverKey, api.keyPem),
    w(f.adminCert, admin.certPem),
    w(f.adminKey, admin.keyPem),
    w(f.saKey, sa.privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
    w(f.saPub, sa.publicKey.export({ type: "spki", format: "pem" }).toString()),
  ]);
  return f;
}
