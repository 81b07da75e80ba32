// The headless Service that gives a JobSet's pods stable DNS names (spec §4.3). Created only when DNS
// hostnames are enabled, only if absent, and never updated or adopted.
import { Labels } from "../api/constants.ts";
import { dnsHostnamesEnabled, publishNotReadyAddresses, subdomainOf } from "../api/defaults.ts";
import type { Service } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import { controllerRef } from "./owner.ts";

/** Whether the JobSet wants a headless Service at all. */
export function wantsHeadlessService(js: JobSet): boolean {
  return dnsHostnamesEnabled(js);
}

/** Name of the headless Service: the subdomain (network.subdomain, else the JobSet name). */
export function headlessServiceName(js: JobSet): string {
  return subdomainOf(js);
}

/**
 * The headless Service: name `<subdomain>`, no labels/annotations, `clusterIP: None`, selector on
 * `jobset.sigs.k8s.io/jobset-name`, `publishNotReadyAddresses` (nil ⇒ true), no ports, controller ref.
 */
export function constructHeadlessService(js: JobSet): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: headlessServiceName(js),
      namespace: js.metadata?.namespace ?? "",
      ownerReferences: [controllerRef(js)],
    },
    spec: {
      clusterIP: "None",
      selector: { [Labels.JobSetName]: js.metadata?.name ?? "" },
      publishNotReadyAddresses: publishNotReadyAddresses(js),
    },
  };
}
