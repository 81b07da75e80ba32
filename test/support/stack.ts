// The whole JobSet stack in the test process, for e2e tests on the full control plane: the JobSet
// controller (under its Manager, all namespaces), and optionally the admission webhooks (HTTPS on
// 127.0.0.1 with a throwaway CA, registered as URL webhook configurations restricted to namespaces
// labelled `jobset-ts.test/webhooks=<id>`) plus the exclusive-placement pod controller on a shared pod
// cache — what `jobset controller` runs, minus certificate management (tested in
// test/integration/webhooks.test.ts).
//
//   const stack = await startStack(cluster, { webhooks: true });
//   const ns = await stack.namespace(t);      // a test namespace the webhooks apply to
//   ...
//   await stack.stop();                        // removes the webhook configurations first
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import type { Pod } from "../../src/api/k8s.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import { ApiError, KubeClient } from "../../src/runtime/client.ts";
import { Informer } from "../../src/runtime/informer.ts";
import { type RunningJobSetController, startJobSetController } from "../../src/runtime/jobset-controller.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { localWebhookConfigurations } from "../../src/webhooks/configurations.ts";
import { addPodIndexes } from "../../src/webhooks/pod-controller.ts";
import { WebhookServer } from "../../src/webhooks/server.ts";
import { type WebhookStackOptions, webhookStack } from "../../src/webhooks/setup.ts";
import { type TestCluster, testNamespace, waitFor } from "./cluster.ts";

const ADMISSION = "/apis/admissionregistration.k8s.io/v1";
export const WebhookNamespaceLabel = "jobset-ts.test/webhooks";

export interface StackOptions {
  /** Admission webhooks + pod controller (default false). */
  webhooks?: boolean;
  gates?: FeatureGates;
  /** Log level of the controller (default $JOBSET_TEST_LOG_LEVEL or silent). */
  logLevel?: string;
  /** Observes the pod controller's reconciles (with `webhooks`). */
  onPodReconcile?: WebhookStackOptions["onPodReconcile"];
}

export interface Stack {
  readonly id: string;
  readonly client: KubeClient;
  readonly controller: RunningJobSetController;
  readonly webhookServer: WebhookServer | undefined;
  /** A test namespace (deleted when the test ends) that the webhooks apply to. */
  namespace(t: TestContext): Promise<string>;
  stop(): Promise<void>;
}

export async function startStack(cluster: TestCluster, o: StackOptions = {}): Promise<Stack> {
  const id = randomBytes(3).toString("hex");
  const gates = o.gates ?? defaultFeatureGates;
  const logger = createLogger({ level: o.logLevel ?? process.env.JOBSET_TEST_LOG_LEVEL ?? "silent", name: "stack" });
  const client = await KubeClient.create({ kubeconfig: cluster.kubeconfigPath, userAgent: `jobset-e2e-stack-${id}` });
  const names = {
    mutating: `jobset-e2e-mutating-${id}`,
    validating: `jobset-e2e-validating-${id}`,
  };
  let server: WebhookServer | undefined;
  let pods: Informer<Pod> | undefined;
  let running: RunningJobSetController | undefined;

  const removeConfigurations = async () => {
    await Promise.all([
      client.delete(`${ADMISSION}/mutatingwebhookconfigurations/${names.mutating}`).catch(() => undefined),
      client.delete(`${ADMISSION}/validatingwebhookconfigurations/${names.validating}`).catch(() => undefined),
    ]);
  };
  const stop = async () => {
    if (server) await removeConfigurations();
    await running?.stop();
    await server?.stop();
    await client.close();
  };

  try {
    if (o.webhooks) {
      pods = new Informer<Pod>({
        client,
        path: "/api/v1/pods",
        name: "pods",
        labelSelector: "jobset.sigs.k8s.io/jobset-name",
        logger,
      });
      addPodIndexes(pods);
    }
    const webhooks = pods
      ? webhookStack({ client, pods, gates, ...(o.onPodReconcile ? { onPodReconcile: o.onPodReconcile } : {}) })
      : undefined;
    running = await startJobSetController({
      client,
      gates,
      logger,
      ...(pods ? { pods } : {}),
      ...(webhooks ? { configure: (manager) => manager.addRunnable(webhooks.podController) } : {}),
    });
    if (webhooks) {
      const ca = createCa(`jobset-e2e-${id}`, 1);
      const cert = issueServingCert(ca);
      server = new WebhookServer({
        host: "127.0.0.1",
        port: 0,
        certificate: { cert: cert.certPem, key: cert.keyPem },
        handlers: webhooks.handlers,
      });
      await server.start();
      const [mutating, validating] = localWebhookConfigurations(server.url, ca.certPem, {
        ...names,
        namespaceSelector: { matchLabels: { [WebhookNamespaceLabel]: id } },
      });
      await client.create(`${ADMISSION}/mutatingwebhookconfigurations`, mutating);
      await client.create(`${ADMISSION}/validatingwebhookconfigurations`, validating);
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const stack: Stack = {
    id,
    client,
    controller: running,
    webhookServer: server,
    async namespace(t) {
      const ns = await testNamespace(t, cluster);
      if (!server) return ns;
      await client.patch(
        `/api/v1/namespaces/${ns}`,
        { metadata: { labels: { [WebhookNamespaceLabel]: id } } },
        "merge",
      );
      // Configurations and namespace labels take effect asynchronously: wait until our validating
      // webhook refuses an invalid JobSet (dry run) in this namespace.
      await waitFor(
        async () => {
          try {
            await client.create(
              `/apis/jobset.x-k8s.io/v1alpha2/namespaces/${ns}/jobsets`,
              {
                apiVersion: "jobset.x-k8s.io/v1alpha2",
                kind: "JobSet",
                metadata: { name: "probe" },
                spec: {
                  network: { subdomain: "Not-A-DNS-Label" },
                  replicatedJobs: [
                    {
                      name: "rj",
                      template: { spec: { template: { spec: { containers: [{ name: "c", image: "i" }] } } } },
                    },
                  ],
                },
              },
              { dryRun: "All" },
            );
            return false;
          } catch (e) {
            return e instanceof ApiError && e.message.includes('admission webhook "vjobset.kb.io"');
          }
        },
        { message: `the webhooks to apply to namespace ${ns}` },
      );
      return ns;
    },
    stop,
  };
  return stack;
}
