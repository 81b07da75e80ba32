// What the UI's browser code receives, built from API objects by pure functions: the rows of the JobSet
// list, and a JobSet page (the `jobset tree` view model of src/cli/render.ts, the timeline, the
// conditions and events). No I/O, no clock: `now` comes in.
import type { Event, Job, Pod } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import { age, buildView, finishCondition, type JobSetView, jobSetState } from "../cli/render.ts";
import { buildTimeline, type Gone, type Timeline } from "./timeline.ts";

const numericOrder = new Intl.Collator("en", { numeric: true });

export interface JobSetRow {
  namespace: string;
  name: string;
  uid: string;
  /** Completed, Failed, Suspended, Restarting, Running or Pending. */
  state: string;
  restarts: number;
  suspended: boolean;
  /** Σ replicas over replicated jobs, and how many of those Jobs are ready / succeeded / failed. */
  jobs: number;
  ready: number;
  succeeded: number;
  failed: number;
  created: number;
  age: string;
  /** The Completed/Failed condition's message, when finished. */
  message: string;
}

export function jobSetRow(js: JobSet, now: number): JobSetRow {
  const rjs = js.status?.replicatedJobsStatus ?? [];
  const sum = (k: "ready" | "succeeded" | "failed") => rjs.reduce((n, r) => n + (r[k] ?? 0), 0);
  const created = js.metadata?.creationTimestamp ? Date.parse(js.metadata.creationTimestamp) : 0;
  return {
    namespace: js.metadata?.namespace ?? "",
    name: js.metadata?.name ?? "",
    uid: js.metadata?.uid ?? "",
    state: jobSetState(js),
    restarts: js.status?.restarts ?? 0,
    suspended: js.spec?.suspend === true,
    jobs: (js.spec?.replicatedJobs ?? []).reduce((n, r) => n + (r.replicas ?? 1), 0),
    ready: sum("ready"),
    succeeded: sum("succeeded"),
    failed: sum("failed"),
    created: Number.isNaN(created) ? 0 : created,
    age: age(js.metadata?.creationTimestamp, now),
    message: finishCondition(js)?.message ?? "",
  };
}

/** Rows sorted by namespace, then name (numeric-aware). */
export function listRows(items: readonly JobSet[], now: number): JobSetRow[] {
  return items
    .map((js) => jobSetRow(js, now))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || numericOrder.compare(a.name, b.name));
}

export interface PageInput {
  jobset: JobSet;
  jobs: readonly Job[];
  pods: readonly Pod[];
  goneJobs: readonly Gone<Job>[];
  gonePods: readonly Gone<Pod>[];
  events: readonly Event[];
  now: number;
}

export interface Page {
  row: JobSetRow;
  view: JobSetView;
  timeline: Timeline;
  now: number;
  /** Containers of each current pod (init containers first), for the log viewer. */
  containers: Record<string, string[]>;
}

export function buildPage(p: PageInput): Page {
  const uid = p.jobset.metadata?.uid ?? "";
  const mine = (o: { metadata?: { ownerReferences?: { uid: string }[] } }) =>
    (o.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);
  const jobs = p.jobs.filter(mine);
  const jobUids = new Set(jobs.map((j) => j.metadata?.uid ?? ""));
  const pods = p.pods.filter((pod) => (pod.metadata?.ownerReferences ?? []).some((r) => jobUids.has(r.uid)));
  const jsEvents = p.events.filter((e) => e.regarding?.kind === "JobSet" && e.regarding.uid === uid);
  const containers: Record<string, string[]> = {};
  for (const pod of pods)
    containers[pod.metadata?.name ?? ""] = [
      ...(pod.spec?.initContainers ?? []).map((c) => c.name),
      ...(pod.spec?.containers ?? []).map((c) => c.name),
    ];
  return {
    row: jobSetRow(p.jobset, p.now),
    view: buildView({ jobset: p.jobset, jobs, pods, events: jsEvents }),
    timeline: buildTimeline({
      jobset: p.jobset,
      jobs,
      pods,
      goneJobs: p.goneJobs,
      gonePods: p.gonePods,
      events: p.events,
      now: p.now,
    }),
    now: p.now,
    containers,
  };
}
