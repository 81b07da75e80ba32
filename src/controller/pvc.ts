// Shared PersistentVolumeClaims of a JobSet's volumeClaimPolicies (spec §4.4): one per template,
// named `<template name>-<jobset name>`, owned by the JobSet only when the retention policy is Delete.
import { Labels } from "../api/constants.ts";
import type { ObjectMeta, PersistentVolumeClaim } from "../api/k8s.ts";
import type { JobSet, VolumeClaimPolicy } from "../api/types.ts";
import { controllerRef } from "./owner.ts";

/** `<template name>-<jobset name>`. */
export function pvcName(js: JobSet | string, templateName: string): string {
  const name = typeof js === "string" ? js : (js.metadata?.name ?? "");
  return `${templateName}-${name}`;
}

/** Whether PVCs of this policy get a controller ownerReference (`retentionPolicy.whenDeleted == Delete`). */
export function pvcOwnedByJobSet(policy: VolumeClaimPolicy): boolean {
  return policy.retentionPolicy !== undefined && policy.retentionPolicy.whenDeleted === "Delete";
}

/** The PVC for one template of one policy. */
export function constructPVC(
  js: JobSet,
  policy: VolumeClaimPolicy,
  template: PersistentVolumeClaim,
): PersistentVolumeClaim {
  const metadata: ObjectMeta = {
    name: pvcName(js, template.metadata?.name ?? ""),
    namespace: js.metadata?.namespace ?? "",
    labels: { ...template.metadata?.labels, [Labels.JobSetName]: js.metadata?.name ?? "" },
  };
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  if (pvcOwnedByJobSet(policy)) metadata.ownerReferences = [controllerRef(js)];
  const pvc: PersistentVolumeClaim = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata };
  if (template.spec) pvc.spec = structuredClone(template.spec);
  return pvc;
}

/** Every PVC of the JobSet, in policy order then template order (the order they are created in). */
export function constructPVCs(js: JobSet): PersistentVolumeClaim[] {
  const pvcs: PersistentVolumeClaim[] = [];
  for (const policy of js.spec?.volumeClaimPolicies ?? []) {
    for (const template of policy.templates ?? []) pvcs.push(constructPVC(js, policy, template));
  }
  return pvcs;
}
