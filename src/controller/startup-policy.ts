// Startup policy `InOrder` (spec §6.5, deprecated in favour of dependsOn): replicated jobs start one
// after the other in spec order. An rjob has "started" once `replicas == ready + succeeded + failed`
// in its status entry. The creation (§5.8) and resume (§6.7) loops in plan.ts use these helpers and
// set StartupPolicyInProgress / StartupPolicyCompleted through conditions.ts.
import type { JobSet, ReplicatedJob, ReplicatedJobStatus } from "../api/types.ts";
import { rjobReplicas } from "./jobs.ts";
import { findReplicatedJobStatus } from "./status.ts";

/** Whether the JobSet uses `startupPolicyOrder: InOrder`. */
export function inOrderStartup(js: JobSet): boolean {
  return js.spec?.startupPolicy?.startupPolicyOrder === "InOrder";
}

/** Whether every Job of the rjob is ready or finished (`replicas == ready + succeeded + failed`). */
export function replicatedJobStarted(rjob: ReplicatedJob, statuses: readonly ReplicatedJobStatus[]): boolean {
  const s = findReplicatedJobStatus(statuses, rjob.name);
  const counted = s ? s.ready + s.succeeded + s.failed : 0;
  return rjobReplicas(rjob) === counted;
}
