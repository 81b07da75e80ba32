// Classification of a JobSet's child Jobs (spec §5.3) into the buckets every policy reads:
// previous (older restart attempt, to be deleted), and, for the current attempt, active, succeeded
// and failed. With the `RestartJob` gate, per-Job restart attempts also make a Job "previous".
import { Labels } from "../api/constants.ts";
import type { Job } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import { rjobReplicas } from "./jobs.ts";

export interface ChildJobs {
  /** Current attempt, neither Complete nor Failed (FailureTarget/SuccessCriteriaMet alone stay active). */
  active: Job[];
  /** Current attempt, condition `Complete=True`. */
  succeeded: Job[];
  /** Current attempt, condition `Failed=True` (and not Complete). */
  failed: Job[];
  /** Older restart attempt (global, or per-Job with the RestartJob gate): deleted before anything else. */
  previous: Job[];
}

export type Classification = { ok: true; jobs: ChildJobs; log: string[] } | { ok: false; error: string; log: string[] };

/** Go's `%q` for the strings we quote (ASCII labels): close enough to `strconv.Quote`. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

const maxInt64 = 2n ** 63n - 1n;
const minInt64 = -(2n ** 63n);

/**
 * Go's `strconv.Atoi` on a 64-bit platform: optional sign then decimal digits. Returns the number or
 * the exact Go error text (`strconv.Atoi: parsing "x": invalid syntax` / `value out of range`).
 */
export function goAtoi(s: string): { ok: true; value: number } | { ok: false; error: string } {
  // Fast path (every reconcile parses a label of every Job): an optional sign and 1–15 digits are
  // always in range and exact as a double.
  const n = s.length;
  if (n > 0 && n <= 16) {
    const c0 = s.charCodeAt(0);
    let i = c0 === 43 || c0 === 45 ? 1 : 0;
    if (i < n && n - i <= 15) {
      let v = 0;
      for (; i < n; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === n) return { ok: true, value: c0 === 45 && v !== 0 ? -v : v };
    }
  }
  if (!/^[+-]?[0-9]+$/.test(s)) return { ok: false, error: `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax` };
  const big = BigInt(s.startsWith("+") ? s.slice(1) : s);
  if (big > maxInt64 || big < minInt64) {
    return { ok: false, error: `strconv.Atoi: parsing ${goQuote(s)}: value out of range` };
  }
  return { ok: true, value: Number(big) };
}

/** `Complete` when a `Complete=True` condition exists, else `Failed` when `Failed=True` exists, else undefined. */
export function jobFinishedType(job: Job): "Complete" | "Failed" | undefined {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => c.type === "Complete" && c.status === "True")) return "Complete";
  if (conditions.some((c) => c.type === "Failed" && c.status === "True")) return "Failed";
  return undefined;
}

export interface ClassifyOptions {
  /** Feature gate `RestartJob`: per-Job restart attempts make Jobs "previous". */
  restartJobGate: boolean;
}

/**
 * Buckets `jobs` (all Jobs controlled by the JobSet's UID, in cache-list order) per §5.3. Errors stop
 * the reconcile (nothing is deleted or written):
 * - `restart-attempt` label missing or not an integer → the `strconv.Atoi` error;
 * - with the RestartJob gate: `missing label jobset.sigs.k8s.io/replicatedjob-name`,
 *   `missing label jobset.sigs.k8s.io/job-index`, non-integer job-index / job-restart-attempt (Atoi
 *   error), `job index <i> is out of bounds for replicated job <rjob>`.
 * A missing `job-restart-attempt` label is logged and read as attempt 0 (§10.3-11 recommendation;
 * upstream keeps such a Job current forever, so RestartJob would re-match the same failed Job).
 */
export function classifyJobs(js: JobSet, jobs: readonly Job[], opts: ClassifyOptions): Classification {
  const out: ChildJobs = { active: [], succeeded: [], failed: [], previous: [] };
  const log: string[] = [];
  const restarts = js.status?.restarts ?? 0;
  for (const job of jobs) {
    const labels = job.metadata?.labels ?? {};
    const attempt = goAtoi(labels[Labels.RestartAttempt] ?? "");
    if (!attempt.ok) {
      log.push(`invalid value for label ${Labels.RestartAttempt}, must be integer (job ${job.metadata?.name ?? ""})`);
      return { ok: false, error: attempt.error, log };
    }
    if (attempt.value < restarts) {
      out.previous.push(job);
      continue;
    }

    if (opts.restartJobGate) {
      const rjobName = labels[Labels.ReplicatedJobName];
      if (rjobName === undefined) return { ok: false, error: `missing label ${Labels.ReplicatedJobName}`, log };
      const rawIndex = labels[Labels.JobIndex];
      if (rawIndex === undefined) return { ok: false, error: `missing label ${Labels.JobIndex}`, log };
      const index = goAtoi(rawIndex);
      if (!index.ok) return { ok: false, error: index.error, log };
      const rawJobAttempt = labels[Labels.JobRestartAttempt];
      let jobAttempt = 0;
      if (rawJobAttempt === undefined) {
        log.push(`job ${job.metadata?.name ?? ""} has no label ${Labels.JobRestartAttempt}; treating it as attempt 0`);
      } else {
        const parsed = goAtoi(rawJobAttempt);
        if (!parsed.ok) return { ok: false, error: parsed.error, log };
        jobAttempt = parsed.value;
      }
      const target = jobRestartTargets(js, rjobName);
      if (index.value < 0 || index.value >= target.length) {
        return { ok: false, error: `job index ${index.value} is out of bounds for replicated job ${rjobName}`, log };
      }
      if (jobAttempt < (target[index.value] ?? 0)) {
        out.previous.push(job);
        continue;
      }
    }

    switch (jobFinishedType(job)) {
      case "Complete":
        out.succeeded.push(job);
        break;
      case "Failed":
        out.failed.push(job);
        break;
      default:
        out.active.push(job);
    }
  }
  return { ok: true, jobs: out, log };
}

/**
 * Per-Job restart targets of an rjob: `status.replicatedJobsStatus[rjob].jobRestarts`, or zeros of
 * length = spec replicas when absent/empty (an rjob not in spec gives an empty list).
 */
export function jobRestartTargets(js: JobSet, rjobName: string): number[] {
  const entry = js.status?.replicatedJobsStatus?.find((s) => s.name === rjobName);
  if (entry?.jobRestarts && entry.jobRestarts.length > 0) return entry.jobRestarts;
  const rjob = js.spec?.replicatedJobs?.find((r) => r.name === rjobName);
  return new Array<number>(rjob ? rjobReplicas(rjob) : 0).fill(0);
}
