// The JobSet admission server as tests and benchmarks run it: the four handlers over TLS on 127.0.0.1 (a
// free port), with a serving certificate from a throwaway CA whose PEM clients trust.
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import { type WebhookHandlersOptions, webhookHandlers } from "../../src/webhooks/handlers.ts";
import { WebhookServer } from "../../src/webhooks/server.ts";

export interface TlsWebhookServer {
  server: WebhookServer;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  /** The serving certificate and key (PEM). */
  leaf: { cert: string; key: string };
}

/** A webhook server (not started) with these handler options; `name` names its CA. */
export function tlsWebhookServer(name: string, handlers: WebhookHandlersOptions): TlsWebhookServer {
  const ca = createCa(name, 1);
  const leaf = issueServingCert(ca);
  const server = new WebhookServer({
    host: "127.0.0.1",
    port: 0,
    certificate: { cert: leaf.certPem, key: leaf.keyPem },
    handlers: webhookHandlers(handlers),
  });
  return { server, caPem: ca.certPem, leaf: { cert: leaf.certPem, key: leaf.keyPem } };
}
