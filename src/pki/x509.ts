// X.509 certificates with node:crypto only: keys come from crypto.generateKeyPairSync, X.509 v3
// certificates are DER-encoded (./der.ts) and signed with crypto.sign. No openssl binary is needed.
// Used by the webhook certificate manager, `jobset controller` and the local cluster alike.
// See docs/adr/0002-local-pki.md.
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
import {
  bits,
  bool,
  children,
  explicit,
  ipBytes,
  namedBits,
  nul,
  octets,
  oid,
  seq,
  set,
  time,
  tlv,
  uint,
  utf8,
} from "./der.ts";

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

/** SHA-1 of the key's SubjectPublicKeyInfo: an identifier that only has to be unique (RFC 5280 4.2.1.2). */
function keyId(pub: KeyObject): Buffer {
  return createHash("sha1")
    .update(pub.export({ type: "spki", format: "der" }))
    .digest();
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

export interface CertAuthority {
  certPem: string;
  keyPem: string;
  key: KeyObject;
  /** The DER-encoded subject Name (the issuer of what this CA signs). */
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
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}: use an ECDSA or RSA CA key`);
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
    // Back-dated by an hour: tolerates clock skew between the issuer and the verifiers.
    seq(time(new Date(now - 3600_000)), time(new Date(now + o.validDays * 86400_000))),
    o.subject,
    o.pub.export({ type: "spki", format: "der" }),
    explicit(3, seq(...o.extensions)),
  );
  return seq(tbs, alg, bits(sign("sha256", tbs, o.signer)));
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

/**
 * A CA from its PEM certificate and private key (any key Node can read). `source` names where the PEM
 * came from in error messages.
 */
export function caFromPem(certPem: string, keyPem: string, source = "CA certificate"): CertAuthority {
  const der = Buffer.from(certPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  // The subject Name is the 6th field of the TBSCertificate: version, serial, sigAlg, issuer, validity, subject.
  const tbs = der[0] === 0x30 ? children(der, 0)[0] : undefined;
  if (!tbs) throw new Error(`${source}: not a PEM certificate`);
  const subj = children(der, tbs.start)[5];
  if (!subj) throw new Error(`${source}: unexpected certificate layout (no subject)`);
  const key = createPrivateKey(keyPem);
  return {
    certPem,
    keyPem,
    key,
    subject: Buffer.from(der.subarray(subj.start, subj.end)),
    keyId: keyId(createPublicKey(key)),
  };
}

/** Loads a CA from a certificate file and a key file (PEM). */
export function loadCa(certPath: string, keyPath: string): CertAuthority {
  return caFromPem(readFileSync(certPath, "utf8"), readFileSync(keyPath, "utf8"), certPath);
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
