// Certificate management for the webhook server (spec §9.7), in the manner of cert-controller's rotator:
// a CA and a serving certificate kept in a Secret (`ca.crt`, `ca.key`, `tls.crt`, `tls.key`), written to
// the cert dir, served by the admission server, and the CA injected as `caBundle` into every webhook of
// the two webhook configurations. Certificates are renewed at 80% of their lifetime (configurable),
// without dropping requests:
// - a serving certificate renewal keeps the CA, so the injected bundle stays valid: the new pair is
//   written, the server swaps its TLS context (open connections keep the old one);
// - a CA renewal first injects a bundle with the new and the old CA, waits for the API server to see it,
//   then swaps the serving certificate; the old CA leaves the bundle at the next check.
// Several replicas may run this; the Secret's resourceVersion arbitrates (a conflict means another
// replica rotated: re-read and use its certificates).
// X.509 issuing comes from src/pki/x509.ts (node:crypto only).
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Secret } from "../api/k8s.ts";
import { type CertAuthority, caFromPem, createCa, issueCert } from "../pki/x509.ts";
import {
  type GroupVersionResource,
  isAlreadyExists,
  isConflict,
  isNotFound,
  Resources,
  resourcePath,
} from "../runtime/client.ts";
import {
  injectCABundle,
  MutatingConfigurationName,
  toCABundle,
  ValidatingConfigurationName,
  type WebhookConfiguration,
  WebhookSecretName,
} from "./configurations.ts";
import type { ServingCertificate } from "./server.ts";

export const SecretKeys = { caCert: "ca.crt", caKey: "ca.key", cert: "tls.crt", key: "tls.key" } as const;
export const DefaultSecretName = WebhookSecretName;
export const DefaultCAName = "jobset-ca";
export const CAOrganization = "jobset";
export const NotReadyMessage = "certificates are not ready";

const DAY = 86_400_000;

/** What the manager needs from a Kubernetes client (KubeClient fits). */
export interface CertClient {
  get<T>(path: string): Promise<T>;
  create<T>(path: string, body: unknown): Promise<T>;
  update<T>(path: string, body: unknown): Promise<T>;
}

export interface CertLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface CertManagerOptions {
  client: CertClient;
  /** Namespace of the Secret (the operator's namespace). */
  namespace: string;
  secretName?: string;
  /** Service name; the certificate gets DNS `<service>.<namespace>.svc`. */
  serviceName: string;
  /** Extra DNS names / IP addresses (local mode: IP 127.0.0.1). */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Where `tls.crt`, `tls.key` and `ca.crt` are written. */
  certDir: string;
  mutatingConfigurationName?: string;
  validatingConfigurationName?: string;
  /**
   * Creates the webhook configurations (with the given base64 caBundle) when they do not exist —
   * local mode. Without it, missing configurations are an error that is retried.
   */
  createConfigurations?: (caBundle: string) => WebhookConfiguration[];
  /** Lifetime of the CA and of the serving certificate. Defaults 10 years and 1 year. */
  caValidityMs?: number;
  certValidityMs?: number;
  /** Renew when this fraction of the lifetime has elapsed. Default 0.8. */
  rotateAtFraction?: number;
  /** Longest time between two checks of the Secret and the configurations. Default 60 s. */
  checkIntervalMs?: number;
  /** Delay after retrying a failed pass. Default 2 s. */
  retryIntervalMs?: number;
  /** Time the API server needs to see a new caBundle before the serving certificate changes CA. Default 5 s. */
  caPropagationDelayMs?: number;
  /** Receives every new serving certificate (the admission server's `setCertificate`). */
  onCertificate: (c: ServingCertificate) => void;
  now?: () => number;
  logger?: CertLogger;
}

// ---------------------------------------------------------------------------------------------- decision

export interface CertInfo {
  notBefore: number;
  notAfter: number;
}

export interface SecretCerts {
  caCert?: string;
  caKey?: string;
  cert?: string;
  key?: string;
}

export type CertAction = "none" | "issue-serving" | "issue-all";

export interface CertDecision {
  action: CertAction;
  reason: string;
  /** When the current certificates must next be renewed (ms since epoch); absent when renewing now. */
  renewAt?: number;
}

/**
 * When a certificate of lifetime notBefore..notAfter is renewed: after `fraction` of its lifetime,
 * the lifetime being capped by the configured validity (x509.ts back-dates notBefore by an hour, which
 * must not make a 30-second test certificate "80% used" at birth).
 */
