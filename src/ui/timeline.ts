// The timeline of a JobSet, pure: one lane per Job name (every restart attempt's Job of that name on the
// same lane, one span set per Job UID), optional lanes per pod, restart attempts as bands across all
// lanes, the JobSet's condition changes and events, and the Jobs' failures and events as markers.
//
// Inputs are what the UI server has seen: the Jobs and pods that exist, the ones it saw deleted (with
// the time it saw them go), and the events that still exist. Jobs deleted before the server started
// are rebuilt from their events (the Job controller's events name the Job and carry its UID), so a
// finished JobSet's restarts still show after the fact, for as long as the events live (1 h by default).
// No I/O, no clock: `now` comes in.

import { ConditionTypes, Labels } from "../api/constants.ts";
import type { Event, Job, Pod } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";

export type SpanState = "pending" | "suspended" | "running" | "succeeded" | "failed" | "deleted";

export interface Span {
  start: number;
  end: number;
  state: SpanState;
  /** Restart attempt of the object (jobset restart-attempt label), -1 when unknown. */
  attempt: number;
  /** Open span: still in this state at `now`. */
  open: boolean;
}

export type MarkerKind = "failure" | "success" | "condition" | "event" | "warning";

export interface Marker {
  time: number;
  kind: MarkerKind;
  label: string;
}

export interface Lane {
  /** Unique key: `job/<name>`, `pod/<name>` or `jobset`. */
  key: string;
  kind: "jobset" | "job" | "pod";
  name: string;
  /** Replicated job of the lane (empty for the JobSet lane). */
  rjob: string;
  /** For pod lanes: the Job name the pod belongs to. */
  job: string;
  spans: Span[];
  markers: Marker[];
}

export interface Band {
  attempt: number;
  start: number;
  end: number;
  open: boolean;
}

export interface Timeline {
  start: number;
  end: number;
  /** JobSet lane first, then one lane per Job name (replicated-job order, then index). */
  lanes: Lane[];
  /** Pod lanes, by Job name (shown on demand). */
  pods: Record<string, Lane[]>;
  bands: Band[];
}

/** A Job or pod the UI server saw deleted, with the time it saw the deletion. */
export interface Gone<T> {
  obj: T;
  deletedAt: number;
}

export interface TimelineInput {
  jobset: JobSet;
  jobs: readonly Job[];
  pods: readonly Pod[];
  goneJobs?: readonly Gone<Job>[];
  gonePods?: readonly Gone<Pod>[];
  events: readonly Event[];
  now: number;
}

const ms = (t: string | undefined | null): number | undefined => {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
};

const attemptOf = (o: { metadata?: { labels?: Record<string, string> } }): number => {
  const a = Number(o.metadata?.labels?.[Labels.RestartAttempt]);
  return Number.isInteger(a) ? a : -1;
};

export function eventTime(e: Event): number | undefined {
  return (
    ms(e.series?.lastObservedTime) ??
    ms(e.eventTime) ??
    ms(e.deprecatedLastTimestamp) ??
    ms(e.deprecatedFirstTimestamp) ??
    ms(e.metadata?.creationTimestamp)
  );
}

const collator = new Intl.Collator("en", { numeric: true });
const numeric = (a: string, b: string) => collator.compare(a, b);

/** Pushes a span if it has a start; zero-length spans are kept (a state that lasted < 1 s). */
function push(spans: Span[], state: SpanState, start: number | undefined, end: number, attempt: number, open = false) {
  if (start === undefined) return;
  spans.push({ start, end: Math.max(start, end), state, attempt, open });
}

