// Hosting the admission webhooks in a controller-manager process: the HTTPS server with the four
// handlers, its serving certificate (fixed, from a watched directory, or managed by a CertManager that
// also injects the CA bundle), readiness checks, and one Manager runnable that runs on every replica
// (webhooks must answer even on a replica that does not lead).
import type { FeatureGates } from "../api/features.ts";
import type { PodCache } from "../controllers/pods.ts";
import type { KubeClient } from "../runtime/client.ts";
import type { Logger } from "../runtime/logger.ts";
import type { Manager } from "../runtime/manager.ts";
import { CertManager, type CertManagerOptions, waitForCertFiles } from "../webhooks/certs.ts";
import type { PvcCache } from "../webhooks/pvc-cache.ts";
import { type ServingCertificate, type TLSConfig, WebhookServer } from "../webhooks/server.ts";
import { admissionHandlers } from "../webhooks/setup.ts";

/** Where the serving certificate comes from. */
export type WebhookCertificateSource =
  /** Fixed PEMs (local clusters and tests issue one from their own CA). */
  | { pem: ServingCertificate }
  /** `tls.crt`/`tls.key` in a directory managed by someone else (cert-manager), watched for changes. */
  | { dir: string }
  /** Built-in certificate management: a Secret, a self-signed CA, the CA bundle injected into the configurations. */
  | { managed: Omit<CertManagerOptions, "client" | "onCertificate"> };

export interface WebhookHosting {
  /** Bind host ("" = all interfaces) and port (0 = any free one). */
  host: string;
  port: number;
  tls?: TLSConfig;
  certificate: WebhookCertificateSource;
  logger?: Logger;
}

export interface HostedWebhooks {
  readonly server: WebhookServer;
  /** Resolves with the server's URL once it listens; rejects if it never will. */
  readonly serving: Promise<string>;
}

/** Adds the webhook server to `manager` (a runnable on every replica, plus readiness checks). */
export function hostWebhooks(
  manager: Manager,
  o: WebhookHosting,
  deps: { client: KubeClient; pods: PodCache; pvcs: PvcCache; gates: FeatureGates },
): HostedWebhooks {
  const cert = o.certificate;
  const server = new WebhookServer({
    host: o.host,
    port: o.port,
    handlers: admissionHandlers(deps),
    ...(o.tls ? { tls: o.tls } : {}),
    ...("pem" in cert ? { certificate: cert.pem } : {}),
    ...("dir" in cert ? { certDir: cert.dir } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
  });
  let certManager: CertManager | undefined;
  if ("managed" in cert) {
    const cm = new CertManager({
      ...cert.managed,
      client: deps.client,
      // before the server starts this sets its initial certificate
      onCertificate: (c) => server.setCertificate(c),
    });
    certManager = cm;
    manager.addReadyCheck("certs", () => cm.readyCheck());
  }
  manager.addReadyCheck("webhook", () => {
    if (!server.isStarted) throw new Error("webhook server not started");
  });

  let listening: (url: string) => void = () => {};
  let failed: (e: unknown) => void = () => {};
  const serving = new Promise<string>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  serving.catch(() => undefined); // observed by whoever awaits it; the manager logs the failure
  manager.addRunnable({
    name: "webhooks",
    needLeaderElection: false,
    run: async (signal) => {
      try {
        if (certManager) await certManager.start(signal);
        else if ("dir" in cert) await waitForCertFiles(cert.dir, signal);
        if (signal.aborted) throw new Error("stopped before the webhook server started");
        await server.start();
      } catch (e) {
        failed(e);
        if (signal.aborted) return; // stopped while waiting for certificates: nothing to report
        throw e;
      }
      listening(server.url);
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      certManager?.stop();
      await server.stop();
    },
  });
  return { server, serving };
}