export function renewalTime(info: CertInfo, configuredValidityMs: number, fraction: number): number {
  const life = Math.min(info.notAfter - info.notBefore, configuredValidityMs);
  return info.notAfter - (1 - fraction) * life;
}

const certInfo = (x: X509Certificate): CertInfo => ({
  notBefore: Date.parse(x.validFrom),
  notAfter: Date.parse(x.validTo),
});

const keyMatches = (x: X509Certificate, keyPem: string): boolean => {
  try {
    return x.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
};

/** Parses the CA of the Secret; undefined when absent, unparsable or the key does not match. */
function parseCA(c: SecretCerts): X509Certificate | undefined {
  if (!c.caCert || !c.caKey) return undefined;
  try {
    const x = new X509Certificate(c.caCert);
    if (!x.ca || !keyMatches(x, c.caKey)) return undefined;
    return x;
  } catch {
    return undefined;
  }
}

/** Decides whether the certificates of the Secret can be used as they are (pure; `now` in ms). */
export function decideCerts(
  c: SecretCerts,
  o: {
    now: number;
    dnsNames: readonly string[];
    ipAddresses: readonly string[];
    caValidityMs: number;
    certValidityMs: number;
    rotateAtFraction: number;
  },
): CertDecision {
  const ca = parseCA(c);
  if (!ca) return { action: "issue-all", reason: c.caCert ? "CA certificate or key invalid" : "no CA" };
  const caRenewAt = renewalTime(certInfo(ca), o.caValidityMs, o.rotateAtFraction);
  if (o.now >= caRenewAt) return { action: "issue-all", reason: "CA due for renewal" };
  if (!c.cert || !c.key) return { action: "issue-serving", reason: "no serving certificate" };
  let x: X509Certificate;
  try {
    x = new X509Certificate(c.cert);
  } catch {
    return { action: "issue-serving", reason: "serving certificate unparsable" };
  }
  if (!keyMatches(x, c.key)) return { action: "issue-serving", reason: "serving key does not match" };
  if (!x.checkIssued(ca) || !x.verify(ca.publicKey)) {
    return { action: "issue-serving", reason: "serving certificate not signed by the CA" };
  }
  for (const d of o.dnsNames) {
    if (x.checkHost(d, { wildcards: false }) !== d) return { action: "issue-serving", reason: `no SAN for ${d}` };
  }
  for (const ip of o.ipAddresses) {
    if (x.checkIP(ip) !== ip) return { action: "issue-serving", reason: `no SAN for ${ip}` };
  }
  const info = certInfo(x);
  if (o.now < info.notBefore) return { action: "issue-serving", reason: "serving certificate not yet valid" };
  const renewAt = renewalTime(info, o.certValidityMs, o.rotateAtFraction);
  if (o.now >= renewAt) return { action: "issue-serving", reason: "serving certificate due for renewal" };
  return { action: "none", reason: "valid", renewAt: Math.min(renewAt, caRenewAt) };
}

// ---------------------------------------------------------------------------------------------- manager

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, "base64").toString("utf8"));

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code === "ENOENT";

/**
 * Reads a certificate file; undefined only when it does not exist. Any other error (permissions, a
 * directory in its place...) is thrown with the path and what to check, never taken for "absent".
 */
export async function readCertFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if (isMissing(e)) return undefined;
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new Error(
      `cannot read certificate file ${path} (${code}: ${e instanceof Error ? e.message : String(e)}); check that it is a regular file this process may read, or remove it so it is written anew`,
      { cause: e },
    );
  }
}

