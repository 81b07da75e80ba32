// The first-reconcile plan of a JobSet without a cluster: `jobset plan` and the SDK's plan(), one code
// path. The JobSet is judged by lint.ts first, as the API server and the webhooks would.
import { ApiVersion, Group, Kind } from "../api/constants.ts";
import { defaultJobSet } from "../api/defaults.ts";
import type { FeatureGates } from "../api/features.ts";
import { aggregateMessage } from "../api/field-errors.ts";
import type { KubeObject } from "../api/k8s.ts";
import { applySchemaDefaults } from "../api/schema.ts";
import type { JobSet } from "../api/types.ts";
import { plan as reconcilePlan } from "../controller/plan.ts";
import { type FeatureGateSettings, gatesOf, lintJobSet } from "./lint.ts";

/** uid given to the JobSet when none is passed (a file has none; the API server assigns it). */
export const PlaceholderUID = "00000000-0000-0000-0000-000000000000";

/** A JobSet the API server or the JobSet webhooks would reject, or one plan cannot take. */
export class PlanError extends Error {
  override name = "PlanError";
}

export interface PlanOptions {
  /** uid of the JobSet (default PlaceholderUID). */
  uid?: string;
  /** Namespace of a JobSet without metadata.namespace (default "default"). */
  namespace?: string;
  featureGates?: FeatureGateSettings;
}

/**
 * The JobSet as the API server would store it (CRD defaults, defaulting webhook, namespace and uid
 * filled in, status dropped), then every object the first reconcile creates, in creation order.
 * Throws PlanError when the API server or the validating webhook would reject the JobSet.
 */
export function planObjects(
  input: Record<string, unknown>,
  opts: { uid: string; namespace: string; gates: FeatureGates },
): KubeObject[] {
  if (input.apiVersion !== ApiVersion || input.kind !== Kind) {
    throw new PlanError(`not a ${Kind} ${ApiVersion}: ${String(input.kind)} ${String(input.apiVersion)}`);
  }
  const raw = structuredClone(input) as JobSet;
  raw.metadata ??= {};
  if (!raw.metadata.name) throw new PlanError("metadata.name is required (plan does not support generateName)");
  raw.metadata.namespace ||= opts.namespace;
  raw.metadata.uid = opts.uid;
  delete raw.status; // written only through the status subresource

  const { errors } = lintJobSet(raw as Record<string, unknown>, opts.gates);
  if (errors.length > 0) {
    throw new PlanError(
      `${Kind}.${Group} ${JSON.stringify(raw.metadata.name)} is invalid: ${aggregateMessage(errors)}`,
    );
  }
  const js = applySchemaDefaults(defaultJobSet(applySchemaDefaults(raw)));

  // The first reconcile is the real reconcile core run on a JobSet that has no children yet.
  const first = reconcilePlan({ jobSet: js, jobs: [], serviceExists: false, now: new Date() }, { gates: opts.gates });
  if (first.error) throw new PlanError(first.error);
  const objects: KubeObject[] = [js as KubeObject];
  for (const o of first.scheduling?.creates ?? []) objects.push(o); // spec.scheduling: Workload, PodGroups
  if (first.creates.service) objects.push(first.creates.service as KubeObject);
  for (const pvc of first.creates.pvcs) objects.push(pvc as KubeObject);
  for (const batch of first.creates.jobs) for (const job of batch.jobs) objects.push(job as KubeObject);
  return objects;
}

/**
 * What the controller creates for a JobSet on its first reconcile (what `jobset plan` prints): the
 * defaulted JobSet, then its headless Service, PVCs and Jobs in creation order. Throws PlanError for a
 * JobSet the API server or the webhooks would reject.
 */
export function plan(jobset: JobSet, o: PlanOptions = {}): KubeObject[] {
  return planObjects(jobset as Record<string, unknown>, {
    uid: o.uid ?? PlaceholderUID,
    namespace: o.namespace ?? "default",
    gates: gatesOf(o.featureGates),
  });
}
