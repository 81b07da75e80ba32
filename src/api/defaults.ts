// Defaulting of JobSets: the mutating webhook (spec §2.2, CREATE only) and the controller's runtime
// fallbacks for fields that may still be unset (spec §2.3). The CRD's structural defaults (§2.1) are
// applied by the API server (see schema.ts for our copy of them).
import type { JobSpec, PodSpec } from "./k8s.ts";
import { defaultScheduling } from "./scheduling.ts";
import type { JobSet } from "./types.ts";

/**
 * The JobSet mutating webhook: returns a defaulted copy (the input is not modified). Each default is
 * applied only when the field is unset, in upstream's order.
 */
export function defaultJobSet(input: JobSet): JobSet {
  return defaultJobSetInPlace(structuredClone(input));
}

/** defaultJobSet applied to `js` itself (the mutating webhook's freshly encoded object needs no copy). */
export function defaultJobSetInPlace(js: JobSet): JobSet {
  js.spec ??= {};
  const spec = js.spec;

  spec.successPolicy ??= { operator: "All" };
  spec.startupPolicy ??= { startupPolicyOrder: "AnyOrder" };

  for (const rjob of spec.replicatedJobs ?? []) {
    rjob.template ??= {};
    rjob.template.spec ??= {} as JobSpec;
    rjob.template.spec.completionMode ??= "Indexed";
  }
  for (const rjob of spec.replicatedJobs ?? []) {
    rjob.template ??= {};
    rjob.template.spec ??= {} as JobSpec;
    rjob.template.spec.template ??= {};
    // An absent pod spec gets only restartPolicy (`containers` stays absent so schema validation reports it).
    rjob.template.spec.template.spec ??= {} as PodSpec;
    const podSpec = rjob.template.spec.template.spec;
    if (!podSpec.restartPolicy) podSpec.restartPolicy = "OnFailure";
  }

  spec.network ??= {};
  spec.network.enableDNSHostnames ??= true;
  spec.network.publishNotReadyAddresses ??= true;

  if (spec.failurePolicy) {
    (spec.failurePolicy.rules ?? []).forEach((rule, i) => {
      if (!rule.name) rule.name = `failurePolicyRule${i}`;
    });
  }

  for (const policy of spec.volumeClaimPolicies ?? []) {
    policy.retentionPolicy ??= { whenDeleted: "Delete" };
  }
  if (spec.scheduling) defaultScheduling(spec.scheduling); // scheduling.ts
  return js;
}

// ---------------------------------------------------------------------------------------------- runtime fallbacks

/** Name of the headless Service / pod subdomain: `spec.network.subdomain` if non-empty, else the JobSet name. */
export function subdomainOf(js: JobSet): string {
  const sub = js.spec?.network?.subdomain;
  return sub ? sub : (js.metadata?.name ?? "");
}

/** DNS hostnames are enabled only when `spec.network.enableDNSHostnames` is true (nil network ⇒ disabled). */
export function dnsHostnamesEnabled(js: JobSet): boolean {
  return js.spec?.network?.enableDNSHostnames === true;
}

/** `publishNotReadyAddresses` of the headless Service: nil is treated as true. */
export function publishNotReadyAddresses(js: JobSet): boolean {
  return js.spec?.network?.publishNotReadyAddresses ?? true;
}

/** `spec.suspend` nil ⇒ not suspended. */
export function isSuspended(js: JobSet): boolean {
  return js.spec?.suspend === true;
}
