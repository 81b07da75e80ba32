// DependsOn (spec §6.6): a replicated job's Jobs are created (even while suspended) and resumed only
// once every dependency reached its status. Ready ⇒ `replicas == ready + succeeded + failed` (failed
// Jobs count), Complete ⇒ `replicas == succeeded`. Dependencies look up replicas in a map holding only
// the rjobs up to and including the current one (spec order), so a later or unknown rjob counts as
// 0 replicas, and a self-dependency waits forever (both as upstream).
import type { ReplicatedJob, ReplicatedJobStatus } from "../api/types.ts";
import { findReplicatedJobStatus } from "./status.ts";

/** Whether every `dependsOn` item of `rjob` holds (no items ⇒ true). */
export function dependenciesReached(
  rjob: ReplicatedJob,
  replicasSoFar: ReadonlyMap<string, number>,
  statuses: readonly ReplicatedJobStatus[],
): boolean {
  for (const dep of rjob.dependsOn ?? []) {
    const actual = findReplicatedJobStatus(statuses, dep.name);
    if (actual === undefined) return false;
    const replicas = replicasSoFar.get(dep.name) ?? 0;
    if (dep.status === "Complete" && replicas !== actual.succeeded) return false;
    if (dep.status === "Ready" && replicas !== actual.ready + actual.succeeded + actual.failed) return false;
  }
  return true;
}
