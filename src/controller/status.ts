// `status.replicatedJobsStatus` (spec §5.4): per replicated job, counts of the current attempt's Jobs,
// plus the per-Job restart counters kept under the RestartJob gate. Also the semantic comparison that
// decides whether the list changed, and upstream's descending-by-name ordering.
import { Labels } from "../api/constants.ts";
import type { Job } from "../api/k8s.ts";
import type { JobSet, ReplicatedJobStatus } from "../api/types.ts";
import type { ChildJobs } from "./observe.ts";

export interface StatusOptions {
  /** Gate `RestartJob`: keep `jobRestarts` / `jobRestartsCountTowardsMax`; otherwise they are dropped. */
  restartJobGate: boolean;
}

/** Pods a Job needs ready: `parallelism`, lowered to `completions` when that is set and smaller. */
export function podsCount(job: Job): number {
  let count = job.spec?.parallelism ?? 1;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null && completions < count) count = completions;
  return count;
}

/** Whether an active Job counts as ready: `status.succeeded + status.ready >= podsCount`. */
export function jobReady(job: Job): boolean {
  return (job.status?.succeeded ?? 0) + (job.status?.ready ?? 0) >= podsCount(job);
}

/** Upstream's order: in place by name, descending (reverse-lexicographic, §10.3-10). */
export function sortByNameDescending(list: ReplicatedJobStatus[]): ReplicatedJobStatus[] {
  return list.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

/**
 * One zeroed entry per spec rjob, filled from the buckets: active Jobs give ready/active/suspended,
 * succeeded and failed Jobs their counts; previous Jobs never count. A Job whose
 * `replicatedjob-name` label is empty or names no spec rjob is skipped (logged). Returned in
 * descending name order.
 */
export function computeReplicatedJobsStatus(
  js: JobSet,
  jobs: ChildJobs,
  opts: StatusOptions,
  log: string[] = [],
): ReplicatedJobStatus[] {
  const byName = new Map<string, ReplicatedJobStatus>();
  for (const rjob of js.spec?.replicatedJobs ?? []) {
    const entry: ReplicatedJobStatus = { name: rjob.name, ready: 0, succeeded: 0, failed: 0, active: 0, suspended: 0 };
    if (opts.restartJobGate) {
      const old = js.status?.replicatedJobsStatus?.find((s) => s.name === rjob.name);
      if (old?.jobRestarts !== undefined) entry.jobRestarts = [...old.jobRestarts];
      if (old?.jobRestartsCountTowardsMax !== undefined) {
        entry.jobRestartsCountTowardsMax = [...old.jobRestartsCountTowardsMax];
      }
    }
    byName.set(rjob.name, entry);
  }
  const entryOf = (job: Job): ReplicatedJobStatus | undefined => {
    const name = job.metadata?.labels?.[Labels.ReplicatedJobName] ?? "";
    const entry = name === "" ? undefined : byName.get(name);
    if (entry === undefined) {
      log.push(`job ${job.metadata?.name ?? ""} has no known ${Labels.ReplicatedJobName} label, can't update status`);
    }
    return entry;
  };
  for (const job of jobs.active) {
    const entry = entryOf(job);
    if (entry === undefined) continue;
    if (jobReady(job)) entry.ready++;
    if ((job.status?.active ?? 0) > 0) entry.active++;
    if (job.spec?.suspend === true) entry.suspended++;
  }
  for (const job of jobs.succeeded) {
    const entry = entryOf(job);
    if (entry !== undefined) entry.succeeded++;
  }
  for (const job of jobs.failed) {
    const entry = entryOf(job);
    if (entry !== undefined) entry.failed++;
  }
  return sortByNameDescending([...byName.values()]);
}

function sameCounters(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameEntry(a: ReplicatedJobStatus, b: ReplicatedJobStatus): boolean {
  return (
    a.name === b.name &&
    a.ready === b.ready &&
    a.succeeded === b.succeeded &&
    a.failed === b.failed &&
    a.active === b.active &&
    a.suspended === b.suspended &&
    sameCounters(a.jobRestarts, b.jobRestarts) &&
    sameCounters(a.jobRestartsCountTowardsMax, b.jobRestartsCountTowardsMax)
  );
}

/**
 * Semantic equality of two lists (Go `equality.Semantic.DeepEqual` after sorting both by name): order
 * does not matter, an absent list equals an empty one, an absent counter array equals an empty one.
 */
export function replicatedJobsStatusEqual(
  a: readonly ReplicatedJobStatus[] | undefined,
  b: readonly ReplicatedJobStatus[] | undefined,
): boolean {
  const x = sortByNameDescending([...(a ?? [])]);
  const y = sortByNameDescending([...(b ?? [])]);
  if (x.length !== y.length) return false;
  return x.every((entry, i) => {
    const other = y[i];
    return other !== undefined && sameEntry(entry, other);
  });
}

/** The status entry of an rjob in a list, if any. */
export function findReplicatedJobStatus(
  list: readonly ReplicatedJobStatus[] | undefined,
  name: string,
): ReplicatedJobStatus | undefined {
  return list?.find((s) => s.name === name);
}
