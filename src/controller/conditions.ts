// The JobSet condition update engine (spec §5.5) and the status-update record every policy writes
// into (spec §5.2 step 3): `shouldUpdate`, the events queued with condition changes (sent only after
// the status write, §5.6), and the terminal-state metrics (§9.1). Also the catalogue of every
// condition the controller sets (§1.14) with its event type (§5.12).
import {
  type ConditionType,
  ConditionTypes,
  type EventType,
  EventTypes,
  Messages,
  Reasons,
  TerminalStates,
} from "../api/constants.ts";
import { rfc3339 } from "../api/time.ts";
import type { JobSetCondition, JobSetStatus } from "../api/types.ts";

/** An event about the JobSet, as the executor records it (regarding = the JobSet, action `Reconciling`). */
export interface JobSetEvent {
  type: EventType;
  reason: string;
  message: string;
}

/**
 * The in-memory status record of one reconcile (upstream `statusUpdateOpts` + the mutated JobSet
 * status). Policies mutate `status` and set `shouldUpdate`; `events` are emitted only after a
 * successful status write; `metrics` are counted when the condition is set in memory (§5.10).
 */
export interface StatusUpdate {
  status: JobSetStatus;
  shouldUpdate: boolean;
  events: JobSetEvent[];
  metrics: { completed: boolean; failed: boolean };
  /** `lastTransitionTime` for conditions changed in this reconcile (RFC 3339, seconds, UTC). */
  now: string;
}

/** A fresh record over a deep copy of `status` (the observed object is never mutated). */
export function newStatusUpdate(status: JobSetStatus | undefined, now: Date): StatusUpdate {
  return {
    status: structuredClone(status ?? {}),
    shouldUpdate: false,
    events: [],
    metrics: { completed: false, failed: false },
    now: rfc3339(now),
  };
}

/** Condition to set: everything but `lastTransitionTime`, which the engine decides. */
export interface ConditionSpec {
  type: ConditionType;
  status: "True" | "False";
  reason: string;
  message: string;
}

const warningReasons: ReadonlySet<string> = new Set([
  Reasons.FailedJobs,
  Reasons.FailJobSetFailurePolicyAction,
  Reasons.ReachedMaxRestarts,
  Reasons.DefaultFailurePolicy,
  Reasons.RestartJobSetFailurePolicyAction,
  Reasons.RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction,
  Reasons.RestartJobFailurePolicyAction,
  Reasons.RestartJobAndIgnoreMaxRestartsFailurePolicyAction,
  Reasons.JobCreationFailed,
  Reasons.HeadlessServiceCreationFailed,
  Reasons.PVCCreationFailed,
]);

/** Event type of a JobSet event reason (§5.12): failures and restarts are Warning, the rest Normal. */
export function eventTypeFor(reason: string): EventType {
  if (warningReasons.has(reason) || reason.startsWith("FailurePolicy_")) return EventTypes.Warning;
  return EventTypes.Normal;
}

function exclusive(a: string, b: string): boolean {
  return (
    (a === ConditionTypes.StartupPolicyInProgress && b === ConditionTypes.StartupPolicyCompleted) ||
    (a === ConditionTypes.StartupPolicyCompleted && b === ConditionTypes.StartupPolicyInProgress)
  );
}

/**
 * Applies condition `c` to `u.status.conditions` (§5.5) and returns whether anything changed:
 * - same type, different status → replaced, `lastTransitionTime = now`;
 * - same type and status, different reason or message → replaced, old `lastTransitionTime` kept;
 * - StartupPolicyInProgress/StartupPolicyCompleted both True → the other one's status flips to False only;
 * - no condition of the type: appended only if True (a False condition is never added).
 * A change sets `shouldUpdate` and queues an event (type per §5.12, reason and message of `c`).
 */
export function setCondition(u: StatusUpdate, c: ConditionSpec): boolean {
  const conditions = u.status.conditions ?? [];
  let found = false;
  let changed = false;
  const fresh: JobSetCondition = {
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime: u.now,
  };
  for (let i = 0; i < conditions.length; i++) {
    const current = conditions[i];
    if (current === undefined) continue;
    if (current.type === c.type) {
      found = true;
      if (current.status !== c.status) {
        conditions[i] = fresh;
        changed = true;
      } else if (current.reason !== c.reason || current.message !== c.message) {
        conditions[i] = { ...fresh, lastTransitionTime: current.lastTransitionTime };
        changed = true;
      }
    } else if (exclusive(current.type, c.type) && current.status === "True" && c.status === "True") {
      conditions[i] = { ...current, status: "False" };
      changed = true;
    }
  }
  if (!found && c.status === "True") {
    conditions.push(fresh);
    changed = true;
  }
  if (!changed) return false;
  u.status.conditions = conditions;
  u.shouldUpdate = true;
  u.events.push({ type: eventTypeFor(c.reason), reason: c.reason, message: c.message });
  return true;
}