/** The spans of one Job object: pending (or suspended) → running → succeeded / failed, until it went. */
export function jobSpans(j: Job, now: number, deletedAt?: number): { spans: Span[]; markers: Marker[] } {
  const attempt = attemptOf(j);
  const created = ms(j.metadata?.creationTimestamp);
  const gone = deletedAt ?? ms(j.metadata?.deletionTimestamp);
  const stop = gone ?? now;
  const started = ms(j.status?.startTime);
  const conds = j.status?.conditions ?? [];
  const failed = conds.find((c) => c.type === "Failed" && c.status === "True");
  const complete = conds.find((c) => c.type === "Complete" && c.status === "True");
  const ended = failed
    ? (ms(failed.lastTransitionTime) ?? stop)
    : complete
      ? (ms(j.status?.completionTime) ?? ms(complete.lastTransitionTime) ?? stop)
      : undefined;
  const spans: Span[] = [];
  const markers: Marker[] = [];
  const waitState: SpanState = j.spec?.suspend ? "suspended" : "pending";
  const waitEnd = started ?? ended ?? stop;
  push(spans, waitState, created, waitEnd, attempt, started === undefined && ended === undefined && gone === undefined);
  if (started !== undefined) push(spans, "running", started, ended ?? stop, attempt, ended === undefined && !gone);
  if (ended !== undefined) {
    push(spans, failed ? "failed" : "succeeded", ended, stop, attempt, gone === undefined);
    markers.push(
      failed
        ? { time: ended, kind: "failure", label: `${j.metadata?.name ?? ""} failed: ${failed.reason ?? "Failed"}` }
        : { time: ended, kind: "success", label: `${j.metadata?.name ?? ""} completed` },
    );
  }
  return { spans, markers };
}

/** The spans of one pod: pending (scheduling, image pull, init) → running → succeeded / failed. */
export function podSpans(p: Pod, now: number, deletedAt?: number): Span[] {
  const attempt = attemptOf(p);
  const created = ms(p.metadata?.creationTimestamp);
  const gone = deletedAt ?? ms(p.metadata?.deletionTimestamp);
  const stop = gone ?? now;
  const statuses = p.status?.containerStatuses ?? [];
  const startedAll = statuses
    .map(
      (c) =>
        ms(c.state?.running?.startedAt) ?? ms(c.state?.terminated?.startedAt) ?? ms(c.lastState?.terminated?.startedAt),
    )
    .filter((t): t is number => t !== undefined);
  const finishedAll = statuses
    .map((c) => ms(c.state?.terminated?.finishedAt))
    .filter((t): t is number => t !== undefined);
  const started = startedAll.length > 0 ? Math.min(...startedAll) : undefined;
  const phase = p.status?.phase ?? "Pending";
  const terminal = phase === "Succeeded" || phase === "Failed";
  const ended = terminal ? (finishedAll.length > 0 ? Math.max(...finishedAll) : (started ?? stop)) : undefined;
  const spans: Span[] = [];
  push(spans, "pending", created, started ?? ended ?? stop, attempt, started === undefined && !terminal && !gone);
  if (started !== undefined) push(spans, "running", started, ended ?? stop, attempt, !terminal && !gone);
  if (ended !== undefined) push(spans, phase === "Succeeded" ? "succeeded" : "failed", ended, stop, attempt, !gone);
  return spans;
}

function eventMarker(e: Event, t: number): Marker {
  const warning = e.type === "Warning";
  const n = e.series?.count ?? e.deprecatedCount ?? 1;
  return {
    time: t,
    kind: warning ? "warning" : "event",
    label: `${e.reason ?? ""}: ${e.note ?? ""}${n > 1 ? ` (×${n})` : ""}`,
  };
}

/** Job-controller event reasons that mean the Job failed. */
const JobFailedReasons = new Set([
  "BackoffLimitExceeded",
  "DeadlineExceeded",
  "PodFailurePolicy",
  "MaxFailedIndexesExceeded",
]);

