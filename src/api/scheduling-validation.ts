// Validation of spec.scheduling (workload-aware scheduling, gate JobSetWorkloadAwareSchedulingAPI),
// called from the JobSet validating webhook (validation.ts). Each error names the field path and says
// what to change. The CRD schema already bounds list sizes and minCount >= 0.
import { Annotations } from "./constants.ts";
import type { FeatureGates } from "./features.ts";
import { duplicate, type FieldError, forbidden, invalid, isQualifiedName, required } from "./field-errors.ts";
import {
  MaxPodGroupTemplates,
  minCountOf,
  podsPerJob,
  replicasOf,
  type SchedulingGroup,
  schedulingGroups,
  sequencedStartup,
  topLevelMode,
} from "./scheduling.ts";
import type {
  DisruptionMode,
  JobScheduling,
  JobSet,
  JobSetScheduling,
  PodGroupResourceClaim,
  ReplicatedJob,
  SchedulingConstraints,
  SchedulingPolicy,
} from "./types.ts";

export const SchedulingMessages = {
  gateOff:
    "spec.scheduling requires the JobSetWorkloadAwareSchedulingAPI feature gate; enable it in the controller's Configuration (featureGates) or remove spec.scheduling",
  schedulingGroupSet:
    "must not be set when spec.scheduling is used: the controller links the pods to their PodGroup itself; remove it or remove spec.scheduling",
  bothLevels:
    "use either the top-level schedulingPolicy/schedulingConstraints/disruptionMode or replicatedJobs, not both",
  policyOneOf: "exactly one of basic or gang must be set",
  disruptionOneOf: "exactly one of single or all must be set",
  unknownTarget: (n: string) => `replicatedJob '${n}' does not appear in spec.replicatedJobs`,
  untargeted: (n: string) =>
    `replicatedJob '${n}' is not targeted by any spec.scheduling.replicatedJobs entry; with replicatedJobs every replicatedJob must be targeted exactly once`,
  jobOneTarget: "job requires exactly one entry in targetReplicatedJobs",
  jobLeafField: (f: string) =>
    `must not be set together with job: job makes one PodGroup per Job; move ${f} into job or remove job`,
  minCountTooBig: (min: number, pods: number) =>
    `minCount ${min} exceeds the ${pods} pods this PodGroup covers; lower it or leave it unset (the controller then uses ${pods})`,
  minCountSequenced:
    "an explicit top-level minCount cannot be used with dependsOn or InOrder startup (one PodGroup is made per replicatedJob); remove minCount",
  samePriorityClass: (group: string, a: string, b: string) =>
    `replicatedJobs sharing PodGroup ${group} must use the same priorityClassName (found '${a}' and '${b}')`,
  sameScheduler: (group: string, a: string, b: string) =>
    `replicatedJobs sharing PodGroup ${group} must use the same schedulerName (found '${a}' and '${b}'): the scheduler places a PodGroup's pods together`,
  tooManyTemplates: (n: number) =>
    `spec.scheduling makes ${n} PodGroups but a Workload holds at most ${MaxPodGroupTemplates}; group replicatedJobs together or drop job`,
  exclusiveTopology:
    "exclusive placement (alpha.jobset.sigs.k8s.io/exclusive-topology) cannot be combined with gang scheduling: follower pods wait for their leader, so the gang never fills; remove the annotation or use a topology constraint",
  claimSource: "exactly one of resourceClaimName or resourceClaimTemplateName must be set",
  immutableRunning:
    "spec.scheduling can only be changed while the JobSet is suspended; suspend it first (spec.suspend: true)",
  addedOrRemoved:
    "spec.scheduling cannot be added or removed after creation: the Jobs' pods are already linked (or not) to PodGroups; delete and recreate the JobSet instead",
  podGroupNamesChanged:
    "this change would move Jobs to other PodGroups, but a Job's schedulingGroup cannot change; delete and recreate the JobSet instead",
  parallelismGang:
    "parallelism cannot change under gang scheduling: the PodGroup's minCount is immutable and the API server refuses the Job update; delete and recreate the JobSet instead",
} as const;

const podSpecPath = (i: number) => `spec.replicatedJobs[${i}].template.spec.template.spec`;

function validatePolicy(p: SchedulingPolicy | undefined, path: string, errs: FieldError[]): void {
  if (p == null) return;
  if ((p.basic != null) === (p.gang != null)) errs.push(invalid(path, p, SchedulingMessages.policyOneOf));
}

function validateDisruption(d: DisruptionMode | undefined, path: string, errs: FieldError[]): void {
  if (d == null) return;
  if ((d.single != null) === (d.all != null)) errs.push(invalid(path, d, SchedulingMessages.disruptionOneOf));
}

function validateConstraints(c: SchedulingConstraints | undefined, path: string, errs: FieldError[]): void {
  (c?.topology ?? []).forEach((t, i) => {
    const p = `${path}.topology[${i}].key`;
    for (const m of isQualifiedName(t.key ?? "")) errs.push(invalid(p, t.key, m));
  });
}

