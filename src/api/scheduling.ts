// spec.scheduling compiled into scheduling groups: which pods of the JobSet form one PodGroup, under
// which names, with which policy and minCount. Pure and shared by the validating webhook
// (scheduling-validation.ts: template cap, minCount bound, one priority class / scheduler per group)
// and the controller (controller/scheduling.ts: the Workload, PodGroup and Job linkage it builds).
//
// Modes (docs/gang-scheduling.md):
//   top level        no `replicatedJobs` entries and no sequenced startup: one group for the whole JobSet,
//                    named like the Workload;
//   sequenced        top level with dependsOn or InOrder startup: one group per ReplicatedJob (the pods of
//                    later ReplicatedJobs do not exist yet, so one gang over all of them could never fill);
//   per entry        each `replicatedJobs` entry is one group over its targets;
//   per Job          an entry with `job` gives one group per Job (replica) of its single target.
import { hash } from "node:crypto";
import type {
  DisruptionMode,
  JobSet,
  JobSetScheduling,
  PodGroupResourceClaim,
  ReplicatedJob,
  SchedulingConstraints,
  SchedulingPolicy,
} from "./types.ts";

/** A Workload holds at most this many PodGroup templates (k8s.io/api scheduling/v1alpha2). */
export const MaxPodGroupTemplates = 8;
const MaxNameLength = 63;

/** `h(x)`: the first 10 hex characters of sha1(x). */
export function shortHash(x: string): string {
  return hash("sha1", x, "hex").slice(0, 10);
}

/** `<prefix>-<h(identity)>`, the prefix cut so that the whole stays within 63 characters. */
export function hashedName(prefix: string, identity: string): string {
  const suffix = `-${shortHash(identity)}`;
  const full = `${prefix}${suffix}`;
  if (full.length <= MaxNameLength) return full;
  return `${prefix.slice(0, MaxNameLength - suffix.length).replace(/[-.]+$/, "")}${suffix}`;
}

const nameOf = (js: JobSet) => js.metadata?.name ?? "";
const namespaceOf = (js: JobSet) => js.metadata?.namespace ?? "";

/** Name of the JobSet's Workload: `<js>-h("JobSet/<ns>/<js>")`. */
export function workloadName(js: JobSet): string {
  return hashedName(nameOf(js), `JobSet/${namespaceOf(js)}/${nameOf(js)}`);
}

/** One PodGroup (and its template in the Workload). */
export interface SchedulingGroup {
  /** Name of the PodGroup template inside the Workload (also the Job annotation value). */
  templateName: string;
  /** Name of the PodGroup object (the pods' `schedulingGroup.podGroupName`). */
  podGroupName: string;
  /** ReplicatedJobs whose pods belong to the group (spec order). */
  replicatedJobs: string[];
  /** Per-Job mode: the one Job index of `replicatedJobs[0]` the group covers. */
  jobIndex?: number;
  /** Effective policy: `basic` or `gang` (absent policy → gang). */
  policy: "basic" | "gang";
  /** Gang: the explicit `minCount` (> 0), undefined when the controller computes it. */
  explicitMinCount?: number;
  /** Number of pods the group covers (Σ replicas × pods per Job, or one Job's pods). */
  pods: number;
  constraints?: SchedulingConstraints;
  disruptionMode?: DisruptionMode;
  resourceClaims?: PodGroupResourceClaim[];
  /** Field path of the configuration the group comes from, for error messages. */
  path: string;
}

/**
 * Gang minCount sent to the API server: the explicit value, else every pod of the group (at least 1,
 * the API server's minimum: a group of 0 pods has nothing to hold back anyway).
 */
export function minCountOf(g: SchedulingGroup): number {
  return g.explicitMinCount ?? Math.max(1, g.pods);
}

export function replicasOf(rjob: ReplicatedJob): number {
  return rjob.replicas ?? 1;
}

/** Pods one Job of the rjob runs at once: parallelism (default 1), at most completions when set. */
export function podsPerJob(rjob: ReplicatedJob): number {
  const spec = rjob.template?.spec;
  const parallelism = spec?.parallelism ?? 1;
  const completions = spec?.completions;
  return completions != null ? Math.min(parallelism, completions) : parallelism;
}

/** Whether Jobs start in sequence (dependsOn anywhere or InOrder startup). */
export function sequencedStartup(js: JobSet): boolean {
  if (js.spec?.startupPolicy?.startupPolicyOrder === "InOrder") return true;
  return (js.spec?.replicatedJobs ?? []).some((r) => r.dependsOn != null && r.dependsOn.length > 0);
}

/** Whether the top-level fields (rather than `replicatedJobs`) configure scheduling. */
export function topLevelMode(s: JobSetScheduling): boolean {
  return (s.replicatedJobs ?? []).length === 0;
}

const policyKind = (p: SchedulingPolicy | undefined): "basic" | "gang" => (p?.basic && !p.gang ? "basic" : "gang");
const explicitMin = (p: SchedulingPolicy | undefined): number | undefined => {
  const m = p?.gang?.minCount;
  return m != null && m > 0 ? m : undefined;
};

