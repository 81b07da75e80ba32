// Pure rendering for the read-side commands (get, describe, tree, logs) and the live view of `jobset
// run`: kubectl-style tables and ages, a view model of a JobSet with its Jobs, pods and events, the
// tree of replicated jobs → Jobs → pods, a progress bar, and the lines that describe what changed
// between two views (the append-only output when stdout is not a terminal). No I/O, no clock: every
// function takes `now` (ms since the epoch) when it needs one.

import { ConditionTypes, Labels } from "../api/constants.ts";
import type { Event, Job, Pod } from "../api/k8s.ts";
import type { JobSet, JobSetCondition } from "../api/types.ts";

// ---------------------------------------------------------------------------------------------- ages and tables

/** kubectl's age format (apimachinery `duration.HumanDuration`). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** The age of a timestamp as kubectl prints it (`<unknown>` when absent or unparsable). */
export function age(timestamp: string | undefined, now: number): string {
  if (!timestamp) return "<unknown>";
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return "<unknown>";
  return humanDuration(now - t);
}

/** kubectl's table layout: every column but the last padded to its widest cell plus 3 spaces. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) =>
    headers
      .map((_, i) => {
        const cell = r[i] ?? "";
        return i === headers.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3);
      })
      .join("")
      .trimEnd(),
  );
}

// ---------------------------------------------------------------------------------------------- get

const condition = (js: JobSet, type: string): JobSetCondition | undefined =>
  js.status?.conditions?.find((c) => c.type === type);

/** The CRD's printer columns (spec §1.1), as the API server's table converter fills them. */
export const PrinterColumns = ["NAME", "TERMINALSTATE", "RESTARTS", "COMPLETED", "SUSPENDED", "AGE"] as const;
/** Extra columns of `-o wide` (ours; the CRD has no priority>0 columns). */
export const WideColumns = ["REPLICATEDJOBS", "JOBS", "READY", "SUCCEEDED", "FAILED"] as const;

export function jobSetRow(js: JobSet, now: number, wide = false): string[] {
  const st = js.status;
  const row = [
    js.metadata?.name ?? "",
    st?.terminalState ?? "",
    st?.restarts === undefined ? "" : String(st.restarts),
    condition(js, ConditionTypes.Completed)?.status ?? "",
    js.spec?.suspend === undefined ? "" : String(js.spec.suspend),
    age(js.metadata?.creationTimestamp, now),
  ];
  if (!wide) return row;
  const rjobs = js.spec?.replicatedJobs ?? [];
  const sum = (k: "ready" | "succeeded" | "failed") =>
    (st?.replicatedJobsStatus ?? []).reduce((n, r) => n + (r[k] ?? 0), 0);
  const totalJobs = rjobs.reduce((n, r) => n + (r.replicas ?? 1), 0);
  return [
    ...row,
    rjobs.map((r) => r.name).join(",") || "<none>",
    String(totalJobs),
    String(sum("ready")),
    String(sum("succeeded")),
    String(sum("failed")),
  ];
}

/** The `jobset get` table (with a NAMESPACE column first for `-A`). */
export function getTable(items: readonly JobSet[], now: number, o: { allNamespaces?: boolean; wide?: boolean } = {}) {
  const headers: string[] = [...PrinterColumns, ...(o.wide ? WideColumns : [])];
  const rows = items.map((js) => jobSetRow(js, now, o.wide));
  if (o.allNamespaces) {
    headers.unshift("NAMESPACE");
    rows.forEach((r, i) => {
      r.unshift(items[i]?.metadata?.namespace ?? "");
    });
  }
  return formatTable(headers, rows);
}

// ---------------------------------------------------------------------------------------------- the view model

export type JobPhase = "Pending" | "Running" | "Suspended" | "Completing" | "Failing" | "Complete" | "Failed";

export interface PodView {
  name: string;
  phase: string;
  restarts: number;
  node: string;
  /** Reason of a waiting/terminated container or of the pod (e.g. Error, Completed). */
  reason: string;
  terminating: boolean;
}

export interface JobView {
  name: string;
  uid: string;
  phase: JobPhase;
  /** Reason of the Failed condition (BackoffLimitExceeded, ...). */
  reason: string;
  active: number;
  succeeded: number;
  failed: number;
  restartAttempt: string;
  pods: PodView[];
}

