// Workload-aware (gang) scheduling of a JobSet, pure: the Workload and PodGroups spec.scheduling asks
// for (scheduling.k8s.io/v1alpha2, Kubernetes v1.36), how child Jobs link to them, and what one
// reconcile must do about the objects it observed. plan.ts calls planScheduling(); the runtime GETs the
// objects by name (controllers/jobset/scheduling-objects.ts) and carries out the creates and deletes before any Job
// is created, so the order is always Workload → PodGroups → Jobs.
//
// Lifecycle: suspended or finished → delete our objects; running → create what is missing; an object
// whose immutable fields differ from the desired one → delete it (event), recreate it once it is gone;
// restart → keep (the recreated Jobs reuse the names). Objects with our names that this JobSet does
// not control are never touched: the JobSet reports the conflict and creates no Jobs.
import { Labels, SchedulingReasons, WorkloadApi } from "../api/constants.ts";
import type { Job, KubeObject, ObjectMeta } from "../api/k8s.ts";
import { groupOfJob, minCountOf, type SchedulingGroup, schedulingGroups, workloadName } from "../api/scheduling.ts";
import type { JobSet } from "../api/types.ts";
import { type StatusUpdate, setCondition } from "./conditions.ts";
import { controllerRef, isControlledBy } from "./owner.ts";

// ---------------------------------------------------------------------------------------------- API types

export interface WorkloadPolicy {
  basic?: Record<string, never>;
  gang?: { minCount: number };
}
export interface WorkloadConstraints {
  topology?: { key: string }[];
}
export interface WorkloadResourceClaim {
  name: string;
  resourceClaimName?: string;
  resourceClaimTemplateName?: string;
}
export interface PodGroupTemplate {
  name: string;
  schedulingPolicy: WorkloadPolicy;
  schedulingConstraints?: WorkloadConstraints;
  resourceClaims?: WorkloadResourceClaim[];
  disruptionMode?: "Pod" | "PodGroup";
  priorityClassName?: string;
}
export interface Workload extends KubeObject {
  metadata?: ObjectMeta;
  spec?: {
    controllerRef?: { apiGroup?: string; kind: string; name: string };
    podGroupTemplates: PodGroupTemplate[];
  };
}
export interface PodGroupCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
export interface PodGroup extends KubeObject {
  metadata?: ObjectMeta;
  spec?: {
    podGroupTemplateRef?: { workload?: { workloadName: string; podGroupTemplateName: string } };
    schedulingPolicy: WorkloadPolicy;
    schedulingConstraints?: WorkloadConstraints;
    resourceClaims?: WorkloadResourceClaim[];
    disruptionMode?: "Pod" | "PodGroup";
    priorityClassName?: string;
  };
  status?: { conditions?: PodGroupCondition[] };
}

// ---------------------------------------------------------------------------------------------- desired objects

function groupTemplate(js: JobSet, g: SchedulingGroup): PodGroupTemplate {
  const t: PodGroupTemplate = {
    name: g.templateName,
    schedulingPolicy: g.policy === "basic" ? { basic: {} } : { gang: { minCount: minCountOf(g) } },
  };
  if (g.constraints?.topology && g.constraints.topology.length > 0) {
    t.schedulingConstraints = { topology: g.constraints.topology.map((x) => ({ key: x.key })) };
  }
  if (g.resourceClaims) t.resourceClaims = structuredClone(g.resourceClaims);
  if (g.disruptionMode?.single) t.disruptionMode = "Pod";
  else if (g.disruptionMode?.all) t.disruptionMode = "PodGroup";
  const rjob = (js.spec?.replicatedJobs ?? []).find((r) => r.name === g.replicatedJobs[0]);
  const pc = rjob?.template?.spec?.template?.spec?.priorityClassName;
  if (pc) t.priorityClassName = pc;
  return t;
}

function metadataFor(js: JobSet, name: string): ObjectMeta {
  return {
    name,
    namespace: js.metadata?.namespace ?? "",
    labels: { [Labels.JobSetName]: js.metadata?.name ?? "" },
    ownerReferences: [controllerRef(js)],
  };
}

export interface DesiredScheduling {
  groups: SchedulingGroup[];
  workload: Workload;
  podGroups: PodGroup[];
}