function validateClaims(claims: PodGroupResourceClaim[] | undefined, path: string, errs: FieldError[]): void {
  const seen = new Set<string>();
  (claims ?? []).forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.name) errs.push(required(`${p}.name`, "a resource claim needs a name"));
    else if (seen.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else seen.add(c.name);
    if ((c.resourceClaimName != null) === (c.resourceClaimTemplateName != null)) {
      errs.push(invalid(p, c, SchedulingMessages.claimSource));
    }
  });
}

function validateLeaf(
  x: {
    schedulingPolicy?: SchedulingPolicy;
    schedulingConstraints?: SchedulingConstraints;
    disruptionMode?: DisruptionMode;
    resourceClaims?: PodGroupResourceClaim[];
  },
  path: string,
  errs: FieldError[],
): void {
  validatePolicy(x.schedulingPolicy, `${path}.schedulingPolicy`, errs);
  validateConstraints(x.schedulingConstraints, `${path}.schedulingConstraints`, errs);
  validateDisruption(x.disruptionMode, `${path}.disruptionMode`, errs);
  validateClaims(x.resourceClaims, `${path}.resourceClaims`, errs);
}

const policyPath = (g: SchedulingGroup) => `${g.path}.schedulingPolicy.gang.minCount`;

function validateGroups(js: JobSet, groups: readonly SchedulingGroup[], errs: FieldError[]): void {
  if (groups.length > MaxPodGroupTemplates) {
    errs.push(invalid("spec.scheduling", groups.length, SchedulingMessages.tooManyTemplates(groups.length)));
  }
  const rjobs = js.spec?.replicatedJobs ?? [];
  const byName = new Map(rjobs.map((r) => [r.name, r] as const));
  const reported = new Set<string>();
  for (const g of groups) {
    if (g.explicitMinCount !== undefined && g.explicitMinCount > g.pods && !reported.has(g.path)) {
      reported.add(g.path);
      errs.push(invalid(policyPath(g), g.explicitMinCount, SchedulingMessages.minCountTooBig(minCountOf(g), g.pods)));
    }
    const members = g.replicatedJobs.map((n) => byName.get(n)).filter((r): r is ReplicatedJob => r !== undefined);
    const first = members[0];
    if (first === undefined) continue;
    const pc = (r: ReplicatedJob) => r.template?.spec?.template?.spec?.priorityClassName ?? "";
    const sched = (r: ReplicatedJob) => r.template?.spec?.template?.spec?.schedulerName ?? "default-scheduler";
    for (const r of members.slice(1)) {
      const i = rjobs.indexOf(r);
      if (pc(r) !== pc(first)) {
        errs.push(
          invalid(
            `${podSpecPath(i)}.priorityClassName`,
            pc(r),
            SchedulingMessages.samePriorityClass(g.podGroupName, pc(first), pc(r)),
          ),
        );
      }
      if (sched(r) !== sched(first)) {
        errs.push(
          invalid(
            `${podSpecPath(i)}.schedulerName`,
            sched(r),
            SchedulingMessages.sameScheduler(g.podGroupName, sched(first), sched(r)),
          ),
        );
      }
    }
  }
}

function validateEntries(js: JobSet, s: JobSetScheduling, errs: FieldError[]): void {
  const rjobNames = (js.spec?.replicatedJobs ?? []).map((r) => r.name);
  const targeted = new Set<string>();
  (s.replicatedJobs ?? []).forEach((entry, i) => {
    const path = `spec.scheduling.replicatedJobs[${i}]`;
    const targets = entry.targetReplicatedJobs ?? [];
    if (targets.length === 0) errs.push(required(`${path}.targetReplicatedJobs`, "name at least one replicatedJob"));
    targets.forEach((t, j) => {
      const p = `${path}.targetReplicatedJobs[${j}]`;
      if (!rjobNames.includes(t)) errs.push(invalid(p, t, SchedulingMessages.unknownTarget(t)));
      else if (targeted.has(t)) errs.push(duplicate(p, t));
      else targeted.add(t);
    });
    if (entry.job) {
      if (targets.length !== 1)
        errs.push(invalid(`${path}.targetReplicatedJobs`, targets, SchedulingMessages.jobOneTarget));
      for (const f of ["schedulingPolicy", "schedulingConstraints", "disruptionMode", "resourceClaims"] as const) {
        if (entry[f] != null) errs.push(forbidden(`${path}.${f}`, SchedulingMessages.jobLeafField(f)));
      }
      validateLeaf(entry.job as JobScheduling, `${path}.job`, errs);
    } else {
      validateLeaf(entry, path, errs);
    }
  });
  for (const n of rjobNames) {
    if (!targeted.has(n)) errs.push(required("spec.scheduling.replicatedJobs", SchedulingMessages.untargeted(n)));
  }
}