/** The first condition of `type` in the list, if any. */
export function findCondition(status: JobSetStatus | undefined, type: string): JobSetCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Whether a condition of `type` with status True exists. */
export function conditionTrue(status: JobSetStatus | undefined, type: string): boolean {
  return status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;
}

/** A JobSet is finished once it has `Completed=True` or `Failed=True`. */
export function jobSetFinished(status: JobSetStatus | undefined): boolean {
  return conditionTrue(status, ConditionTypes.Completed) || conditionTrue(status, ConditionTypes.Failed);
}

// ---------------------------------------------------------------------------------------------- catalogue

/**
 * A terminal state (§5.10): its condition True, RestartingJobSet=False with the matching reason, the
 * terminal state in status and the metric to count.
 */
function markTerminal(u: StatusUpdate, outcome: "completed" | "failed", reason: string, message: string): void {
  const completed = outcome === "completed";
  setCondition(u, {
    type: completed ? ConditionTypes.Completed : ConditionTypes.Failed,
    status: "True",
    reason,
    message,
  });
  setCondition(u, {
    type: ConditionTypes.RestartingJobSet,
    status: "False",
    reason: completed ? Reasons.JobSetCompleted : Reasons.JobSetFailed,
    message: completed ? Messages.JobSetCompleted : Messages.JobSetFailed,
  });
  u.status.terminalState = completed ? TerminalStates.Completed : TerminalStates.Failed;
  u.shouldUpdate = true;
  u.metrics[outcome] = true;
}

/** Success (§6.1): Completed=True/AllJobsCompleted, RestartingJobSet=False/JobSetCompleted, terminal state, metric. */
export function markCompleted(u: StatusUpdate): void {
  markTerminal(u, "completed", Reasons.AllJobsCompleted, Messages.AllJobsCompleted);
}

/** Failure (§6.2): Failed=True with reason/message, RestartingJobSet=False/JobSetFailed, terminal state, metric. */
export function markFailed(u: StatusUpdate, reason: string, message: string): void {
  markTerminal(u, "failed", reason, message);
}

/** Global restart triggered (§5.11): RestartingJobSet=True. */
export function markRestarting(u: StatusUpdate, reason: string, message: string): void {
  setCondition(u, { type: ConditionTypes.RestartingJobSet, status: "True", reason, message });
}

/** All Jobs ready or succeeded (§5.2 step f): RestartingJobSet=False/JobsReady (only flips an existing one). */
export function markJobsReady(u: StatusUpdate): void {
  setCondition(u, {
    type: ConditionTypes.RestartingJobSet,
    status: "False",
    reason: Reasons.JobsReady,
    message: Messages.JobsReady,
  });
}

/** Suspended (§6.7): Suspended=True/SuspendedJobs, then RestartingJobSet=False/JobSetSuspended. */
export function markSuspended(u: StatusUpdate): void {
  setCondition(u, {
    type: ConditionTypes.Suspended,
    status: "True",
    reason: Reasons.SuspendedJobs,
    message: Messages.Suspended,
  });
  setCondition(u, {
    type: ConditionTypes.RestartingJobSet,
    status: "False",
    reason: Reasons.JobSetSuspended,
    message: Messages.JobSetSuspended,
  });
}

/** Resumed (§6.7): Suspended=False/ResumeJobs (only flips an existing condition). */
export function markResumed(u: StatusUpdate): void {
  setCondition(u, {
    type: ConditionTypes.Suspended,
    status: "False",
    reason: Reasons.ResumeJobs,
    message: Messages.Resumed,
  });
}

/** InOrder startup waiting on a replicated job (§6.5). */
export function markStartupInProgress(u: StatusUpdate): void {
  setCondition(u, {
    type: ConditionTypes.StartupPolicyInProgress,
    status: "True",
    reason: Reasons.InOrderStartupPolicyInProgress,
    message: Messages.InOrderStartupPolicyInProgress,
  });
}

/** InOrder startup done (§6.5); flips InProgress to False. */
export function markStartupCompleted(u: StatusUpdate): void {
  setCondition(u, {
    type: ConditionTypes.StartupPolicyCompleted,
    status: "True",
    reason: Reasons.InOrderStartupPolicyCompleted,
    message: Messages.InOrderStartupPolicyCompleted,
  });
}
