// In-place restart, controller side (spec §8.1; gate InPlaceRestart, strategy InPlaceRestart, §5.2
// step n). Reads the restart counts and the agents' attempt annotations of the JobSet's pods and
// either fails the JobSet (limits exceeded), lifts the barrier (`currentInPlaceRestartAttempt`) or
// tells stale agents to restart (`previousInPlaceRestartAttempt`). Job failures are still handled by
// the failure policy as with Recreate.
import { Annotations, Messages, Reasons } from "../api/constants.ts";
import type { Pod } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import { markFailed, type StatusUpdate } from "./conditions.ts";
import { rjobReplicas } from "./jobs.ts";

export const InvalidAttemptAnnotationError = `invalid value for annotation ${Annotations.InPlaceRestartAttempt}, must be non-negative integer`;

export type InPlaceResult = { ok: true } | { ok: false; error: string };

function maxContainerRestarts(pods: readonly Pod[]): number {
  let max = 0;
  for (const pod of pods) {
    for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      if ((s.restartCount ?? 0) > max) max = s.restartCount ?? 0;
    }
  }
  return max;
}

/**
 * §8.1 steps 2–8 over `pods` (every pod of the namespace labelled `jobset-name: <name>`, any phase;
 * no owner check, as upstream — §10.3-4). Mutates `u`; an error fails the reconcile.
 */
export function reconcileInPlaceRestart(js: JobSet, pods: readonly Pod[], u: StatusUpdate): InPlaceResult {
  const maxRestarts = js.spec?.failurePolicy?.maxRestarts ?? 0;
  if (maxContainerRestarts(pods) > maxRestarts) {
    markFailed(u, Reasons.ReachedMaxRestarts, Messages.ReachedMaxRestartsInPlace);
    return { ok: true };
  }

  const attempts: number[] = [];
  for (const pod of pods) {
    if (pod.status?.phase === "Failed") continue;
    const raw = pod.metadata?.annotations?.[Annotations.InPlaceRestartAttempt];
    if (raw === undefined) continue;
    if (!/^[+-]?[0-9]+$/.test(raw)) return { ok: false, error: InvalidAttemptAnnotationError };
    const value = Number(raw);
    if (value < 0 || !Number.isSafeInteger(value)) return { ok: false, error: InvalidAttemptAnnotationError };
    attempts.push(value);
  }

  const maxAttempt = attempts.reduce((m, a) => Math.max(m, a), 0);
  const uncounted = (u.status.restarts ?? 0) - (u.status.restartsCountTowardsMax ?? 0);
  if (maxAttempt - uncounted > maxRestarts) {
    markFailed(u, Reasons.ReachedMaxRestarts, Messages.ReachedMaxRestartsInPlace);
    return { ok: true };
  }

  let expectedPods = 0;
  for (const rjob of js.spec?.replicatedJobs ?? []) {
    const parallelism = rjob.template.spec?.parallelism;
    const completions = rjob.template.spec?.completions;
    if (typeof parallelism !== "number" || typeof completions !== "number" || parallelism !== completions) {
      return {
        ok: false,
        error: `${rjob.name}: in-place restart requires jobTemplate.spec.completions == jobTemplate.spec.parallelism != nil`,
      };
    }
    expectedPods += rjobReplicas(rjob) * parallelism;
  }

  const first = attempts[0];
  if (first !== undefined && attempts.length === expectedPods && attempts.every((a) => a === first)) {
    if (u.status.currentInPlaceRestartAttempt !== first) {
      u.status.currentInPlaceRestartAttempt = first;
      u.shouldUpdate = true;
    }
    return { ok: true };
  }
  if (attempts.length === 0 || maxAttempt === 0) return { ok: true };

  const candidate = maxAttempt - 1;
  const previous = u.status.previousInPlaceRestartAttempt;
  if (previous !== undefined && previous !== null && candidate <= previous) return { ok: true };
  u.status.previousInPlaceRestartAttempt = candidate;
  u.shouldUpdate = true;
  return { ok: true };
}