const exclusiveTopology = (js: JobSet): boolean =>
  js.metadata?.annotations?.[Annotations.ExclusiveTopology] != null ||
  (js.spec?.replicatedJobs ?? []).some(
    (r) => r.template?.metadata?.annotations?.[Annotations.ExclusiveTopology] != null,
  );

/** CREATE rules for spec.scheduling. */
export function validateSchedulingCreate(js: JobSet, gates: FeatureGates): FieldError[] {
  const s = js.spec?.scheduling;
  if (s == null) return [];
  if (!gates.JobSetWorkloadAwareSchedulingAPI) return [forbidden("spec.scheduling", SchedulingMessages.gateOff)];
  const errs: FieldError[] = [];
  (js.spec?.replicatedJobs ?? []).forEach((r, i) => {
    if (r.template?.spec?.template?.spec?.schedulingGroup != null) {
      errs.push(forbidden(`${podSpecPath(i)}.schedulingGroup`, SchedulingMessages.schedulingGroupSet));
    }
  });
  const hasTop = s.schedulingPolicy != null || s.schedulingConstraints != null || s.disruptionMode != null;
  if (hasTop && !topLevelMode(s)) {
    errs.push(invalid("spec.scheduling", "", SchedulingMessages.bothLevels));
    return errs;
  }
  if (topLevelMode(s)) {
    validateLeaf(s, "spec.scheduling", errs);
    if (sequencedStartup(js) && (s.schedulingPolicy?.gang?.minCount ?? 0) > 0) {
      errs.push(
        invalid(
          "spec.scheduling.schedulingPolicy.gang.minCount",
          s.schedulingPolicy?.gang?.minCount,
          SchedulingMessages.minCountSequenced,
        ),
      );
    }
  } else {
    validateEntries(js, s, errs);
  }
  const groups = schedulingGroups(js) ?? [];
  validateGroups(js, groups, errs);
  if (groups.some((g) => g.policy === "gang") && exclusiveTopology(js)) {
    errs.push(
      forbidden(`metadata.annotations[${Annotations.ExclusiveTopology}]`, SchedulingMessages.exclusiveTopology),
    );
  }
  return errs;
}

/** The (rjob, job index) → PodGroup name mapping, the part of spec.scheduling running Jobs depend on. */
function podGroupAssignments(js: JobSet): string[] {
  const groups = schedulingGroups(js) ?? [];
  const out: string[] = [];
  for (const r of js.spec?.replicatedJobs ?? []) {
    for (let idx = 0; idx < replicasOf(r); idx++) {
      const g = groups.find(
        (x) => x.replicatedJobs.includes(r.name) && (x.jobIndex === undefined || x.jobIndex === idx),
      );
      out.push(`${r.name}/${idx}=${g?.podGroupName ?? ""}`);
    }
  }
  return out;
}

/**
 * UPDATE rules for spec.scheduling: it may change only while the JobSet is (and stays, or was)
 * suspended, and never so that existing Jobs would move to another PodGroup; under gang scheduling
 * parallelism is fixed. A JobSet created with the gate on keeps working after the gate is turned off,
 * but spec.scheduling cannot then be added or changed.
 */
export function validateSchedulingUpdate(newJs: JobSet, oldJs: JobSet, gates: FeatureGates): FieldError[] {
  const ns = newJs.spec?.scheduling;
  const os = oldJs.spec?.scheduling;
  const same = JSON.stringify(ns ?? null) === JSON.stringify(os ?? null);
  const errs: FieldError[] = [];
  if (!same) {
    if (ns != null && !gates.JobSetWorkloadAwareSchedulingAPI) {
      return [forbidden("spec.scheduling", SchedulingMessages.gateOff)];
    }
    if ((ns == null) !== (os == null)) {
      errs.push(forbidden("spec.scheduling", SchedulingMessages.addedOrRemoved));
    } else if (oldJs.spec?.suspend !== true) {
      errs.push(forbidden("spec.scheduling", SchedulingMessages.immutableRunning));
    } else {
      const a = podGroupAssignments(newJs);
      const b = podGroupAssignments(oldJs);
      if (a.join("\n") !== b.join("\n"))
        errs.push(forbidden("spec.scheduling", SchedulingMessages.podGroupNamesChanged));
    }
    if (ns != null)
      errs.push(...validateSchedulingCreate(newJs, gates).filter((e) => e.field.startsWith("spec.scheduling")));
  }
  if (ns != null && os != null) {
    const oldByName = new Map((oldJs.spec?.replicatedJobs ?? []).map((r) => [r.name, r] as const));
    (newJs.spec?.replicatedJobs ?? []).forEach((r, i) => {
      const old = oldByName.get(r.name);
      if (old && podsPerJob(old) !== podsPerJob(r)) {
        errs.push(forbidden(`spec.replicatedJobs[${i}].template.spec.parallelism`, SchedulingMessages.parallelismGang));
      }
    });
  }
  return errs;
}