/** The Workload and PodGroups of a JobSet with spec.scheduling (undefined without it). */
export function desiredScheduling(js: JobSet): DesiredScheduling | undefined {
  const groups = schedulingGroups(js);
  if (groups === undefined) return undefined;
  const wl = workloadName(js);
  const templates = groups.map((g) => groupTemplate(js, g));
  const workload: Workload = {
    apiVersion: WorkloadApi.ApiVersion,
    kind: "Workload",
    metadata: metadataFor(js, wl),
    spec: {
      controllerRef: { apiGroup: "jobset.x-k8s.io", kind: "JobSet", name: js.metadata?.name ?? "" },
      podGroupTemplates: templates,
    },
  };
  const podGroups = groups.map((g, i): PodGroup => {
    const t = templates[i] as PodGroupTemplate;
    const { name: _n, ...rest } = t;
    return {
      apiVersion: WorkloadApi.ApiVersion,
      kind: "PodGroup",
      metadata: metadataFor(js, g.podGroupName),
      spec: { podGroupTemplateRef: { workload: { workloadName: wl, podGroupTemplateName: g.templateName } }, ...rest },
    };
  });
  return { groups, workload, podGroups };
}

/**
 * Links a child Job to its PodGroup (in place): annotation `scheduling.k8s.io/group-template-name` and
 * the pod template's `schedulingGroup.podGroupName`. Returns false when no group covers the Job.
 */
export function linkJob(job: Job, groups: readonly SchedulingGroup[]): boolean {
  const rjobName = job.metadata?.labels?.[Labels.ReplicatedJobName] ?? "";
  const idx = Number(job.metadata?.labels?.[Labels.JobIndex] ?? "0");
  const g = groupOfJob(groups, rjobName, idx);
  if (!g) return false;
  job.metadata ??= {};
  job.metadata.annotations = { ...job.metadata.annotations, [WorkloadApi.GroupTemplateAnnotation]: g.templateName };
  const podSpec = job.spec?.template?.spec;
  if (podSpec) podSpec.schedulingGroup = { podGroupName: g.podGroupName };
  return true;
}

// ---------------------------------------------------------------------------------------------- drift

/** Canonical JSON: sorted keys, null and absent alike (the server may order or null fields differently). */
const json = (v: unknown): string =>
  JSON.stringify(v ?? null, (_k, x: unknown) => {
    if (x === null || typeof x !== "object" || Array.isArray(x)) return x;
    const o = x as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .filter((k) => o[k] !== null && o[k] !== undefined)
        .map((k) => [k, o[k]]),
    );
  });

/**
 * Differences in immutable fields between what we want and what the server holds. Fields the server
 * dropped (their feature gate is off there: constraints, claims, disruption mode, priority class) are
 * compared only when the server kept them, so a dropped field never causes a delete/recreate loop.
 */
/** What the v1.36 API server stores for a field we leave unset (a PodGroup without disruptionMode gets "Pod"). */
const serverDefaults: Partial<Record<"disruptionMode", unknown>> = { disruptionMode: "Pod" };

function templateDrift(want: PodGroupTemplate | undefined, have: PodGroupTemplate | undefined): string[] {
  if (!want || !have) return ["template"];
  const out: string[] = [];
  if (json(want.schedulingPolicy) !== json(have.schedulingPolicy)) out.push("schedulingPolicy");
  const optional = ["schedulingConstraints", "resourceClaims", "disruptionMode", "priorityClassName"] as const;
  for (const f of optional) {
    if (have[f] === undefined || have[f] === null) continue;
    const wanted = want[f] ?? (f === "disruptionMode" ? serverDefaults.disruptionMode : undefined);
    if (json(wanted) !== json(have[f])) out.push(f);
  }
  return out;
}

export function workloadDrift(want: Workload, have: Workload): string[] {
  const w = want.spec?.podGroupTemplates ?? [];
  const h = have.spec?.podGroupTemplates ?? [];
  if (json(w.map((t) => t.name)) !== json(h.map((t) => t.name))) return ["podGroupTemplates"];
  const fields = new Set<string>();
  w.forEach((t, i) => {
    for (const f of templateDrift(t, h[i])) fields.add(`podGroupTemplates.${f}`);
  });
  return [...fields];
}

export function podGroupDrift(want: PodGroup, have: PodGroup): string[] {
  const out: string[] = [];
  if (json(want.spec?.podGroupTemplateRef) !== json(have.spec?.podGroupTemplateRef)) out.push("podGroupTemplateRef");
  const hs = have.spec;
  const ws = want.spec;
  if (!ws || !hs) return ["spec"];
  out.push(...templateDrift({ name: "", ...ws }, { name: "", ...hs }));
  return out;
}