async function writeAtomic(path: string, data: string, mode: number): Promise<boolean> {
  if ((await readCertFile(path)) === data) return false;
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CertManager {
  private readonly o: CertManagerOptions;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private injectedBundle = "";
  private servedCert = "";
  private _ready = false;
  /** Number of certificates this manager issued (tests). */
  issued = { ca: 0, serving: 0 };

  constructor(o: CertManagerOptions) {
    this.o = o;
  }

  get ready(): boolean {
    return this._ready;
  }

  /** Readiness check: throws `certificates are not ready` until certificates are in place. */
  readyCheck(): void {
    if (!this._ready) throw new Error(NotReadyMessage);
  }

  private get now(): number {
    return (this.o.now ?? Date.now)();
  }
  private get secretName(): string {
    return this.o.secretName ?? DefaultSecretName;
  }
  private get dnsNames(): string[] {
    return [`${this.o.serviceName}.${this.o.namespace}.svc`, ...(this.o.dnsNames ?? [])];
  }
  private get secretPath(): string {
    return resourcePath({ ...Resources.secrets, namespace: this.o.namespace, name: this.secretName });
  }

  /**
   * Runs passes until one succeeds (the bootstrap: certificates exist, are on disk, served and
   * injected), then keeps checking in the background until `stop`.
   */
  async start(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.stopped || signal?.aborted) throw new Error("certificate manager stopped");
      try {
        const next = await this.ensure();
        this.schedule(next);
        return;
      } catch (e) {
        this.o.logger?.error({ err: String(e) }, "certificate setup failed; retrying");
        await sleep(this.o.retryIntervalMs ?? 2_000);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(nextAt: number): void {
    if (this.stopped) return;
    const max = this.o.checkIntervalMs ?? 60_000;
    const delay = Math.max(0, Math.min(nextAt - this.now, max));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ensure()
        .then((next) => this.schedule(next))
        .catch((e: unknown) => {
          this.o.logger?.error({ err: String(e) }, "certificate check failed; retrying");
          this.schedule(this.now + (this.o.retryIntervalMs ?? 2_000));
        });
    }, delay);
    this.timer.unref?.();
  }

  /** One pass (serialized). Returns when the next check is due. */
  ensure(): Promise<number> {
    const run = (this.running ?? Promise.resolve()).then(
      () => this.pass(),
      () => this.pass(),
    );
    this.running = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async readSecret(): Promise<Secret | undefined> {
    try {
      return await this.o.client.get<Secret>(this.secretPath);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async pass(): Promise<number> {
    const fraction = this.o.rotateAtFraction ?? 0.8;
    const caValidityMs = this.o.caValidityMs ?? 3650 * DAY;
    const certValidityMs = this.o.certValidityMs ?? 365 * DAY;
    for (let attempt = 0; ; attempt++) {
      const secret = await this.readSecret();
      const data = secret?.data ?? {};
      const current: SecretCerts = {
        caCert: unb64(data[SecretKeys.caCert]),
        caKey: unb64(data[SecretKeys.caKey]),
        cert: unb64(data[SecretKeys.cert]),
        key: unb64(data[SecretKeys.key]),
      };
      const decide = (certs: SecretCerts) =>
        decideCerts(certs, {
          now: this.now,
          dnsNames: this.dnsNames,
          ipAddresses: this.o.ipAddresses ?? [],
          caValidityMs,
          certValidityMs,
          rotateAtFraction: fraction,
        });
      const d = decide(current);
      if (d.action === "none" && d.renewAt !== undefined) {
        await this.apply(current as Required<SecretCerts>, undefined);
        return d.renewAt;
      }
      this.o.logger?.info({ reason: d.reason, action: d.action }, "issuing webhook certificates");
      const next = await this.issue(current, d.action, caValidityMs, certValidityMs);
      const body: Secret = {
        apiVersion: "v1",
        kind: "Secret",
        type: secret?.type ?? "Opaque",
        metadata: secret?.metadata ?? { name: this.secretName, namespace: this.o.namespace },
        data: {
          ...data,
          [SecretKeys.caCert]: b64(next.caCert),
          [SecretKeys.caKey]: b64(next.caKey),
          [SecretKeys.cert]: b64(next.cert),
          [SecretKeys.key]: b64(next.key),
        },
      };
      try {
        if (secret) await this.o.client.update(this.secretPath, body);
        else {
          await this.o.client.create(resourcePath({ ...Resources.secrets, namespace: this.o.namespace }), body);
        }
      } catch (e) {
        // Another replica wrote first: use what it wrote.
        if ((isConflict(e) || isAlreadyExists(e)) && attempt < 5) continue;
        throw e;
      }
      const oldCA = d.action === "issue-all" && current.caCert && parseCA(current) ? current.caCert : undefined;
      await this.apply(next, oldCA);
      return decide(next).renewAt ?? this.now + (this.o.retryIntervalMs ?? 2_000);
    }
  }

  private async issue(
    current: SecretCerts,
    action: CertAction,
    caValidityMs: number,
    certValidityMs: number,
  ): Promise<Required<SecretCerts>> {
    let ca: CertAuthority;
    if (action === "issue-all" || !current.caCert || !current.caKey) {
      ca = createCa(DefaultCAName, caValidityMs / DAY);
      this.issued.ca++;
    } else {
      ca = caFromPem(
        current.caCert,
        current.caKey,
        `Secret ${this.o.namespace}/${this.secretName} ${SecretKeys.caCert}`,
      );
    }
    const leaf = issueCert(ca, {
      commonName: this.dnsNames[0] ?? this.o.serviceName,
      dnsNames: this.dnsNames,
      ipAddresses: this.o.ipAddresses ?? [],
      usage: "server",
      validDays: certValidityMs / DAY,
    });
    this.issued.serving++;
    return { caCert: ca.certPem, caKey: ca.keyPem, cert: leaf.certPem, key: leaf.keyPem };
  }

  /**
   * Puts certificates in place: files, served certificate, injected bundle. When the CA changed
   * (`oldCA` given), the bundle with both CAs goes first and the serving certificate follows after
   * the propagation delay.
   */
  private async apply(c: Required<SecretCerts>, oldCA: string | undefined): Promise<void> {
    if (oldCA) {
      await this.inject(toCABundle(c.caCert + oldCA));
      await sleep(this.o.caPropagationDelayMs ?? 5_000);
    }
    await mkdir(this.o.certDir, { recursive: true, mode: 0o700 });
    await writeAtomic(join(this.o.certDir, SecretKeys.caCert), c.caCert, 0o644);
    // Key before certificate: a reader of the dir that sees the new tls.crt also finds its key.
    await writeAtomic(join(this.o.certDir, SecretKeys.key), c.key, 0o600);
    await writeAtomic(join(this.o.certDir, SecretKeys.cert), c.cert, 0o644);
    if (this.servedCert !== c.cert) {
      this.o.onCertificate({ cert: c.cert, key: c.key });
      this.servedCert = c.cert;
    }
    this._ready = true;
    if (!oldCA) await this.inject(toCABundle(c.caCert));
  }

  /** Sets `caBundle` on every webhook of both configurations (creating them in local mode). */
  private async inject(bundle: string): Promise<void> {
    const names: [GroupVersionResource, string][] = [
      [Resources.mutatingWebhookConfigurations, this.o.mutatingConfigurationName ?? MutatingConfigurationName],
      [Resources.validatingWebhookConfigurations, this.o.validatingConfigurationName ?? ValidatingConfigurationName],
    ];
    for (const [resource, name] of names) {
      for (let attempt = 0; ; attempt++) {
        const path = resourcePath({ ...resource, name });
        let cfg: WebhookConfiguration | undefined;
        try {
          cfg = await this.o.client.get<WebhookConfiguration>(path);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        try {
          if (!cfg) {
            const wanted = this.o.createConfigurations?.(bundle).find((c) => c.metadata.name === name);
            if (!wanted) throw new Error(`webhook configuration ${name} not found`);
            await this.o.client.create(resourcePath(resource), wanted);
          } else if (injectCABundle(cfg, bundle)) {
            await this.o.client.update(path, cfg);
          }
          break;
        } catch (e) {
          if ((isConflict(e) || isAlreadyExists(e)) && attempt < 5) continue;
          throw e;
        }
      }
    }
    this.injectedBundle = bundle;
  }

  /** The base64 bundle last injected (tests, diagnostics). */
  get caBundle(): string {
    return this.injectedBundle;
  }
}

/** Waits until a cert dir holds a usable `tls.crt`/`tls.key` pair (externally managed certificates). */
export async function waitForCertFiles(
  certDir: string,
  signal?: AbortSignal,
  pollMs = 500,
): Promise<ServingCertificate> {
  for (;;) {
    if (signal?.aborted) throw new Error(NotReadyMessage);
    const [cert, key] = await Promise.all([
      readCertFile(join(certDir, SecretKeys.cert)),
      readCertFile(join(certDir, SecretKeys.key)),
    ]);
    if (cert !== undefined && key !== undefined) {
      try {
        const x = new X509Certificate(cert);
        if (x.checkPrivateKey(createPrivateKey(key))) return { cert, key };
      } catch {
        // half-written or mid-rotation (certificate and key of different pairs): look again
      }
    }
    await sleep(pollMs);
  }
}