export interface ReplicatedJobView {
  name: string;
  replicas: number;
  ready: number;
  succeeded: number;
  failed: number;
  active: number;
  suspended: number;
  jobs: JobView[];
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface EventView {
  key: string;
  time: number;
  type: string;
  reason: string;
  note: string;
  count: number;
}

export interface JobSetView {
  name: string;
  namespace: string;
  uid: string;
  /** Completed, Failed, Suspended, Restarting, Running or Pending. */
  state: string;
  terminalState: string;
  restarts: number;
  restartsCountTowardsMax: number;
  created: number;
  rjobs: ReplicatedJobView[];
  /** Pods expected per attempt (Σ replicas × completions) and how those of the current attempt fared. */
  progress: { total: number; succeeded: number; failed: number; running: number };
  /** Container restarts of the pods we see (all attempts). */
  podRestarts: number;
  conditions: ConditionView[];
  events: EventView[];
}

export interface Snapshot {
  jobset: JobSet;
  jobs: readonly Job[];
  pods: readonly Pod[];
  events: readonly Event[];
}

const isTrue = (j: Job, type: string) =>
  (j.status?.conditions ?? []).some((c) => c.type === type && c.status === "True");

export function jobPhase(j: Job): { phase: JobPhase; reason: string } {
  const failed = (j.status?.conditions ?? []).find((c) => c.type === "Failed" && c.status === "True");
  if (failed) return { phase: "Failed", reason: failed.reason ?? "" };
  if (isTrue(j, "Complete")) return { phase: "Complete", reason: "" };
  // The Job controller's interim conditions: terminal once its pods are accounted for.
  const failing = (j.status?.conditions ?? []).find((c) => c.type === "FailureTarget" && c.status === "True");
  if (failing) return { phase: "Failing", reason: failing.reason ?? "" };
  if (isTrue(j, "SuccessCriteriaMet")) return { phase: "Completing", reason: "" };
  if (j.spec?.suspend) return { phase: "Suspended", reason: "" };
  // A started Job whose pods are between states (e.g. succeeded, not yet counted) is still running.
  if ((j.status?.active ?? 0) > 0 || j.status?.startTime) return { phase: "Running", reason: "" };
  return { phase: "Pending", reason: "" };
}

export function podView(p: Pod): PodView {
  const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const restarts = (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  let reason = p.status?.reason ?? "";
  for (const c of statuses) {
    const r = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (r && r !== "Completed" && r !== "ContainerCreating") reason = r;
  }
  return {
    name: p.metadata?.name ?? "",
    phase: p.status?.phase ?? "Pending",
    restarts,
    node: p.spec?.nodeName ?? "",
    reason,
    terminating: p.metadata?.deletionTimestamp !== undefined,
  };
}

const ownerUid = (o: { metadata?: { ownerReferences?: { uid: string; controller?: boolean }[] } }) =>
  (o.metadata?.ownerReferences ?? []).find((r) => r.controller)?.uid ?? o.metadata?.ownerReferences?.[0]?.uid;

// One collator for every sort: localeCompare with options builds a new one per call (slow at 1,000 Jobs).
const numericOrder = new Intl.Collator("en", { numeric: true });
const byName = <T extends { name: string }>(a: T, b: T) => numericOrder.compare(a.name, b.name);

function eventTime(e: Event): number {
  const t =
    e.series?.lastObservedTime ??
    e.eventTime ??
    e.deprecatedLastTimestamp ??
    e.deprecatedFirstTimestamp ??
    e.metadata?.creationTimestamp;
  const ms = t ? Date.parse(String(t)) : Number.NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

export function eventView(e: Event): EventView {
  return {
    key: `${e.metadata?.name ?? ""}/${e.series?.count ?? e.deprecatedCount ?? 1}`,
    time: eventTime(e),
    type: e.type ?? "",
    reason: e.reason ?? "",
    note: e.note ?? "",
    count: e.series?.count ?? e.deprecatedCount ?? 1,
  };
}

/** Builds the view of a JobSet from its Jobs (owned by its UID), their pods and its events. */
export function buildView(s: Snapshot): JobSetView {
  const js = s.jobset;
  const uid = js.metadata?.uid ?? "";
  const restarts = js.status?.restarts ?? 0;
  const jobs = s.jobs.filter((j) => ownerUid(j) === uid || (uid === "" && ownerUid(j) === undefined));
  const podsByJob = new Map<string, Pod[]>();
  for (const p of s.pods) {
    const key = ownerUid(p) ?? "";
    const list = podsByJob.get(key) ?? [];
    list.push(p);
    podsByJob.set(key, list);
  }
  const statusOf = (name: string) => js.status?.replicatedJobsStatus?.find((r) => r.name === name);
  let total = 0;
  const rjobs: ReplicatedJobView[] = (js.spec?.replicatedJobs ?? []).map((r) => {
    const replicas = r.replicas ?? 1;
    const spec = r.template?.spec;
    total += replicas * (spec?.completions ?? spec?.parallelism ?? 1);
    const st = statusOf(r.name);
    const mine = jobs
      .filter((j) => j.metadata?.labels?.[Labels.ReplicatedJobName] === r.name)
      .map((j): JobView => {
        const { phase, reason } = jobPhase(j);
        return {
          name: j.metadata?.name ?? "",
          uid: j.metadata?.uid ?? "",
          phase,
          reason,
          active: j.status?.active ?? 0,
          succeeded: j.status?.succeeded ?? 0,
          failed: j.status?.failed ?? 0,
          restartAttempt: j.metadata?.labels?.[Labels.RestartAttempt] ?? "",
          pods: (podsByJob.get(j.metadata?.uid ?? "") ?? []).map(podView).sort(byName),
        };
      })
      .sort(byName);
    return {
      name: r.name,
      replicas,
      ready: st?.ready ?? 0,
      succeeded: st?.succeeded ?? 0,
      failed: st?.failed ?? 0,
      active: st?.active ?? 0,
      suspended: st?.suspended ?? 0,
      jobs: mine,
    };
  });
  const current = s.pods.filter((p) => {
    const a = p.metadata?.labels?.[Labels.RestartAttempt];
    return a === undefined || a === String(restarts);
  });
  const phases = current.map((p) => p.status?.phase ?? "Pending");
  const conditions = (js.status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
  }));
  return {
    name: js.metadata?.name ?? "",
    namespace: js.metadata?.namespace ?? "",
    uid,
    state: jobSetState(js),
    terminalState: js.status?.terminalState ?? "",
    restarts,
    restartsCountTowardsMax: js.status?.restartsCountTowardsMax ?? 0,
    created: js.metadata?.creationTimestamp ? Date.parse(js.metadata.creationTimestamp) : 0,
    rjobs,
    progress: {
      total,
      succeeded: Math.min(total, phases.filter((p) => p === "Succeeded").length),
      failed: phases.filter((p) => p === "Failed").length,
      running: phases.filter((p) => p === "Running").length,
    },
    podRestarts: s.pods.map(podView).reduce((n, p) => n + p.restarts, 0),
    conditions,
    events: s.events.map(eventView).sort((a, b) => a.time - b.time || a.key.localeCompare(b.key)),
  };
}

/** One word for where a JobSet is: its terminal state, else Suspended, Restarting, Running or Pending. */
export function jobSetState(js: JobSet): string {
  if (js.status?.terminalState) return js.status.terminalState;
  const c = (t: string) => condition(js, t)?.status === "True";
  if (c(ConditionTypes.Completed)) return "Completed";
  if (c(ConditionTypes.Failed)) return "Failed";
  if (js.spec?.suspend || c(ConditionTypes.Suspended)) return "Suspended";
  if (c(ConditionTypes.RestartingJobSet)) return "Restarting";
  const active = (js.status?.replicatedJobsStatus ?? []).some((r) => r.active > 0 || r.ready > 0 || r.succeeded > 0);
  return active ? "Running" : "Pending";
}

/** The finished state a JobSet ended in, or undefined while it runs. */
export function finished(js: JobSet): "Completed" | "Failed" | undefined {
  const s = jobSetState(js);
  return s === "Completed" || s === "Failed" ? s : undefined;
}

/** The condition that explains a finished JobSet (Completed or Failed, status True). */
export function finishCondition(js: JobSet): JobSetCondition | undefined {
  return (js.status?.conditions ?? []).find(
    (c) => (c.type === ConditionTypes.Failed || c.type === ConditionTypes.Completed) && c.status === "True",
  );
}

// ---------------------------------------------------------------------------------------------- tree

export interface Style {
  /** Colors a phase word (identity when colors are off). */
  phase(text: string, phase: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export const plainStyle: Style = { phase: (t) => t, dim: (t) => t, bold: (t) => t };

const ansi = (code: string) => (t: string) => `\x1b[${code}m${t}\x1b[0m`;
export const colorStyle: Style = {
  phase(t, phase) {
    switch (phase) {
      case "Succeeded":
      case "Complete":
      case "Completed":
        return ansi("32")(t);
      case "Failed":
        return ansi("31")(t);
      case "Running":
        return ansi("36")(t);
      case "Restarting":
      case "Terminating":
      case "Suspended":
        return ansi("33")(t);
      default:
        return ansi("2")(t);
    }
  },
  dim: ansi("2"),
  bold: ansi("1"),
};

function podLine(p: PodView, st: Style): string {
  const phase = p.terminating ? "Terminating" : p.phase;
  const extra = [
    p.reason && p.reason !== phase ? p.reason : "",
    p.restarts > 0 ? `restarts ${p.restarts}` : "",
    p.node ? st.dim(`on ${p.node}`) : "",
  ].filter((x) => x !== "");
  return `${p.name}  ${st.phase(phase, phase)}${extra.length > 0 ? `  ${extra.join("  ")}` : ""}`;
}

function jobLine(j: JobView, st: Style): string {
  const counts = `active ${j.active}, succeeded ${j.succeeded}, failed ${j.failed}`;
  const reason = j.reason ? ` (${j.reason})` : "";
  return `${j.name}  ${st.phase(j.phase, j.phase)}${reason}  ${st.dim(counts)}`;
}

function rjobLine(r: ReplicatedJobView, st: Style): string {
  const parts = [`${r.replicas} job${r.replicas === 1 ? "" : "s"}`];
  for (const [k, v] of [
    ["ready", r.ready],
    ["active", r.active],
    ["succeeded", r.succeeded],
    ["failed", r.failed],
    ["suspended", r.suspended],
  ] as const)
    if (v > 0) parts.push(`${v} ${k}`);
  return `${st.bold(r.name)}  ${st.dim(parts.join(", "))}`;
}

/** The hierarchy JobSet → replicated jobs → Jobs → pods, drawn with box characters. */
export function renderTree(v: JobSetView, st: Style = plainStyle, o: { maxPodsPerJob?: number } = {}): string[] {
  const lines = [`${st.bold(`JobSet ${v.namespace}/${v.name}`)}  ${st.phase(v.state, v.state)}`];
  const maxPods = o.maxPodsPerJob ?? Number.POSITIVE_INFINITY;
  v.rjobs.forEach((r, ri) => {
    const lastR = ri === v.rjobs.length - 1;
    lines.push(`${lastR ? "└─ " : "├─ "}${rjobLine(r, st)}`);
    const p1 = lastR ? "   " : "│  ";
    if (r.jobs.length === 0) lines.push(`${p1}└─ ${st.dim("(no jobs yet)")}`);
    r.jobs.forEach((j, ji) => {
      const lastJ = ji === r.jobs.length - 1;
      lines.push(`${p1}${lastJ ? "└─ " : "├─ "}${jobLine(j, st)}`);
      const p2 = `${p1}${lastJ ? "   " : "│  "}`;
      const shown = j.pods.slice(0, maxPods);
      const hidden = j.pods.length - shown.length;
      shown.forEach((p, pi) => {
        const lastP = pi === shown.length - 1 && hidden === 0;
        lines.push(`${p2}${lastP ? "└─ " : "├─ "}${podLine(p, st)}`);
      });
      if (hidden > 0) lines.push(`${p2}└─ ${st.dim(`… ${hidden} more pods`)}`);
    });
  });
  return lines;
}

// ---------------------------------------------------------------------------------------------- live view

export function progressBar(done: number, total: number, width = 30): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.round(frac * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
}

export function progressLine(v: JobSetView): string {
  const p = v.progress;
  const extra = [
    p.running > 0 ? `${p.running} running` : "",
    p.failed > 0 ? `${p.failed} failed` : "",
    `jobset restarts ${v.restarts}`,
    v.podRestarts > 0 ? `container restarts ${v.podRestarts}` : "",
  ].filter((x) => x !== "");
  return `${progressBar(p.succeeded, p.total)} ${p.succeeded}/${p.total} pods succeeded  ${extra.join(", ")}`;
}

function conditionLine(c: ConditionView): string {
  return `${c.type}=${c.status}  ${c.reason}: ${c.message}`;
}

function eventLine(e: EventView, now: number): string {
  const n = e.count > 1 ? ` (x${e.count})` : "";
  return `${humanDuration(now - e.time).padStart(4)}  ${e.type.padEnd(7)}  ${e.reason}: ${e.note}${n}`;
}

/** One full frame of the live view (redrawn in place on a terminal). */
export function renderFrame(
  v: JobSetView,
  now: number,
  o: { style?: Style; maxEvents?: number; maxPodsPerJob?: number; elapsedMs?: number } = {},
): string[] {
  const st = o.style ?? plainStyle;
  const lines = renderTree(v, st, { maxPodsPerJob: o.maxPodsPerJob });
  const elapsed = o.elapsedMs !== undefined ? `  ${st.dim(humanDuration(o.elapsedMs))}` : "";
  lines[0] = `${lines[0]}${elapsed}`;
  lines.push("", progressLine(v));
  if (v.conditions.length > 0) {
    lines.push("", st.bold("Conditions"));
    for (const c of v.conditions) lines.push(`  ${conditionLine(c)}`);
  }
  const evs = v.events.slice(-(o.maxEvents ?? 8));
  if (evs.length > 0) {
    lines.push("", st.bold("Events"));
    for (const e of evs) lines.push(`  ${eventLine(e, now)}`);
  }
  return lines;
}

/** Clips a frame to a terminal: at most `rows` lines of at most `columns` visible characters. */
export function clipFrame(lines: readonly string[], columns: number, rows: number): string[] {
  const out =
    lines.length > rows ? [...lines.slice(0, rows - 1), `… ${lines.length - rows + 1} more lines`] : [...lines];
  return out.map((l) => clipAnsi(l, columns));
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string) => s.replace(ANSI, "").length;

function clipAnsi(s: string, columns: number): string {
  if (visibleLength(s) <= columns) return s;
  let out = "";
  let n = 0;
  let i = 0;
  while (i < s.length && n < columns - 1) {
    if (s[i] === "\x1b") {
      const end = s.indexOf("m", i);
      out += s.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    out += s[i];
    n++;
    i++;
  }
  return `${out}…\x1b[0m`;
}

/**
 * What changed from `prev` to `next`, one line each (the append-only output of `jobset run` when
 * stdout is not a terminal): state, restarts, Job and pod phases, conditions, new events.
 */
export function changeLines(prev: JobSetView | undefined, next: JobSetView, now: number): string[] {
  const out: string[] = [];
  if (!prev || prev.state !== next.state) out.push(`jobset ${next.name}: ${next.state}`);
  if (prev && prev.restarts !== next.restarts) out.push(`jobset ${next.name}: restarts ${next.restarts}`);
  const prevJobs = new Map((prev?.rjobs ?? []).flatMap((r) => r.jobs).map((j) => [j.uid, j]));
  const prevPods = new Map((prev?.rjobs ?? []).flatMap((r) => r.jobs.flatMap((j) => j.pods)).map((p) => [p.name, p]));
  for (const r of next.rjobs)
    for (const j of r.jobs) {
      const pj = prevJobs.get(j.uid);
      if (!pj || pj.phase !== j.phase) out.push(`job ${j.name}: ${j.phase}${j.reason ? ` (${j.reason})` : ""}`);
      for (const p of j.pods) {
        const pp = prevPods.get(p.name);
        const phase = p.terminating ? "Terminating" : p.phase;
        const prevPhase = pp ? (pp.terminating ? "Terminating" : pp.phase) : undefined;
        if (phase !== prevPhase || (pp && pp.restarts !== p.restarts)) {
          const extra = [
            p.reason && p.reason !== phase ? p.reason : "",
            p.restarts > 0 ? `restarts ${p.restarts}` : "",
            p.node && !pp?.node ? `on ${p.node}` : "",
          ].filter((x) => x !== "");
          out.push(`pod ${p.name}: ${phase}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`);
        }
      }
    }
  const prevConds = new Map((prev?.conditions ?? []).map((c) => [c.type, c]));
  for (const c of next.conditions) {
    const pc = prevConds.get(c.type);
    if (!pc || pc.status !== c.status || pc.reason !== c.reason) out.push(`condition ${conditionLine(c)}`);
  }
  const seen = new Set((prev?.events ?? []).map((e) => e.key));
  for (const e of next.events) if (!seen.has(e.key)) out.push(`event ${eventLine(e, now).trim()}`);
  const pp = prev?.progress;
  const p = next.progress;
  if (!pp || pp.succeeded !== p.succeeded || pp.failed !== p.failed) out.push(progressLine(next));
  return out;
}

// ---------------------------------------------------------------------------------------------- describe

const indent = (n: number) => " ".repeat(n);

/** `Key:    value` at a depth, values aligned at column 24 as kubectl describe does. */
const kv = (k: string, val: string, d = 0) => `${indent(d)}${`${k}:`.padEnd(Math.max(24 - d, k.length + 2))}${val}`;

/** A table under a heading's indentation, or `<none>`. */
const tableOrNone = (pad: number, header: string[], rows: string[][]): string[] =>
  rows.length === 0 ? [`${indent(pad)}<none>`] : formatTable(header, rows).map((l) => `${indent(pad)}${l}`);

/** `jobset describe`: metadata, spec summary, status, conditions, child Jobs and events, in kubectl
 * describe's layout (one function per section below). */
export function renderDescribe(s: Snapshot, now: number): string[] {
  const v = buildView(s);
  return [
    ...describeMetadata(s.jobset, v, now),
    ...describeSpec(s.jobset),
    ...describeStatus(s.jobset, v),
    "Conditions:",
    ...tableOrNone(
      2,
      ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"],
      (s.jobset.status?.conditions ?? []).map((c) => [
        c.type,
        c.status,
        c.reason,
        age(c.lastTransitionTime, now),
        c.message,
      ]),
    ),
    "Jobs:",
    ...tableOrNone(
      2,
      ["NAME", "STATUS", "ACTIVE", "SUCCEEDED", "FAILED", "RESTART-ATTEMPT"],
      v.rjobs
        .flatMap((r) => r.jobs)
        .map((j) => [
          j.name,
          j.reason ? `${j.phase} (${j.reason})` : j.phase,
          String(j.active),
          String(j.succeeded),
          String(j.failed),
          j.restartAttempt || "-",
        ]),
    ),
    "Events:",
    ...describeEvents(s.events, now),
  ];
}

/** Name, namespace, labels, annotations (without kubectl's last-applied), UID, creation, state. */
function describeMetadata(js: JobSet, v: JobSetView, now: number): string[] {
  const m = js.metadata ?? {};
  const map = (o: Record<string, string> | undefined) => Object.entries(o ?? {}).map(([k, val]) => `${k}=${val}`);
  const labels = map(m.labels);
  const ann = map(m.annotations).filter((a) => !a.startsWith("kubectl.kubernetes.io/last-applied-configuration"));
  return [
    kv("Name", m.name ?? ""),
    kv("Namespace", m.namespace ?? ""),
    kv("Labels", labels[0] ?? "<none>"),
    ...labels.slice(1).map((l) => `${indent(24)}${l}`),
    kv("Annotations", ann[0] ?? "<none>"),
    ...ann.slice(1).map((l) => `${indent(24)}${l}`),
    kv("UID", m.uid ?? ""),
    kv("Created", `${m.creationTimestamp ?? "<unknown>"} (${age(m.creationTimestamp, now)} ago)`),
    kv("State", v.state),
  ];
}

/** The policies that are set, one line each (failure rules below their policy), then the replicated jobs. */
function describeSpec(js: JobSet): string[] {
  const spec = js.spec ?? {};
  const lines = ["Spec:", kv("Suspend", String(spec.suspend ?? false), 2)];
  if (spec.startupPolicy) lines.push(kv("Startup Policy", spec.startupPolicy.startupPolicyOrder ?? "AnyOrder", 2));
  const sp = spec.successPolicy;
  if (sp) {
    const targets = sp.targetReplicatedJobs?.length ? ` of ${sp.targetReplicatedJobs.join(", ")}` : " of all";
    lines.push(kv("Success Policy", `${sp.operator}${targets}`, 2));
  }
  const fp = spec.failurePolicy;
  if (fp) {
    lines.push(
      kv(
        "Failure Policy",
        `maxRestarts ${fp.maxRestarts ?? 0}, restartStrategy ${fp.restartStrategy ?? "Recreate"}, ${fp.rules?.length ?? 0} rule(s)`,
        2,
      ),
    );
    for (const r of fp.rules ?? [])
      lines.push(
        `${indent(26)}${r.name}: ${r.action}${r.onJobFailureReasons?.length ? ` on ${r.onJobFailureReasons.join(",")}` : ""}${r.targetReplicatedJobs?.length ? ` for ${r.targetReplicatedJobs.join(",")}` : ""}`,
      );
  }
  const n = spec.network;
  if (n)
    lines.push(
      kv(
        "Network",
        `enableDNSHostnames ${n.enableDNSHostnames ?? true}, subdomain ${n.subdomain || js.metadata?.name || ""}, publishNotReadyAddresses ${n.publishNotReadyAddresses ?? true}`,
        2,
      ),
    );
  const c = spec.coordinator;
  if (c) lines.push(kv("Coordinator", `${c.replicatedJob} job ${c.jobIndex ?? 0} pod ${c.podIndex ?? 0}`, 2));
  if (spec.ttlSecondsAfterFinished !== undefined)
    lines.push(kv("TTL After Finished", `${spec.ttlSecondsAfterFinished}s`, 2));
  if (spec.managedBy) lines.push(kv("Managed By", spec.managedBy, 2));
  const rows = (spec.replicatedJobs ?? []).map((r) => {
    const job = r.template?.spec;
    const deps = (r.dependsOn ?? []).map((d) => `${d.name}=${d.status}`).join(",");
    return [
      r.name,
      String(r.replicas ?? 1),
      String(job?.parallelism ?? 1),
      String(job?.completions ?? job?.parallelism ?? 1),
      job?.completionMode ?? "NonIndexed",
      deps || "-",
    ];
  });
  lines.push("  Replicated Jobs:");
  for (const l of formatTable(["NAME", "REPLICAS", "PARALLELISM", "COMPLETIONS", "MODE", "DEPENDSON"], rows))
    lines.push(`    ${l}`);
  return lines;
}

/** Terminal state, restarts, and the replicated jobs' counts from status. */
function describeStatus(js: JobSet, v: JobSetView): string[] {
  return [
    "Status:",
    kv("Terminal State", v.terminalState || "<none>", 2),
    kv("Restarts", String(v.restarts), 2),
    kv("Restarts Toward Max", String(v.restartsCountTowardsMax), 2),
    "  Replicated Jobs Status:",
    ...tableOrNone(
      4,
      ["NAME", "READY", "ACTIVE", "SUCCEEDED", "FAILED", "SUSPENDED"],
      (js.status?.replicatedJobsStatus ?? []).map((r) => [
        r.name,
        String(r.ready),
        String(r.active),
        String(r.succeeded),
        String(r.failed),
        String(r.suspended),
      ]),
    ),
  ];
}

/** Events, oldest first, with their age (and count when repeated). */
function describeEvents(events: readonly Event[], now: number): string[] {
  return tableOrNone(
    2,
    ["TYPE", "REASON", "AGE", "FROM", "MESSAGE"],
    [...events]
      .sort((a, b) => eventTime(a) - eventTime(b))
      .map((e) => {
        const ev = eventView(e);
        return [
          ev.type,
          ev.reason,
          ev.count > 1 ? `${humanDuration(now - ev.time)} (x${ev.count})` : humanDuration(now - ev.time),
          e.reportingController ?? e.deprecatedSource?.component ?? "",
          ev.note,
        ];
      }),
  );
}
