// Elastic JobSet (spec §6.11, gate ElasticJobSet, §5.2 step k): when the webhook allowed a change of
// an Indexed rjob's parallelism/completions, live active Jobs follow it via a JSON merge patch of
// `spec.parallelism` and `spec.completions`. Succeeded, failed and previous Jobs are left alone.
import { Labels } from "../api/constants.ts";
import type { Job } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";

/** A JSON merge patch (`application/merge-patch+json`) of one Job's parallelism and completions. */
export interface ScalePatch {
  name: string;
  namespace: string;
  patch: { spec: { parallelism: number; completions: number } };
}

/**
 * Merge patches for the active Jobs whose rjob template has `parallelism == completions` and whose own
 * values differ. A template without both values set is left alone (upstream would patch them to null,
 * which the API server re-defaults or rejects; the webhook only lets P/C change when both are ≥ 1).
 */
export function scalePatches(js: JobSet, active: readonly Job[]): ScalePatch[] {
  const out: ScalePatch[] = [];
  for (const job of active) {
    const rjobName = job.metadata?.labels?.[Labels.ReplicatedJobName];
    const rjob = js.spec?.replicatedJobs?.find((r) => r.name === rjobName);
    if (rjob === undefined) continue;
    const parallelism = rjob.template.spec?.parallelism;
    const completions = rjob.template.spec?.completions;
    if (typeof parallelism !== "number" || typeof completions !== "number" || parallelism !== completions) continue;
    if (job.spec?.parallelism === parallelism && job.spec?.completions === completions) continue;
    out.push({
      name: job.metadata?.name ?? "",
      namespace: job.metadata?.namespace ?? js.metadata?.namespace ?? "",
      patch: { spec: { parallelism, completions } },
    });
  }
  return out;
}