/** Dropped fields: what we asked for but the server did not keep (gate off on the server). */
function droppedFields(want: PodGroup, have: PodGroup): string[] {
  const out: string[] = [];
  for (const f of ["schedulingConstraints", "resourceClaims", "disruptionMode", "priorityClassName"] as const) {
    if (want.spec?.[f] !== undefined && have.spec?.[f] === undefined) out.push(f);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- planning

/** What the runtime saw of the scheduling objects (only for a JobSet with spec.scheduling, gate on). */
export interface SchedulingObserved {
  /** Whether the cluster serves scheduling.k8s.io/v1alpha2 Workloads and PodGroups. */
  served: boolean;
  /** The object named like our Workload, if it exists (whoever owns it). */
  workload?: Workload | undefined;
  /** Objects named like our PodGroups that exist (whoever owns them). */
  podGroups: PodGroup[];
}

export interface SchedulingObjectRef {
  kind: "Workload" | "PodGroup";
  name: string;
  namespace: string;
  uid?: string;
}

/** The scheduling part of a Plan: executed after Job deletions and before Job creations. */
export interface SchedulingActions {
  deletes: SchedulingObjectRef[];
  /** Created in order: the Workload first, then the PodGroups. */
  creates: (Workload | PodGroup)[];
}

export interface SchedulingDecision {
  actions: SchedulingActions;
  /** Do not create Jobs in this pass (their PodGroups are not there yet, or cannot be made). */
  blockJobCreation: boolean;
  /** Look again after this delay (PodGroups not scheduled yet, objects terminating, API missing). */
  requeueAfterMs?: number;
  /** The groups, for linking the Jobs this pass creates. */
  groups: SchedulingGroup[];
}

/** Poll interval while a gang is not scheduled (PodGroup status is not watched). */
export const PendingRequeueMs = 5_000;
/** Poll interval while objects are being deleted before they can be recreated. */
export const TerminatingRequeueMs = 1_000;
/** Retry interval while the Workload API is not served or a name is taken by someone else. */
export const BlockedRequeueMs = 30_000;

const refTo = (kind: SchedulingObjectRef["kind"], o: KubeObject, namespace: string): SchedulingObjectRef => {
  const r: SchedulingObjectRef = { kind, name: o.metadata?.name ?? "", namespace: o.metadata?.namespace ?? namespace };
  if (o.metadata?.uid) r.uid = o.metadata.uid;
  return r;
};
const terminating = (o: KubeObject) => o.metadata?.deletionTimestamp != null;

function block(u: StatusUpdate, reason: string, message: string): void {
  const before = u.events.length;
  if (setCondition(u, { type: "WorkloadSchedulingBlocked", status: "True", reason, message })) {
    // A blocked gang is a problem the user must act on: a Warning, like upstream's failure events.
    for (const e of u.events.slice(before)) e.type = "Warning";
  }
}

function unblock(u: StatusUpdate, message: string): void {
  setCondition(u, {
    type: "WorkloadSchedulingBlocked",
    status: "False",
    reason: SchedulingReasons.PodGroupsScheduled,
    message,
  });
}

export interface SchedulingContext {
  /** The JobSet is suspended or finished: its scheduling objects go away. */
  tearDown: boolean;
  log: string[];
}

/**
 * One reconcile of the scheduling objects of `js` (which has spec.scheduling). Writes the
 * WorkloadSchedulingBlocked condition and events into `u`.
 */
export function planScheduling(
  js: JobSet,
  observed: SchedulingObserved,
  u: StatusUpdate,
  ctx: SchedulingContext,
): SchedulingDecision {
  const desired = desiredScheduling(js);
  const ns = js.metadata?.namespace ?? "";
  const d: SchedulingDecision = {
    actions: { deletes: [], creates: [] },
    blockJobCreation: false,
    groups: desired?.groups ?? [],
  };
  if (!desired) return d;
  if (!observed.served) {
    if (!ctx.tearDown) {
      block(
        u,
        SchedulingReasons.WorkloadAPINotServed,
        "spec.scheduling needs the scheduling.k8s.io/v1alpha2 API (Workload, PodGroup), which this cluster does not serve: enable it on the API server (--runtime-config=scheduling.k8s.io/v1alpha2=true, feature gate GenericWorkload) or remove spec.scheduling; no Jobs are created until then",
      );
      d.blockJobCreation = true;
      d.requeueAfterMs = BlockedRequeueMs;
    }
    return d;
  }
  const uid = js.metadata?.uid ?? "";
  const present: { kind: SchedulingObjectRef["kind"]; obj: Workload | PodGroup }[] = [];
  if (observed.workload) present.push({ kind: "Workload", obj: observed.workload });
  for (const pg of observed.podGroups) present.push({ kind: "PodGroup", obj: pg });
  const foreign = present.filter((p) => !isControlledBy(p.obj, uid));
  if (foreign.length > 0) {
    const names = foreign.map((f) => `${f.kind} ${f.obj.metadata?.name ?? ""}`).join(", ");
    if (!ctx.tearDown) {
      block(
        u,
        SchedulingReasons.SchedulingObjectConflict,
        `${names} already exists and is not controlled by this JobSet; delete it or rename the JobSet. No Jobs are created until then`,
      );
      d.blockJobCreation = true;
      d.requeueAfterMs = BlockedRequeueMs;
    }
    // Never touch objects we do not control; ours may still be cleaned up.
  }
  const mine = present.filter((p) => isControlledBy(p.obj, uid));

  if (ctx.tearDown) {
    // PodGroups first: a PodGroup referencing a Workload being deleted is fine, the reverse order too,
    // but deleting the groups first lets the scheduler drop them sooner.
    for (const p of [...mine].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "PodGroup" ? -1 : 1))) {
      if (!terminating(p.obj)) d.actions.deletes.push(refTo(p.kind, p.obj, ns));
    }
    return d;
  }
  if (foreign.length > 0) return d;

  let waiting = false;
  const recreate = (kind: SchedulingObjectRef["kind"], obj: KubeObject, fields: string[]) => {
    d.actions.deletes.push(refTo(kind, obj, ns));
    u.events.push({
      type: "Normal",
      reason: SchedulingReasons.SchedulingObjectRecreated,
      message: `${kind} ${obj.metadata?.name ?? ""} differs from spec.scheduling in immutable fields (${fields.join(", ")}): deleting it to recreate it`,
    });
    waiting = true;
  };

  const wl = observed.workload;
  if (!wl) d.actions.creates.push(desired.workload);
  else if (terminating(wl)) waiting = true;
  else {
    const drift = workloadDrift(desired.workload, wl);
    if (drift.length > 0) {
      recreate("Workload", wl, drift);
      // PodGroups point at the Workload's templates: they go (and come back) with it.
      for (const pg of observed.podGroups) if (!terminating(pg)) d.actions.deletes.push(refTo("PodGroup", pg, ns));
    }
  }
  const workloadUsable = wl === undefined || (!terminating(wl) && !waiting);

  const byName = new Map(observed.podGroups.map((pg) => [pg.metadata?.name ?? "", pg] as const));
  const unschedulable: string[] = [];
  let gangsPending = 0;
  for (const want of desired.podGroups) {
    const name = want.metadata?.name ?? "";
    const have = byName.get(name);
    if (!have) {
      if (workloadUsable) d.actions.creates.push(want);
      else waiting = true;
      if (want.spec?.schedulingPolicy.gang) gangsPending++;
      continue;
    }
    if (terminating(have)) {
      waiting = true;
      continue;
    }
    if (!workloadUsable) continue; // being deleted together with the Workload above
    const drift = podGroupDrift(want, have);
    if (drift.length > 0) {
      recreate("PodGroup", have, drift);
      continue;
    }
    const dropped = droppedFields(want, have);
    if (dropped.length > 0) {
      ctx.log.push(`PodGroup ${name}: the API server dropped ${dropped.join(", ")} (its feature gate is off there)`);
    }
    const cond = (have.status?.conditions ?? []).find((c) => c.type === WorkloadApi.PodGroupScheduled);
    if (cond?.status === "True") continue;
    if (want.spec?.schedulingPolicy.gang) gangsPending++;
    if (cond?.status === "False") {
      unschedulable.push(
        `PodGroup ${name} (minCount ${minCountOfPodGroup(have)}): ${cond.message || cond.reason || "Unschedulable"}`,
      );
    }
  }
  if (waiting) {
    d.blockJobCreation = true;
    d.requeueAfterMs = TerminatingRequeueMs;
  }
  if (unschedulable.length > 0) {
    block(u, SchedulingReasons.PodGroupUnschedulable, unschedulable.join("; "));
  } else if (gangsPending === 0 && !waiting) {
    unblock(u, `all ${desired.podGroups.length} PodGroups are scheduled`);
  }
  if (gangsPending > 0 && d.requeueAfterMs === undefined) d.requeueAfterMs = PendingRequeueMs;
  return d;
}

function minCountOfPodGroup(pg: PodGroup): string {
  const m = pg.spec?.schedulingPolicy?.gang?.minCount;
  return m === undefined ? "-" : String(m);
}

/** Whether the JobSet should have scheduling objects at all (gate on and spec.scheduling set). */
export function usesScheduling(js: JobSet, gateOn: boolean): boolean {
  return gateOn && js.spec?.scheduling != null;
}
