// Cache transforms (controller-runtime's `cache.Options.DefaultTransform` / `ByObject.Transform`): an
// informer keeps only what its readers use, so that memory scales with what the controller needs and
// not with what users put in their objects. Applied by the informer to every listed and watched object
// before it is cached and handed to handlers (informer.ts).
//
// Every cache drops `metadata.managedFields` (a PUT without it keeps the server's). Transforms that know
// what one controller's readers use live with that controller (e.g. the JobSet-pods cache in
// src/controllers/pods.ts).
import type { KubeObject } from "../api/k8s.ts";

/** The object without `metadata.managedFields` (the same object when it has none). */
export function dropManagedFields<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata;
  if (meta?.managedFields === undefined) return obj;
  const { managedFields: _, ...rest } = meta;
  return { ...obj, metadata: rest };
}
