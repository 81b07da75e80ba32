// Failure policy (spec §6.2, §5.9, §6.4): what happens when a current-attempt Job failed. Runs at
// §5.2 step g whenever the failed bucket is non-empty (before the success policy, also while
// suspended); exactly one action per reconcile. Global restarts bump `status.restarts` (the next
// reconcile sees the old Jobs as "previous" and replaces them, §6.3); per-Job restarts (gate
// RestartJob) bump `jobRestarts[idx]` of the failed Job's replicated job.
import { failurePolicyRuleReason, Labels, Messages, Reasons } from "../api/constants.ts";
import type { Job, JobCondition } from "../api/k8s.ts";
import { compileRe2 } from "../api/re2.ts";
import type { FailurePolicyAction, FailurePolicyRule, JobSet, ReplicatedJobStatus } from "../api/types.ts";
import { eventTypeFor, markFailed, markRestarting, type StatusUpdate } from "./conditions.ts";
import { rjobReplicas } from "./jobs.ts";
import { goAtoi } from "./observe.ts";

/** Action when no rule matches (or there are no rules). */
export const DefaultFailurePolicyAction: FailurePolicyAction = "RestartJobSet";

export type PolicyResult = { ok: true } | { ok: false; error: string };

/** Error of a RestartJob* action while the `RestartJob` gate is off (reconcile error, §6.2). */
export function restartJobGateError(action: "RestartJob" | "RestartJobAndIgnoreMaxRestarts"): string {
  return `${action} failure policy action cannot be used when the feature gate RestartJob is disabled`;
}

/** The Job's failure condition: its first condition `type: Failed, status: True`. */
export function jobFailureCondition(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
}

