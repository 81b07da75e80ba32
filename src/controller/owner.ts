// The controller ownerReference every object the JobSet controller creates points back with.
import { ApiVersion, Kind } from "../api/constants.ts";
import type { OwnerReference } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";

/** `{apiVersion: jobset.x-k8s.io/v1alpha2, kind: JobSet, name, uid, controller: true, blockOwnerDeletion: true}`. */
export function controllerRef(js: JobSet): OwnerReference {
  return {
    apiVersion: ApiVersion,
    kind: Kind,
    name: js.metadata?.name ?? "",
    uid: js.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The controller ownerReference of an object, if any. */
export function controllerOf(obj: { metadata?: { ownerReferences?: OwnerReference[] } }): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** Whether `obj` is controlled by the JobSet with this UID (apiVersion and kind must be the JobSet's). */
export function isControlledBy(obj: { metadata?: { ownerReferences?: OwnerReference[] } }, uid: string): boolean {
  const ref = controllerOf(obj);
  return ref !== undefined && ref.uid === uid && ref.apiVersion === ApiVersion && ref.kind === Kind;
}
