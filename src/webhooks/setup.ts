// Wiring shared by every process that hosts the admission webhooks: the four handlers and the
// placement-repair pod controller, built from one API client and the shared pod cache. The controller
// command, `jobset up`'s local cluster and the test stacks all use this, so they run the same thing.
import type { FeatureGates } from "../api/features.ts";
import type { PersistentVolumeClaim } from "../api/k8s.ts";
import { isNotFound, type KubeClient, Resources, resourcePath } from "../runtime/client.ts";
import type { Runnable } from "../runtime/manager.ts";
import { webhookHandlers } from "./handlers.ts";
import {
  nodeGetter,
  type PodCache,
  PodController,
  type PodControllerOptions,
  podWebhookLookups,
} from "./pod-controller.ts";
import type { AdmissionHandler } from "./server.ts";

export interface WebhookStackOptions {
  client: KubeClient;
  /** The pod cache, with `addPodIndexes` applied before its informer started. */
  pods: PodCache;
  gates: FeatureGates;
  /** Observes pod-controller reconciles (metrics, tests). */
  onPodReconcile?: PodControllerOptions["onResult"];
}

export interface WebhookStack {
  /** Handlers by path, for the WebhookServer. */
  handlers: Record<string, AdmissionHandler>;
  /** The placement-repair pod controller (spec §7.4), as a Manager runnable (leader only). */
  podController: Runnable;
}

/** The PVC lookup the JobSet validating webhook needs (spec §3.3 rule 9): undefined when absent. */
export function pvcGetter(
  client: KubeClient,
): (namespace: string, name: string) => Promise<PersistentVolumeClaim | undefined> {
  return async (namespace, name) => {
    try {
      return await client.get<PersistentVolumeClaim>(
        resourcePath({ ...Resources.persistentvolumeclaims, namespace, name }),
      );
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
}

export function webhookStack(o: WebhookStackOptions): WebhookStack {
  const getNode = nodeGetter(o.client);
  const handlers = webhookHandlers({
    gates: o.gates,
    getPVC: pvcGetter(o.client),
    pods: podWebhookLookups(o.pods, getNode),
  });
  const podController: Runnable = {
    name: "pod-controller",
    run: async (signal) => {
      const pc = new PodController({
        pods: o.pods,
        client: o.client,
        getNode,
        ...(o.onPodReconcile ? { onResult: o.onPodReconcile } : {}),
      });
      pc.start();
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      await pc.stop();
    },
  };
  return { handlers, podController };
}
