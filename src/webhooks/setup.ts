// The admission handlers of a process that hosts the webhooks, built from one API client, the
// JobSet-pods cache (src/controllers/pods.ts) and the PVC cache (pvc-cache.ts): the JobSet validating
// webhook reads PVCs from their cache, the pod webhooks read pods (by the `podName` index) and Nodes. The assembly (src/app/) serves them for `jobset controller`,
// `jobset up` and the test stacks alike.
import type { FeatureGates } from "../api/features.ts";
import type { Node } from "../api/k8s.ts";
import { PodNameIndex } from "../controller/placement.ts";
import { nodeGetter } from "../controllers/pod/controller.ts";
import { namespacedIndexValue, type PodCache } from "../controllers/pods.ts";
import { ApiError, type KubeClient } from "../runtime/client.ts";
import { webhookHandlers } from "./handlers.ts";
import type { PodWebhookLookups } from "./pod-webhook.ts";
import { type PvcCache, pvcCacheGetter } from "./pvc-cache.ts";
import type { AdmissionHandler } from "./server.ts";

export interface AdmissionHandlersOptions {
  client: KubeClient;
  /** The JobSet-pods cache (with the placement indexes). */
  pods: PodCache;
  /** The PVC cache (pvcInformer in pvc-cache.ts), read by the JobSet validating webhook (spec §3.3 rule 9). */
  pvcs: PvcCache;
  gates: FeatureGates;
}

/** The pod webhooks' lookups over the pod cache and a Node getter (NotFound → `Node "<name>" not found`). */
export function podWebhookLookups(cache: PodCache, getNode: (name: string) => Promise<Node | null>): PodWebhookLookups {
  return {
    podsByName: (namespace, name) => cache.byIndex(PodNameIndex, namespacedIndexValue(namespace, name)),
    getNode: async (name) => {
      const n = await getNode(name);
      if (!n) throw new ApiError(404, "NotFound", `Node ${JSON.stringify(name)} not found`);
      return n;
    },
  };
}

/** The four admission handlers by path, for the WebhookServer. */
export function admissionHandlers(o: AdmissionHandlersOptions): Record<string, AdmissionHandler> {
  return webhookHandlers({
    gates: o.gates,
    getPVC: pvcCacheGetter(o.pvcs),
    pods: podWebhookLookups(o.pods, nodeGetter(o.client)),
  });
}