export function buildTimeline(input: TimelineInput): Timeline {
  const { jobset: js, now } = input;
  const name = js.metadata?.name ?? "";
  const uid = js.metadata?.uid ?? "";
  const created = ms(js.metadata?.creationTimestamp) ?? now;
  const owned = (o: { metadata?: { ownerReferences?: { uid: string }[] } }) =>
    uid === "" || (o.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);

  const rjobOrder = (js.spec?.replicatedJobs ?? []).map((r) => r.name);
  const finishedAt = (js.status?.conditions ?? [])
    .filter((c) => c.status === "True" && (c.type === ConditionTypes.Failed || c.type === ConditionTypes.Completed))
    .map((c) => ms(c.lastTransitionTime))
    .find((t) => t !== undefined);
  // A finished JobSet's timeline ends when it finished: what is left of it does not grow with the clock.
  const horizon = finishedAt === undefined ? now : Math.min(now, finishedAt);
  const lanes = new Map<string, Lane>();
  const laneFor = (jobName: string, rjob: string): Lane => {
    let l = lanes.get(jobName);
    if (!l) {
      l = { key: `job/${jobName}`, kind: "job", name: jobName, rjob, job: jobName, spans: [], markers: [] };
      lanes.set(jobName, l);
    }
    if (!l.rjob && rjob) l.rjob = rjob;
    return l;
  };
  // Every Job object we know, current and gone, by UID.
  const jobsByUid = new Map<string, { job: Job; deletedAt: number | undefined }>();
  for (const g of input.goneJobs ?? [])
    if (owned(g.obj)) jobsByUid.set(g.obj.metadata?.uid ?? "", { job: g.obj, deletedAt: g.deletedAt });
  for (const j of input.jobs) if (owned(j)) jobsByUid.set(j.metadata?.uid ?? "", { job: j, deletedAt: undefined });
  for (const { job, deletedAt } of jobsByUid.values()) {
    const lane = laneFor(job.metadata?.name ?? "", job.metadata?.labels?.[Labels.ReplicatedJobName] ?? "");
    const { spans, markers } = jobSpans(job, horizon, deletedAt);
    lane.spans.push(...spans);
    lane.markers.push(...markers);
  }

  // Events: the JobSet's own on its lane; the Jobs' on theirs (by UID, else by name).
  const jsLane: Lane = { key: "jobset", kind: "jobset", name, rjob: "", job: "", spans: [], markers: [] };
  const prefix = `${name}-`;
  const rjobOfName = (jobName: string) =>
    [...rjobOrder].sort((a, b) => b.length - a.length).find((r) => jobName.startsWith(`${prefix}${r}-`)) ?? "";
  // Jobs gone before we watched: rebuilt from their events, one pseudo-object per UID.
  const unknownJobs = new Map<
    string,
    { name: string; first: number; last: number; failedAt?: number; reason?: string }
  >();
  for (const e of input.events) {
    const t = eventTime(e);
    if (t === undefined) continue;
    const r = e.regarding;
    if (r?.kind === "JobSet" && (r.uid === uid || (!r.uid && r.name === name))) {
      jsLane.markers.push(eventMarker(e, t));
      continue;
    }
    if (r?.kind !== "Job" || !r.name) continue;
    const known = r.uid ? jobsByUid.get(r.uid) : undefined;
    if (!known && !(r.name.startsWith(prefix) && rjobOfName(r.name))) continue;
    if (known && !owned(known.job)) continue;
    const lane = laneFor(r.name, known?.job.metadata?.labels?.[Labels.ReplicatedJobName] ?? rjobOfName(r.name));
    lane.markers.push(eventMarker(e, t));
    if (!known && r.uid) {
      const u = unknownJobs.get(r.uid) ?? { name: r.name, first: t, last: t };
      u.first = Math.min(u.first, t);
      u.last = Math.max(u.last, t);
      if (JobFailedReasons.has(e.reason ?? "")) {
        u.failedAt = t;
        u.reason = e.reason ?? "";
      }
      unknownJobs.set(r.uid, u);
    }
  }
  for (const u of unknownJobs.values()) {
    const lane = laneFor(u.name, rjobOfName(u.name));
    push(lane.spans, "running", u.first, u.failedAt ?? u.last, -1);
    if (u.failedAt !== undefined) {
      push(lane.spans, "failed", u.failedAt, u.last, -1);
      lane.markers.push({ time: u.failedAt, kind: "failure", label: `${u.name} failed: ${u.reason}` });
    }
  }

  // The JobSet's conditions (their last transitions) on its lane.
  for (const c of js.status?.conditions ?? []) {
    const t = ms(c.lastTransitionTime);
    if (t === undefined) continue;
    const failedOrDone =
      c.status === "True" && (c.type === ConditionTypes.Failed || c.type === ConditionTypes.Completed);
    jsLane.markers.push({
      time: t,
      kind: failedOrDone ? (c.type === ConditionTypes.Failed ? "failure" : "success") : "condition",
      label: `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${c.message}` : ""}`,
    });
  }

  // Pod lanes, grouped by their Job's name.
  const jobNameOfPod = (p: Pod): string => {
    const owner = (p.metadata?.ownerReferences ?? []).find((r) => r.kind === "Job");
    return owner?.name ?? p.metadata?.labels?.["job-name"] ?? "";
  };
  const pods: Record<string, Lane[]> = {};
  const podSeen = new Set<string>();
  const addPod = (p: Pod, deletedAt?: number) => {
    const key = p.metadata?.uid ?? p.metadata?.name ?? "";
    if (podSeen.has(key)) return;
    podSeen.add(key);
    const job = jobNameOfPod(p);
    const list = pods[job] ?? [];
    pods[job] = list;
    const podName = p.metadata?.name ?? "";
    let lane = list.find((l) => l.name === podName);
    if (!lane) {
      lane = {
        key: `pod/${podName}`,
        kind: "pod",
        name: podName,
        rjob: p.metadata?.labels?.[Labels.ReplicatedJobName] ?? "",
        job,
        spans: [],
        markers: [],
      };
      list.push(lane);
    }
    lane.spans.push(...podSpans(p, horizon, deletedAt));
  };
  for (const p of input.pods) addPod(p);
  for (const g of input.gonePods ?? []) addPod(g.obj, g.deletedAt);
  for (const list of Object.values(pods)) list.sort((a, b) => numeric(a.name, b.name));

  // Restart attempts: from the first Job of an attempt to the first Job of the next one.
  const attemptStart = new Map<number, number>();
  for (const l of lanes.values())
    for (const s of l.spans)
      if (s.attempt >= 0) attemptStart.set(s.attempt, Math.min(attemptStart.get(s.attempt) ?? s.start, s.start));
  const restarts = js.status?.restarts ?? 0;
  if (!attemptStart.has(restarts) && restarts > 0 && attemptStart.size > 0) {
    // Jobs of the current attempt not created yet: the attempt began when the previous one's Jobs went.
    const prev = [...lanes.values()].flatMap((l) => l.spans).filter((s) => s.attempt === restarts - 1);
    if (prev.length > 0) attemptStart.set(restarts, Math.max(...prev.map((s) => s.end)));
  }
  // Spans rebuilt from events have no attempt label: number them by order on their lane.
  for (const l of lanes.values()) {
    const unknown = l.spans.filter((s) => s.attempt < 0).sort((a, b) => a.start - b.start);
    for (const s of unknown) {
      const before = [...attemptStart.entries()].filter(([, t]) => t > s.start).map(([a]) => a);
      s.attempt = before.length > 0 ? Math.max(0, Math.min(...before) - 1) : 0;
      if (!attemptStart.has(s.attempt) || (attemptStart.get(s.attempt) ?? 0) > s.start)
        attemptStart.set(s.attempt, s.start);
    }
  }
  const attempts = [...attemptStart.entries()].sort((a, b) => a[0] - b[0]);
  const bands: Band[] = attempts.map(([attempt, start], i) => {
    const next = attempts[i + 1];
    const end = next ? next[1] : (finishedAt ?? now);
    return { attempt, start, end: Math.max(start, end), open: !next && finishedAt === undefined };
  });

  const jobLanes = [...lanes.values()].sort((a, b) => {
    const ra = rjobOrder.indexOf(a.rjob);
    const rb = rjobOrder.indexOf(b.rjob);
    return ra !== rb ? ra - rb : numeric(a.name, b.name);
  });
  for (const l of [jsLane, ...jobLanes]) {
    l.spans.sort((a, b) => a.start - b.start);
    l.markers.sort((a, b) => a.time - b.time);
  }
  // The JobSet runs from its creation until it finished (its Completed/Failed marker says how).
  jsLane.spans.push({
    start: created,
    end: finishedAt ?? now,
    state: js.spec?.suspend ? "suspended" : "running",
    attempt: restarts,
    open: finishedAt === undefined,
  });

  const times = [
    created,
    ...jobLanes.flatMap((l) => l.spans.map((s) => s.start)),
    ...jsLane.markers.map((m) => m.time),
  ];
  const ends = [
    finishedAt ?? now,
    ...jobLanes.flatMap((l) => [...l.spans.map((s) => s.end), ...l.markers.map((m) => m.time)]),
  ];
  return {
    start: Math.min(...times),
    end: Math.max(...ends, Math.min(...times) + 1000),
    lanes: [jsLane, ...jobLanes],
    pods,
    bands,
  };
}
