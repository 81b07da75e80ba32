// The fake kubelet's simulate runtime: how long a pod "runs", when its containers become ready and
// which exit code each container ends with, all read from annotations on the pod (set them on the
// JobSet's pod template so they reach every pod). Pure: no I/O. The convention is documented in
// docs/fake-kubelet.md.
import type { Container, Pod } from "../api/k8s.ts";

export const SimPrefix = "fake.jobset.x-k8s.io/";

export const SimAnnotations = {
  /** How long each run of a container lasts: a Go-style duration ("1.5s", "2m", "500ms"), or "forever". */
  Duration: `${SimPrefix}duration`,
  /** `duration-index-<i>`: the duration for the pod with completion index i (overrides `duration`). */
  DurationIndexPrefix: `${SimPrefix}duration-index-`,
  /** The exit code of the pod's containers (default 0). */
  ExitCode: `${SimPrefix}exit-code`,
  /** `exit-code-index-<i>`: the exit code for the pod with completion index i. */
  ExitCodeIndexPrefix: `${SimPrefix}exit-code-index-`,
  /** Completion indexes whose pods fail, with `fail-exit-code`: "1,3,5-7". */
  FailIndexes: `${SimPrefix}fail-indexes`,
  /** The exit code of injected failures (default 1). */
  FailExitCode: `${SimPrefix}fail-exit-code`,
  /** Failures happen only while the pod's JobSet restart attempt label is below N; from then on, exit 0. */
  FailUntilRestart: `${SimPrefix}fail-until-restart`,
  /** Failures happen only while the container's restartCount is below N (restartPolicy OnFailure). */
  FailUntilRestartCount: `${SimPrefix}fail-until-restart-count`,
  /** Only this container fails; the pod's other containers exit 0. */
  FailContainer: `${SimPrefix}fail-container`,
  /** Containers become ready this long after they start (overrides readiness probes' initialDelaySeconds). */
  ReadyAfter: `${SimPrefix}ready-after`,
} as const;

/** The JobSet restart-attempt label (jobset.sigs.k8s.io/restart-attempt) and the Job's completion index. */
const RestartAttemptLabel = "jobset.sigs.k8s.io/restart-attempt";
const CompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";

const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go duration ("1h2m3.5s", "250ms") into milliseconds; a bare number means seconds;
 * "forever", "never" and "inf" give Infinity. Returns undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (/^(forever|never|inf|infinity)$/i.test(s)) return Number.POSITIVE_INFINITY;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * (units[m[2] ?? ""] ?? 0);
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : total;
}

/** Parses "1,3,5-7" into {1,3,5,6,7}. Returns undefined on malformed input. */
export function parseIndexSet(text: string): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const p = part.trim();
    if (p === "") continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 100_000) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

function parseExitCode(text: string): number | undefined {
  const s = text.trim();
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 255 ? n : undefined;
}

function parseCount(text: string): number | undefined {
  const s = text.trim();
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

export interface SimDefaults {
  /** Duration of a container run when the pod says nothing (default 1000 ms). */
  defaultDurationMs?: number;
  /** Containers run until the pod is deleted (or completePod) when the pod says nothing. */
  runForever?: boolean;
}

export interface SimPlan {
  /** How long each container run lasts, in ms; Infinity: until the pod is deleted. */
  durationMs: number;
  /** Pod-level readiness delay from the ready-after annotation, if any. */
  readyAfterMs: number | undefined;
  /** The exit code of `container`'s run number `restartCount` (0-based). */
  exitCode(container: string, restartCount: number): number;
  /** Annotation values that could not be parsed (the default was used instead). */
  warnings: string[];
}

/** The completion index of a Job pod, from the Job controller's annotation (or the same-named label). */
export function completionIndex(pod: Pod): number | undefined {
  const raw =
    pod.metadata?.annotations?.[CompletionIndexAnnotation] ?? pod.metadata?.labels?.[CompletionIndexAnnotation];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** The JobSet restart attempt of a pod (0 when the label is missing). */
export function restartAttempt(pod: Pod): number {
  const raw = pod.metadata?.labels?.[RestartAttemptLabel];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0;
}

/**
 * Reads the simulation plan of a pod. Precedence of the pod's exit code: `exit-code-index-<i>`,
 * then `fail-indexes` (→ `fail-exit-code`), then `exit-code`, then 0. `fail-until-restart` and
 * `fail-until-restart-count` gate every failure; without `exit-code` or an index selector they make
 * every pod fail with `fail-exit-code` until the gate opens.
 */
export function simPlan(pod: Pod, defaults: SimDefaults = {}): SimPlan {
  const ann = pod.metadata?.annotations ?? {};
  const warnings: string[] = [];
  const get = <T>(key: string, parse: (s: string) => T | undefined): T | undefined => {
    const raw = ann[key];
    if (raw === undefined) return undefined;
    const v = parse(raw);
    if (v === undefined) warnings.push(`${key}: cannot parse ${JSON.stringify(raw)}`);
    return v;
  };
  const idx = completionIndex(pod);
  const attempt = restartAttempt(pod);

  const fallback = defaults.runForever ? Number.POSITIVE_INFINITY : (defaults.defaultDurationMs ?? 1000);
  const durationMs =
    (idx !== undefined ? get(`${SimAnnotations.DurationIndexPrefix}${idx}`, parseDuration) : undefined) ??
    get(SimAnnotations.Duration, parseDuration) ??
    fallback;
  const readyAfterMs = get(SimAnnotations.ReadyAfter, parseDuration);

  const failCode = get(SimAnnotations.FailExitCode, parseExitCode) ?? 1;
  const failIndexes = get(SimAnnotations.FailIndexes, parseIndexSet);
  const hasIndexSelector =
    failIndexes !== undefined || Object.keys(ann).some((k) => k.startsWith(SimAnnotations.ExitCodeIndexPrefix));
  let code: number | undefined;
  if (idx !== undefined) code = get(`${SimAnnotations.ExitCodeIndexPrefix}${idx}`, parseExitCode);
  if (code === undefined && idx !== undefined && failIndexes?.has(idx)) code = failCode;
  if (code === undefined) code = get(SimAnnotations.ExitCode, parseExitCode);

  const untilRestart = get(SimAnnotations.FailUntilRestart, parseCount);
  const untilCount = get(SimAnnotations.FailUntilRestartCount, parseCount);
  const gated = untilRestart !== undefined || untilCount !== undefined;
  if (code === undefined && gated && !hasIndexSelector) code = failCode;
  if (untilRestart !== undefined && attempt >= untilRestart) code = 0;
  const podCode = code ?? 0;
  const failContainer = ann[SimAnnotations.FailContainer];

  return {
    durationMs,
    readyAfterMs,
    warnings,
    exitCode(container: string, restartCount: number): number {
      if (podCode === 0) return 0;
      if (failContainer !== undefined && failContainer !== container) return 0;
      if (untilCount !== undefined && restartCount >= untilCount) return 0;
      return podCode;
    },
  };
}

/** How long after it starts a container becomes ready in simulate mode (0: at once). */
export function simReadyDelayMs(container: Container, plan: Pick<SimPlan, "readyAfterMs">): number {
  if (plan.readyAfterMs !== undefined) return plan.readyAfterMs;
  const probe = container.readinessProbe;
  if (!probe) return 0;
  return (probe.initialDelaySeconds ?? 0) * 1000;
}
