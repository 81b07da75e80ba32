// Success policy (spec §6.1): when enough current-attempt Jobs succeeded, the JobSet is Completed.
// Evaluated by plan() only when the succeeded bucket is non-empty and no Job failed (§5.2 step h).
import { Labels } from "../api/constants.ts";
import type { Job } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import { markCompleted, type StatusUpdate } from "./conditions.ts";
import { rjobReplicas } from "./jobs.ts";

/** Whether the Job's `replicatedjob-name` label is targeted (`targets` empty ⇒ every rjob). */
function targeted(targets: readonly string[], job: Job): boolean {
  if (targets.length === 0) return true;
  return targets.includes(job.metadata?.labels?.[Labels.ReplicatedJobName] ?? "");
}

/**
 * `{matching, expected}`: succeeded Jobs of targeted rjobs, and how many are needed (`Any` ⇒ 1,
 * `All` ⇒ Σ replicas of targeted rjobs). A nil success policy is treated as `{operator: All}`
 * (§10.3-3: the webhook defaults it, CEL cannot stop its removal on update).
 */
export function successCounts(js: JobSet, succeeded: readonly Job[]): { matching: number; expected: number } {
  const policy = js.spec?.successPolicy ?? { operator: "All" as const };
  const targets = policy.targetReplicatedJobs ?? [];
  const matching = succeeded.filter((job) => targeted(targets, job)).length;
  if (policy.operator === "Any") return { matching, expected: 1 };
  let expected = 0;
  for (const rjob of js.spec?.replicatedJobs ?? []) {
    if (targets.length === 0 || targets.includes(rjob.name)) expected += rjobReplicas(rjob);
  }
  return { matching, expected };
}

/**
 * Runs the success policy; returns true when it completed the JobSet (Completed=True,
 * RestartingJobSet=False/JobSetCompleted, terminalState Completed, completed metric) — the reconcile
 * then stops, and active Jobs are deleted on the next pass (finished branch).
 */
export function executeSuccessPolicy(js: JobSet, succeeded: readonly Job[], u: StatusUpdate): boolean {
  const { matching, expected } = successCounts(js, succeeded);
  if (matching < expected) return false;
  markCompleted(u);
  return true;
}