/** Failure time in ms; a missing time is Go's zero time (earlier than any other). */
function failureTime(condition: JobCondition): number {
  const t = condition.lastTransitionTime ? Date.parse(condition.lastTransitionTime) : Number.NaN;
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** Earliest-failing Job among `jobs` satisfying `accept` (strictly earlier wins; ties keep list order). */
function earliestFailed(jobs: readonly Job[], accept: (job: Job, c: JobCondition) => boolean): Job | undefined {
  let best: Job | undefined;
  let bestTime = 0;
  for (const job of jobs) {
    const c = jobFailureCondition(job);
    if (c === undefined || !accept(job, c)) continue;
    const t = failureTime(c);
    if (best === undefined || t < bestTime) {
      best = job;
      bestTime = t;
    }
  }
  return best;
}

/** "first failed job": the failed Job with the strictly earliest failure time. */
export function firstFailedJob(failed: readonly Job[]): Job | undefined {
  return earliestFailed(failed, () => true);
}

// ---------------------------------------------------------------------------------------------- patterns

/** Whether the rule applies to this failed Job (reasons ∧ message patterns ∧ target rjobs). */
export function ruleMatches(rule: FailurePolicyRule, job: Job, condition: JobCondition, log: string[] = []): boolean {
  const reasons = rule.onJobFailureReasons ?? [];
  if (reasons.length > 0 && !reasons.includes(condition.reason ?? "")) return false;
  const patterns = rule.onJobFailureMessagePatterns ?? [];
  if (patterns.length > 0) {
    const message = condition.message ?? "";
    const hit = patterns.some((p) => {
      const compiled = compileRe2(p);
      if (!compiled.ok) {
        log.push(
          `invalid onJobFailureMessagePatterns entry ${JSON.stringify(p)} in rule ${rule.name} (${compiled.error}); not matching`,
        );
        return false;
      }
      return compiled.re.test(message);
    });
    if (!hit) return false;
  }
  const rjob = job.metadata?.labels?.[Labels.ReplicatedJobName] ?? "";
  if (rjob === "") return false;
  const targets = rule.targetReplicatedJobs ?? [];
  return targets.length === 0 || targets.includes(rjob);
}

/** First rule (in order) matching any failed Job, with the earliest-failing Job it matches. */
export function findMatchingRule(
  rules: readonly FailurePolicyRule[],
  failed: readonly Job[],
  log: string[] = [],
): { rule: FailurePolicyRule; job: Job } | undefined {
  for (const rule of rules) {
    const job = earliestFailed(failed, (j, c) => ruleMatches(rule, j, c, log));
    if (job !== undefined) return { rule, job };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- budget

/** Σ `jobRestartsCountTowardsMax` over every rjob. */
function perJobCounted(list: readonly ReplicatedJobStatus[] | undefined): number {
  let sum = 0;
  for (const entry of list ?? []) for (const n of entry.jobRestartsCountTowardsMax ?? []) sum += n;
  return sum;
}

/**
 * Budget check of RestartJobSet / RestartJob (§5.9): `restartsCountTowardsMax` (+ Σ per-Job counted
 * restarts with the RestartJob gate) `>= maxRestarts`.
 */
export function budgetExhausted(js: JobSet, u: StatusUpdate, restartJobGate: boolean): boolean {
  const max = js.spec?.failurePolicy?.maxRestarts ?? 0;
  const counted = u.status.restartsCountTowardsMax ?? 0;
  if (counted >= max) return true;
  return restartJobGate && counted + perJobCounted(u.status.replicatedJobsStatus) >= max;
}

// ---------------------------------------------------------------------------------------------- actions

export interface FailurePolicyOptions {
  restartJobGate: boolean;
}

function restartJobSet(
  u: StatusUpdate,
  rule: FailurePolicyRule | undefined,
  action: "RestartJobSet" | "RestartJobSetAndIgnoreMaxRestarts",
  jobName: string,
): void {
  u.status.restarts = (u.status.restarts ?? 0) + 1;
  if (action === "RestartJobSet") u.status.restartsCountTowardsMax = (u.status.restartsCountTowardsMax ?? 0) + 1;
  u.shouldUpdate = true;
  const message = Messages.RestartAction(action, jobName);
  markRestarting(u, rule ? failurePolicyRuleReason(rule.name) : Reasons.DefaultFailurePolicy, message);
  const reason =
    action === "RestartJobSet"
      ? Reasons.RestartJobSetFailurePolicyAction
      : Reasons.RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction;
  u.events.push({ type: eventTypeFor(reason), reason, message });
}

function restartJob(
  js: JobSet,
  u: StatusUpdate,
  action: "RestartJob" | "RestartJobAndIgnoreMaxRestarts",
  job: Job,
): PolicyResult {
  const jobName = job.metadata?.name ?? "";
  const labels = job.metadata?.labels ?? {};
  const rjobName = labels[Labels.ReplicatedJobName];
  if (rjobName === undefined || rjobName === "")
    return { ok: false, error: `missing label ${Labels.ReplicatedJobName}` };
  const rawIndex = labels[Labels.JobIndex];
  if (rawIndex === undefined) return { ok: false, error: `missing label ${Labels.JobIndex}` };
  const index = goAtoi(rawIndex);
  if (!index.ok) return { ok: false, error: index.error };
  const rjob = js.spec?.replicatedJobs?.find((r) => r.name === rjobName);
  const entry = u.status.replicatedJobsStatus?.find((s) => s.name === rjobName);
  if (rjob === undefined || entry === undefined) {
    return { ok: false, error: `replicated job ${rjobName} not found in the JobSet` };
  }
  const replicas = rjobReplicas(rjob);
  const restarts = entry.jobRestarts && entry.jobRestarts.length > 0 ? [...entry.jobRestarts] : zeros(replicas);
  if (index.value < 0 || index.value >= restarts.length) {
    return { ok: false, error: `job index ${index.value} is out of bounds for replicated job ${rjobName}` };
  }
  restarts[index.value] = (restarts[index.value] ?? 0) + 1;
  entry.jobRestarts = restarts;
  if (action === "RestartJob") {
    const counted =
      entry.jobRestartsCountTowardsMax && entry.jobRestartsCountTowardsMax.length > 0
        ? [...entry.jobRestartsCountTowardsMax]
        : zeros(replicas);
    if (index.value >= counted.length) {
      return { ok: false, error: `job index ${index.value} is out of bounds for replicated job ${rjobName}` };
    }
    counted[index.value] = (counted[index.value] ?? 0) + 1;
    entry.jobRestartsCountTowardsMax = counted;
  }
  u.shouldUpdate = true;
  const reason =
    action === "RestartJob"
      ? Reasons.RestartJobFailurePolicyAction
      : Reasons.RestartJobAndIgnoreMaxRestartsFailurePolicyAction;
  u.events.push({ type: eventTypeFor(reason), reason, message: Messages.RestartAction(action, jobName) });
  return { ok: true };
}

function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}

/**
 * Executes the failure policy for a non-empty `failed` bucket (§6.2), mutating `u`:
 * - no failurePolicy → Failed/FailedJobs with the first failed Job;
 * - first matching rule (or RestartJobSet with the first failed Job when none matches) → its action.
 * Errors (gate off, bad labels) fail the reconcile; `u` must then be discarded.
 */
export function executeFailurePolicy(
  js: JobSet,
  failed: readonly Job[],
  u: StatusUpdate,
  opts: FailurePolicyOptions,
  log: string[] = [],
): PolicyResult {
  const policy = js.spec?.failurePolicy;
  if (policy === undefined) {
    const first = firstFailedJob(failed);
    markFailed(u, Reasons.FailedJobs, Messages.FailedJobs(first?.metadata?.name ?? ""));
    return { ok: true };
  }
  const match = findMatchingRule(policy.rules ?? [], failed, log);
  const rule = match?.rule;
  const job = match?.job ?? firstFailedJob(failed);
  const action: FailurePolicyAction = rule?.action ?? DefaultFailurePolicyAction;
  const jobName = job?.metadata?.name ?? "";
  log.push(
    rule
      ? `failure policy rule ${rule.name} matched job ${jobName}: ${action}`
      : `no failure policy rule matched; default action ${action} (first failed job: ${jobName})`,
  );
  switch (action) {
    case "FailJobSet":
      markFailed(u, Reasons.FailJobSetFailurePolicyAction, Messages.FailJobSetAction(jobName));
      return { ok: true };
    case "RestartJobSet":
      if (budgetExhausted(js, u, opts.restartJobGate)) {
        markFailed(u, Reasons.ReachedMaxRestarts, Messages.ReachedMaxRestarts(jobName));
        return { ok: true };
      }
      restartJobSet(u, rule, action, jobName);
      return { ok: true };
    case "RestartJobSetAndIgnoreMaxRestarts":
      restartJobSet(u, rule, action, jobName);
      return { ok: true };
    case "RestartJob":
      if (!opts.restartJobGate) return { ok: false, error: restartJobGateError(action) };
      if (budgetExhausted(js, u, opts.restartJobGate)) {
        markFailed(u, Reasons.ReachedMaxRestarts, Messages.ReachedMaxRestarts(jobName));
        return { ok: true };
      }
      return job ? restartJob(js, u, action, job) : { ok: true };
    case "RestartJobAndIgnoreMaxRestarts":
      if (!opts.restartJobGate) return { ok: false, error: restartJobGateError(action) };
      return job ? restartJob(js, u, action, job) : { ok: true };
    default:
      return { ok: false, error: `failed to find a corresponding action for the FailurePolicyRuleAction ${action}` };
  }
}
