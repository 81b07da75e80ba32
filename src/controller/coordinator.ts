// Coordinator endpoint (spec §6.10): the stable DNS name of one pod, published to every Job and pod
// template as label and annotation `jobset.sigs.k8s.io/coordinator`.

import { subdomainOf } from "../api/defaults.ts";
import type { Coordinator, JobSet } from "../api/types.ts";

/** `<jobSetName>-<replicatedJob>-<jobIndex>-<podIndex>.<subdomain>` (indexes default to 0). */
export function coordinatorEndpointFor(jobSetName: string, coordinator: Coordinator, sub: string): string {
  const jobIndex = coordinator.jobIndex ?? 0;
  const podIndex = coordinator.podIndex ?? 0;
  return `${jobSetName}-${coordinator.replicatedJob}-${jobIndex}-${podIndex}.${sub}`;
}

/** The coordinator endpoint of a JobSet, or undefined when `spec.coordinator` is not set. */
export function coordinatorEndpoint(js: JobSet): string | undefined {
  const coordinator = js.spec?.coordinator;
  if (!coordinator) return undefined;
  return coordinatorEndpointFor(js.metadata?.name ?? "", coordinator, subdomainOf(js));
}
