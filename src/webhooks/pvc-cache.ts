// The PVC cache of the JobSet validating webhook (spec §3.3 rule 9): upstream's webhook reads existing
// PersistentVolumeClaims through its manager's cache (list/watch), never with a GET of its own. So does
// ours: one informer over PVCs, kept only in processes that host the webhooks (src/app/), trimmed to
// what rule 9 reads (name, namespace and `spec`), and a look-up that answers from it. A claim-template
// name that is not a valid object name is then simply absent, as in upstream, instead of an API error.
import type { KubeObject, PersistentVolumeClaim } from "../api/k8s.ts";
import type { ControllerDeps } from "../controllers/deps.ts";
import { Resources, resourcePath } from "../runtime/client.ts";
import { Informer, type ListWatcher } from "../runtime/informer.ts";

/** What the webhook needs of the PVC cache (an Informer<PersistentVolumeClaim> fits). */
export interface PvcCache {
  get(namespace: string, name: string): PersistentVolumeClaim | undefined;
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

export interface PvcInformerOptions {
  /** Watch only this namespace; default all namespaces. */
  namespace?: string;
}

/**
 * The cache transform: the PVC's identity and its `spec` (what rule 9 compares against the template).
 * Labels, annotations, owner references and status are dropped: nothing reads them from this cache.
 */
export function pvcCacheTransform(obj: KubeObject): KubeObject {
  const pvc = obj as PersistentVolumeClaim;
  const m = pvc.metadata ?? {};
  const metadata: PersistentVolumeClaim["metadata"] = {};
  if (m.name !== undefined) metadata.name = m.name;
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  const out: PersistentVolumeClaim = { metadata };
  if (pvc.apiVersion !== undefined) out.apiVersion = pvc.apiVersion;
  if (pvc.kind !== undefined) out.kind = pvc.kind;
  if (pvc.spec !== undefined) out.spec = pvc.spec;
  return out as KubeObject;
}

/** The PVC informer of the webhook process. Register it with the manager so that it runs on every replica. */
export function pvcInformer(
  deps: Omit<ControllerDeps, "client"> & { client: ListWatcher },
  o: PvcInformerOptions = {},
): Informer<PersistentVolumeClaim> {
  return new Informer<PersistentVolumeClaim>({
    client: deps.client,
    path: resourcePath({ ...Resources.persistentvolumeclaims, ...(o.namespace ? { namespace: o.namespace } : {}) }),
    name: "persistentvolumeclaims",
    transform: pvcCacheTransform,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.metrics ? { metrics: deps.metrics.informerSink("persistentvolumeclaims") } : {}),
  });
}

/** What controller-runtime's cache answers when a read gives up waiting for the first LIST. */
export const PvcCacheNotSyncedMessage = "Timeout: failed waiting for *v1.PersistentVolumeClaim Informer to sync";

/**
 * The webhook's `getPVC` over the cache: undefined when the PVC is not in it. Before the cache's first
 * LIST has arrived it waits for it, as upstream's cache reader does, until the request is given up
 * (`signal`, the webhook server's handler deadline), and then rejects (rule 9 reports an internal error).
 */
export function pvcCacheGetter(
  cache: PvcCache,
): (namespace: string, name: string, signal?: AbortSignal) => Promise<PersistentVolumeClaim | undefined> {
  return async (namespace, name, signal) => {
    if (!cache.hasSynced() && !(await cache.waitForSync(signal))) throw new Error(PvcCacheNotSyncedMessage);
    return cache.get(namespace, name);
  };
}
