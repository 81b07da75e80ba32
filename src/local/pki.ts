// The local control plane's PKI, with node:crypto only: keys come from crypto.generateKeyPairSync,
// and X.509 v3 certificates are DER-encoded here (a minimal ASN.1 writer, about 100 lines) and signed
// with crypto.sign. No openssl binary is needed. See docs/adr/0002-local-pki.md.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { isIPv4, isIPv6 } from "node:net";
import { join } from "node:path";

// ---- DER ---------------------------------------------------------------------------------------

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 | n, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const nul = () => Buffer.from([0x05, 0x00]);

/** A non-negative INTEGER from big-endian bytes, minimally encoded. */
function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const b: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, "0");
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  return y < 2050
    ? tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, "ascii"))
    : tlv(0x18, Buffer.from(`${y}${rest}`, "ascii"));
}

/** A BIT STRING of named bits (bit 0 = most significant), trailing zero bits dropped as DER requires. */
function namedBits(byte: number): Buffer {
  let unused = 0;
  while (unused < 8 && !(byte & (1 << unused))) unused++;
  return tlv(0x03, Buffer.from([unused === 8 ? 0 : unused, byte]));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = ip.includes("::") && tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  const b = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return b;
}

const OID = {
  cn: "2.5.4.3",
  o: "2.5.4.10",
  ecdsaSha256: "1.2.840.10045.4.3.2",
  rsaSha256: "1.2.840.113549.1.1.11",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyId: "2.5.29.14",
  authorityKeyId: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

const KU = { digitalSignature: 0x80, keyEncipherment: 0x20, keyCertSign: 0x04, crlSign: 0x02 };

function name(cn: string, organizations: string[] = []): Buffer {
  const rdn = (type: string, value: string) => set(seq(oid(type), utf8(value)));
  return seq(...organizations.map((o) => rdn(OID.o, o)), rdn(OID.cn, cn));
}

const ext = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1). */
function keyId(pub: KeyObject): Buffer {
  const spki = pub.export({ type: "spki", format: "der" });
  // SubjectPublicKeyInfo = SEQ { AlgorithmIdentifier, BIT STRING }: hashing the whole SPKI is also
  // acceptable for an identifier that only has to be unique; keep it simple.
  return createHash("sha1").update(spki).digest();
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

// ---- certificates ------------------------------------------------------------------------------

export interface CertAuthority {
  certPem: string;
  keyPem: string;
  key: KeyObject;
  subject: Buffer;
  keyId: Buffer;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface CertRequest {
  commonName: string;
  /** Subject O= values; for client certs these are the Kubernetes groups. */
  organizations?: string[];
  ipAddresses?: string[];
  dnsNames?: string[];
  usage: "server" | "client" | "server+client";
  /** Default 365. */
  validDays?: number;
}

function newEcKey(): { priv: KeyObject; pub: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return { priv: privateKey, pub: publicKey };
}

const keyPemOf = (k: KeyObject) => k.export({ type: "pkcs8", format: "pem" }).toString();

function sigAlg(key: KeyObject): Buffer {
  if (key.asymmetricKeyType === "ec") return seq(oid(OID.ecdsaSha256));
  if (key.asymmetricKeyType === "rsa") return seq(oid(OID.rsaSha256), nul());
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
}

function certificate(o: {
  subject: Buffer;
  issuer: Buffer;
  pub: KeyObject;
  signer: KeyObject;
  validDays: number;
  extensions: Buffer[];
}): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const now = Date.now();
  const alg = sigAlg(o.signer);
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))), // v3
    uint(serial),
    alg,
    o.issuer,
    seq(time(new Date(now - 3600_000)), time(new Date(now + o.validDays * 86400_000))),
    o.subject,
    o.pub.export({ type: "spki", format: "der" }),
    explicit(3, seq(...o.extensions)),
  );
  const sig = sign("sha256", tbs, o.signer);
  return seq(tbs, alg, tlv(0x03, Buffer.from([0]), sig));
}

