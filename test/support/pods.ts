// Pod and Node builders for the exclusive-placement tests (pod webhooks, placement planning).
import { Annotations, JobCompletionIndexAnnotation, Labels } from "../../src/api/constants.ts";
import type { Node, Pod } from "../../src/api/k8s.ts";

export const NOW = "2024-01-01T00:00:00Z";
export const K = "cloud.google.com/gke-nodepool";

export function pod(
  name: string,
  o: {
    index?: string;
    owner?: string;
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    exclusive?: boolean;
    nodeSelectorStrategy?: boolean;
    jobKey?: string;
    deleting?: boolean;
    phase?: string;
    conditions?: NonNullable<NonNullable<Pod["status"]>["conditions"]>;
  } = {},
): Pod {
  const annotations: Record<string, string> = { [Labels.JobSetName]: "js" };
  if (o.index !== undefined) annotations[JobCompletionIndexAnnotation] = o.index;
  if (o.exclusive !== false) annotations[Annotations.ExclusiveTopology] = K;
  if (o.nodeSelectorStrategy) annotations[Annotations.NodeSelectorStrategy] = "true";
  const p: Pod = {
    metadata: {
      name,
      namespace: "default",
      labels: {
        [Labels.JobSetName]: "js",
        [Labels.ReplicatedJobName]: "rj",
        [Labels.JobIndex]: "0",
        ...(o.jobKey !== undefined ? { [Labels.JobKey]: o.jobKey } : { [Labels.JobKey]: "key-0" }),
      },
      annotations,
      ...(o.owner
        ? {
            ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "js-rj-0", uid: o.owner, controller: true }],
          }
        : {}),
      ...(o.deleting ? { deletionTimestamp: NOW } : {}),
    },
    spec: {
      containers: [{ name: "c", image: "i" }],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
    },
  };
  if (o.phase || o.conditions)
    p.status = { ...(o.phase ? { phase: o.phase } : {}), ...(o.conditions ? { conditions: o.conditions } : {}) };
  return p;
}

export const node = (name: string, labels: Record<string, string>): Node => ({ metadata: { name, labels } });