/**
 * The groups `spec.scheduling` asks for, in a stable order (spec order of ReplicatedJobs and entries).
 * Entries naming unknown ReplicatedJobs are skipped (validation reports them); undefined when the
 * JobSet has no `spec.scheduling`.
 */
export function schedulingGroups(js: JobSet): SchedulingGroup[] | undefined {
  const s = js.spec?.scheduling;
  if (s == null) return undefined;
  const rjobs = js.spec?.replicatedJobs ?? [];
  const byName = new Map(rjobs.map((r) => [r.name, r] as const));
  const ns = namespaceOf(js);
  const jsName = nameOf(js);
  const podGroupFor = (templatePrefix: string, identity: string) => ({
    templateName: hashedName(templatePrefix, identity),
    podGroupName: hashedName(`${jsName}-${templatePrefix}`, identity),
  });
  const common = (x: {
    schedulingConstraints?: SchedulingConstraints;
    disruptionMode?: DisruptionMode;
    resourceClaims?: PodGroupResourceClaim[];
  }) => {
    const out: Pick<SchedulingGroup, "constraints" | "disruptionMode" | "resourceClaims"> = {};
    if (x.schedulingConstraints) out.constraints = x.schedulingConstraints;
    if (x.disruptionMode) out.disruptionMode = x.disruptionMode;
    if (x.resourceClaims && x.resourceClaims.length > 0) out.resourceClaims = x.resourceClaims;
    return out;
  };
  const rjobPods = (r: ReplicatedJob) => replicasOf(r) * podsPerJob(r);

  if (topLevelMode(s)) {
    if (!sequencedStartup(js)) {
      const wl = workloadName(js);
      const g: SchedulingGroup = {
        templateName: wl,
        podGroupName: wl,
        replicatedJobs: rjobs.map((r) => r.name),
        policy: policyKind(s.schedulingPolicy),
        pods: rjobs.reduce((n, r) => n + rjobPods(r), 0),
        path: "spec.scheduling",
        ...common(s),
      };
      const m = explicitMin(s.schedulingPolicy);
      if (m !== undefined && g.policy === "gang") g.explicitMinCount = m;
      return [g];
    }
    return rjobs.map((r) => ({
      ...podGroupFor(r.name, `ReplicatedJob/${ns}/${jsName}/${r.name}`),
      replicatedJobs: [r.name],
      policy: policyKind(s.schedulingPolicy),
      pods: rjobPods(r),
      path: "spec.scheduling",
      ...common(s),
    }));
  }

  const groups: SchedulingGroup[] = [];
  (s.replicatedJobs ?? []).forEach((entry, i) => {
    const path = `spec.scheduling.replicatedJobs[${i}]`;
    const targets = (entry.targetReplicatedJobs ?? []).filter((t) => byName.has(t));
    // Spec order of the targets, so that the group's name does not depend on how they are listed.
    const ordered = rjobs.map((r) => r.name).filter((n) => targets.includes(n));
    if (ordered.length === 0) return;
    if (entry.job) {
      const target = ordered[0] as string;
      const rjob = byName.get(target) as ReplicatedJob;
      for (let idx = 0; idx < replicasOf(rjob); idx++) {
        const g: SchedulingGroup = {
          ...podGroupFor(`${target}-${idx}`, `Job/${ns}/${jsName}/${target}/${idx}`),
          replicatedJobs: [target],
          jobIndex: idx,
          policy: policyKind(entry.job.schedulingPolicy),
          pods: podsPerJob(rjob),
          path: `${path}.job`,
          ...common(entry.job),
        };
        const m = explicitMin(entry.job.schedulingPolicy);
        if (m !== undefined && g.policy === "gang") g.explicitMinCount = m;
        groups.push(g);
      }
      return;
    }
    const identity =
      ordered.length === 1
        ? `ReplicatedJob/${ns}/${jsName}/${ordered[0]}`
        : `ReplicatedJobGroup/${ns}/${jsName}/${ordered.join(",")}`;
    const g: SchedulingGroup = {
      ...podGroupFor(ordered.join("-"), identity),
      replicatedJobs: ordered,
      policy: policyKind(entry.schedulingPolicy),
      pods: ordered.reduce((n, t) => n + rjobPods(byName.get(t) as ReplicatedJob), 0),
      path,
      ...common(entry),
    };
    const m = explicitMin(entry.schedulingPolicy);
    if (m !== undefined && g.policy === "gang") g.explicitMinCount = m;
    groups.push(g);
  });
  return groups;
}

/** The group a Job (rjob, index) belongs to, if any. */
export function groupOfJob(
  groups: readonly SchedulingGroup[],
  rjobName: string,
  jobIndex: number,
): SchedulingGroup | undefined {
  return groups.find(
    (g) => g.replicatedJobs.includes(rjobName) && (g.jobIndex === undefined || g.jobIndex === jobIndex),
  );
}

/**
 * Webhook defaulting of `spec.scheduling` (in place): at top level, an absent policy becomes
 * `gang: {}`. `minCount` is never written: 0/absent means the controller computes it.
 */
export function defaultScheduling(s: JobSetScheduling): void {
  if (topLevelMode(s) && s.schedulingPolicy == null) s.schedulingPolicy = { gang: {} };
}