/** A fresh self-signed CA (ECDSA P-256). */
export function createCa(commonName = "jobset-ts local CA", validDays = 3650): CertAuthority {
  const { priv, pub } = newEcKey();
  const subject = name(commonName);
  const id = keyId(pub);
  const der = certificate({
    subject,
    issuer: subject,
    pub,
    signer: priv,
    validDays,
    extensions: [
      ext(OID.basicConstraints, true, seq(bool(true))),
      ext(OID.keyUsage, true, namedBits(KU.digitalSignature | KU.keyCertSign | KU.crlSign)),
      ext(OID.subjectKeyId, false, octets(id)),
    ],
  });
  return { certPem: pem("CERTIFICATE", der), keyPem: keyPemOf(priv), key: priv, subject, keyId: id };
}

/** Loads a CA written by {@link writeControlPlanePki} (or any CA whose key Node can read). */
export function loadCa(certPath: string, keyPath: string): CertAuthority {
  const certPem = readFileSync(certPath, "utf8");
  const keyPem = readFileSync(keyPath, "utf8");
  const der = Buffer.from(
    certPem
      .replace(/-----[^-]+-----/g, "")
      .replace(/\s+/g, "")
      .trim(),
    "base64",
  );
  // Pull the subject Name out of the TBSCertificate: version, serial, sigAlg, issuer, validity, subject.
  const children = (buf: Buffer, at: number): { start: number; end: number }[] => {
    const out: { start: number; end: number }[] = [];
    const header = (p: number) => {
      const l0 = buf[p + 1] ?? 0;
      if (l0 < 0x80) return { hdr: 2, length: l0 };
      const n = l0 & 0x7f;
      let length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + (buf[p + 2 + i] ?? 0);
      return { hdr: 2 + n, length };
    };
    const outer = header(at);
    let p = at + outer.hdr;
    const end = p + outer.length;
    while (p < end) {
      const h = header(p);
      out.push({ start: p, end: p + h.hdr + h.length });
      p += h.hdr + h.length;
    }
    return out;
  };
  const tbs = children(der, 0)[0];
  if (!tbs) throw new Error(`${certPath}: not a certificate`);
  const fields = children(der, tbs.start);
  const subj = fields[5];
  if (!subj) throw new Error(`${certPath}: unexpected certificate layout`);
  const key = createPrivateKey(keyPem);
  const pubKey = createPublicKey(key); // derives the public half
  return { certPem, keyPem, key, subject: Buffer.from(der.subarray(subj.start, subj.end)), keyId: keyId(pubKey) };
}

/** Issues a leaf certificate signed by `ca`, with a fresh ECDSA P-256 key. */
export function issueCert(ca: CertAuthority, req: CertRequest): IssuedCert {
  const { priv, pub } = newEcKey();
  const eku: string[] = [];
  if (req.usage !== "client") eku.push(OID.serverAuth);
  if (req.usage !== "server") eku.push(OID.clientAuth);
  const sans = [
    ...(req.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, "ascii"))),
    ...(req.ipAddresses ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  const extensions = [
    ext(OID.basicConstraints, true, seq()),
    ext(OID.keyUsage, true, namedBits(KU.digitalSignature)),
    ext(OID.extKeyUsage, false, seq(...eku.map(oid))),
    ext(OID.authorityKeyId, false, seq(tlv(0x80, ca.keyId))),
  ];
  if (sans.length > 0) extensions.push(ext(OID.subjectAltName, false, seq(...sans)));
  const der = certificate({
    subject: name(req.commonName, req.organizations),
    issuer: ca.subject,
    pub,
    signer: ca.key,
    validDays: req.validDays ?? 365,
    extensions,
  });
  return { certPem: pem("CERTIFICATE", der), keyPem: keyPemOf(priv) };
}

/** A TLS serving certificate for a local server (default: IP SAN 127.0.0.1 and DNS localhost). */
export function issueServingCert(
  ca: CertAuthority,
  o: { commonName?: string; ipAddresses?: string[]; dnsNames?: string[] } = {},
): IssuedCert {
  return issueCert(ca, {
    commonName: o.commonName ?? "localhost",
    ipAddresses: o.ipAddresses ?? ["127.0.0.1"],
    dnsNames: o.dnsNames ?? ["localhost"],
    usage: "server",
  });
}

/** A client certificate the API server maps to user `user` in `groups` (CN and O). */
export function issueClientCert(ca: CertAuthority, user: string, groups: string[] = []): IssuedCert {
  return issueCert(ca, { commonName: user, organizations: groups, usage: "client" });
}

// ---- the control plane's files -----------------------------------------------------------------

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
