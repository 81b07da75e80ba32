// The whole JobSet stack in the test process, for e2e tests on the full control plane: the controller
// manager of src/app/ (all namespaces) with the JobSet controller, and optionally the admission webhooks
// (HTTPS on 127.0.0.1 with a throwaway CA, registered as URL webhook configurations restricted to
// namespaces labelled `jobset-ts.test/webhooks=<id>`) plus the exclusive-placement pod controller on the
// shared pod cache — what `jobset controller` runs, minus certificate management (tested in
// test/integration/webhooks.test.ts).
//
//   const stack = await startStack(cluster, { webhooks: true });
//   const ns = await stack.namespace(t);      // a test namespace the webhooks apply to
//   ...
//   await stack.stop();                        // removes the webhook configurations first
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import { type RunningControllerManager, startControllerManager } from "../../src/app/controller-manager.ts";
import { ControllerName as JobSetControllerName } from "../../src/controllers/jobset/controller.ts";
import { PodControllerName } from "../../src/controllers/pod/controller.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import { ApiError, KubeClient } from "../../src/runtime/client.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import type { ReconcileOutcome } from "../../src/runtime/workqueue.ts";
import { localWebhookConfigurations } from "../../src/webhooks/configurations.ts";
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
  onPodReconcile?: (key: string, outcome: ReconcileOutcome, seconds: number, error?: unknown) => void;
  /** Observes the JobSet controller's reconciles. */
  onJobSetReconcile?: (key: string, outcome: ReconcileOutcome, seconds: number, error?: unknown) => void;
}

export interface Stack {
  readonly id: string;
  readonly client: KubeClient;
  readonly controller: RunningControllerManager;
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
  let webhookUrl: string | undefined;
  let running: RunningControllerManager | undefined;

  const removeConfigurations = async () => {
    await Promise.all([
      client.delete(`${ADMISSION}/mutatingwebhookconfigurations/${names.mutating}`).catch(() => undefined),
      client.delete(`${ADMISSION}/validatingwebhookconfigurations/${names.validating}`).catch(() => undefined),
    ]);
  };
  const stop = async () => {
    if (webhookUrl) await removeConfigurations();
    await running?.stop();
    await client.close();
  };

  try {
    const ca = o.webhooks ? createCa(`jobset-e2e-${id}`, 1) : undefined;
    const cert = ca ? issueServingCert(ca) : undefined;
    const { onPodReconcile, onJobSetReconcile } = o;
    running = await startControllerManager({
      client,
      telemetry: { logger },
      gates,
      ...(onPodReconcile || onJobSetReconcile
        ? {
            manager: {
              onReconcile: (controller, key, outcome, seconds, error) => {
                if (controller === PodControllerName) onPodReconcile?.(key, outcome, seconds, error);
                if (controller === JobSetControllerName) onJobSetReconcile?.(key, outcome, seconds, error);
              },
            },
          }
        : {}),
      ...(cert
        ? { webhooks: { host: "127.0.0.1", port: 0, certificate: { pem: { cert: cert.certPem, key: cert.keyPem } } } }
        : {}),
    });
    webhookUrl = await running.webhooks?.serving;
    if (webhookUrl && ca) {
      const [mutating, validating] = localWebhookConfigurations(webhookUrl, ca.certPem, {
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
    async namespace(t) {
      const ns = await testNamespace(t, cluster);
      if (!webhookUrl) return ns;
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
