// plan(): one reconcile of a JobSet (spec §5.2) as a pure function from what the controller observes
// to what it must do. No I/O, no clock (the observation carries `now`), no randomness: the same
// observation always gives the same Plan, so any reconcile can be repeated (level-triggered). The
// executor (src/controllers/jobset/executor.ts) carries the Plan out; its contract is documented on `Plan`.
//
// Observation — only what an informer cache holds, so the reconciler is restart-safe:
//   the JobSet (or undefined: NotFound), the Jobs controlled by its UID (§5.1, cache-list order),
//   whether the headless Service `<subdomain>` exists in its namespace (any owner, §4.3), and, only for
//   in-place restart with its gate on, the JobSet's pods (§5.1 pod index).
//
// Upstream step → Plan mapping (spec §5.2; "stop" = nothing later is planned):
//   1  GET, NotFound → finish              plan.skip = "NotFound"
//   2  deletionTimestamp → finish          plan.skip = "Deleting"
//   3  status-update record                conditions.ts StatusUpdate → plan.status / events / metrics
//   4a foreign managedBy → stop            plan.skip = "ManagedByOther"
//   4b list + classify (§5.3)              observe.ts classifyJobs; error → plan.error, nothing else
//   4c replicatedJobsStatus (§5.4)         status.ts; changed (semantically) → plan.status
//   4d finished: delete active, TTL, stop  deletes.jobs (active), ttl.ts → deletes.jobSet | requeueAfterMs | error
//   4e delete previous attempt             deletes.jobs (previous)
//   4f RestartingJobSet=False/JobsReady    conditions.ts markJobsReady
//   4g failure policy (§6.2), stop         failure-policy.ts; error → plan.error
//   4h success policy (§6.1), stop if done success-policy.ts
//   4i headless Service (§4.3)             creates.service when DNS hostnames on and Service absent
//   4j PVCs (§4.4)                         creates.pvcs (every reconcile reaching j; AlreadyExists ignored)
//   4k elastic sync (§6.11, gate)          updates.scale
//   4l create Jobs (§5.8, §6.3/6.5/6.6)    creates.jobs (one batch per rjob, spec order) + InOrder conditions
//   4m suspend / resume (§6.7)             updates.jobs + Suspended / RestartingJobSet / InOrder conditions
//   4n in-place restart (§8.1)             in-place-restart.ts over observed.pods (gate on; else a log line)
//   5  error → no status write             plan.error (executor skips status, events and metrics)
//   6  status write, then events           plan.status, plan.events
//   7  requeueAfter (TTL)                  plan.requeueAfterMs
import { JobSetControllerName, Labels } from "../api/constants.ts";
import { isSuspended } from "../api/defaults.ts";
import type { FeatureGates } from "../api/features.ts";
import type { Job, PersistentVolumeClaim, Pod, Service } from "../api/k8s.ts";
import type { SchedulingGroup } from "../api/scheduling.ts";
import type { JobSet, JobSetStatus, ReplicatedJobStatus } from "../api/types.ts";
import {
  type JobSetEvent,
  jobSetFinished,
  markJobsReady,
  markResumed,
  markStartupCompleted,
  markStartupInProgress,
  markSuspended,
  newStatusUpdate,
  type StatusUpdate,
} from "./conditions.ts";
import { dependenciesReached } from "./depends-on.ts";
import { type ScalePatch, scalePatches } from "./elastic.ts";
import { executeFailurePolicy } from "./failure-policy.ts";
import { reconcileInPlaceRestart } from "./in-place-restart.ts";
import { constructJob, jobName, rjobReplicas } from "./jobs.ts";
import { type ChildJobs, classifyJobs } from "./observe.ts";
import { constructPVCs } from "./pvc.ts";
import { linkJob, planScheduling, type SchedulingActions, type SchedulingObserved } from "./scheduling.ts";
import { constructHeadlessService, wantsHeadlessService } from "./service.ts";
import { inOrderStartup, replicatedJobStarted } from "./startup-policy.ts";
import { computeReplicatedJobsStatus, replicatedJobsStatusEqual, sortByNameDescending } from "./status.ts";
import { executeSuccessPolicy } from "./success-policy.ts";
import { type JobUpdate, resumeJob, suspendJob } from "./suspend.ts";
import { ttlDecision } from "./ttl.ts";

// ---------------------------------------------------------------------------------------------- types

export interface Observed {
  /** The JobSet from the cache; undefined when it does not exist (NotFound). */
  jobSet: JobSet | undefined;
  /** Jobs in the JobSet's namespace whose controller ownerReference has the JobSet's UID (any order). */
  jobs: readonly Job[];
  /**
   * Whether Service `<subdomain>` exists in the JobSet's namespace, whoever owns it. `undefined` =
   * unknown: the plan then asks for the Service and the executor's create-if-absent decides.
   */
  serviceExists: boolean | undefined;
  /**
   * Only with gate InPlaceRestart and strategy InPlaceRestart (§8.1): every pod of the namespace with
   * label `jobset.sigs.k8s.io/jobset-name: <name>` (cache index `podsIndexByJobSet`), any phase.
   */
  pods?: readonly Pod[];
  /** The injected clock's reading for this reconcile. */
  now: Date;
  /**
   * Only for a JobSet with spec.scheduling and gate JobSetWorkloadAwareSchedulingAPI: its Workload and
   * PodGroups as the API server holds them (scheduling.ts). Undefined: treated as "none exist yet".
   */
  scheduling?: SchedulingObserved;
}

export interface PlanConfig {
  gates: FeatureGates;
}

/** A Job (or the JobSet) to delete with `propagationPolicy: Foreground`. */
export interface ObjectRef {
  name: string;
  namespace: string;
  /** Observed UID: the executor may send it as a precondition (a 409 then means "already replaced"). */
  uid?: string;
}

/**
 * The Jobs of one replicated job to create in this reconcile (spec order of rjobs, index order). A batch
 * holds their names and builds each Job when asked, from what the plan saw: the executor builds each one
 * right before its create, so a burst of 10,000 creates never holds 10,000 built Jobs, and the first
 * create goes out without waiting for the others to be built.
 */
export class JobCreateBatch {
  readonly replicatedJob: string;
  /** Names of the Jobs to create, in index order. */
  readonly names: readonly string[];
  private readonly build: (i: number) => Job;
  constructor(replicatedJob: string, names: readonly string[], build: (i: number) => Job) {
    this.replicatedJob = replicatedJob;
    this.names = names;
    this.build = build;
  }
  /** A batch of Jobs already built (each call of job(i) returns a copy). */
  static of(replicatedJob: string, jobs: readonly Job[]): JobCreateBatch {
    return new JobCreateBatch(
      replicatedJob,
      jobs.map((j) => j.metadata?.name ?? ""),
      (i) => structuredClone(jobs[i] as Job),
    );
  }
  /** The Job named names[i], built now (a new object each call; the same content every time). */
  job(i: number): Job {
    return this.build(i);
  }
  /** Every Job of the batch, built now (`jobset plan`, tests). */
  get jobs(): Job[] {
    return this.names.map((_, i) => this.build(i));
  }
}

/**
 * Everything one reconcile must do, in execution order. The executor:
 *  0. if `skip` is set: does nothing at all.
 *  1. `deletes.jobs`: DELETE each Job, `propagationPolicy: Foreground`, up to 50 in parallel; NotFound is
 *     success; other errors are joined and fail the reconcile (§5.7). Jobs already carrying a deletion
 *     timestamp are not listed.
 *  2. `deletes.jobSet`: DELETE the JobSet, `propagationPolicy: Foreground` (TTL, §6.9).
 *  3. `creates.service`: create-if-absent; AlreadyExists is success (existing Services are never updated
 *     or adopted); any other error → immediate Warning event `HeadlessServiceCreationFailed` with the error
 *     text, fail the reconcile (§4.3).
 *  4. `creates.pvcs`: CREATE each, in order; AlreadyExists ignored; other errors → immediate Warning event
 *     `PVCCreationFailed` (error text) per PVC, errors joined, fail the reconcile (§4.4).
 *  5. `updates.scale`: JSON merge patch each Job; errors joined, fail the reconcile (§6.11).
 *  6. `creates.jobs`: batch by batch; within a batch up to 50 CREATEs in parallel. If any create of a batch
 *     fails: message = `jobCreationFailedMessage(...)`, immediate Warning event `JobCreationFailed` with it,
 *     fail the reconcile, later batches are not attempted (§5.8).
 *  7. `updates.jobs`: in order, each a full Update (see suspend.ts JobUpdate: a resume may first clear
 *     `status.startTime` via the Job status subresource). First error fails the reconcile (§6.7).
 *  8. if `error` is set: fail the reconcile with it.
 *  9. count `metrics` (jobset_completed_total / jobset_failed_total, labels jobset_name, namespace) — before
 *     the status write, counted even if the write then fails (§5.10).
 * 10. if `status` is set: UpdateStatus with the observed resourceVersion (optimistic concurrency); on error
 *     fail the reconcile (no events).
 * 11. emit `events` in order (regarding the JobSet, action `Reconciling`, message verbatim).
 * 12. requeue after `requeueAfterMs` if set.
 * "Fail the reconcile" = stop, write no status, emit no deferred events, return the error (rate-limited
 * requeue). A failed pass is harmless: the next plan recomputes everything from the cluster state.
 */
export interface Plan {
  skip?: "NotFound" | "Deleting" | "ManagedByOther";
  deletes: { jobs: ObjectRef[]; jobSet?: ObjectRef };
  creates: { service?: Service; pvcs: PersistentVolumeClaim[]; jobs: JobCreateBatch[] };
  updates: { scale: ScalePatch[]; jobs: JobUpdate[] };
  /** The whole new status when it changed in this reconcile, else undefined (no write). */
  status?: JobSetStatus;
  /** Events queued with status changes: emitted only after a successful status write. */
  events: JobSetEvent[];
  requeueAfterMs?: number;
  metrics: { completed: boolean; failed: boolean };
  /**
   * spec.scheduling (scheduling.ts): Workload/PodGroup deletes, then creates (Workload first), carried
   * out after step 2 and before any Job is created; any error fails the reconcile.
   */
  scheduling?: SchedulingActions;
  /** A reconcile error found while planning (executor step 8). */
  error?: string;
  /** Human-readable notes for the controller log (V(2)-ish). */
  log: string[];
}

/** `job "<name>" creation failed with error: <err>` lines joined with newlines (JobCreationFailed, §5.8). */
export function jobCreationFailedMessage(failures: readonly { name: string; error: string }[]): string {
  return failures.map((f) => `job "${f.name}" creation failed with error: ${f.error}`).join("\n");
}

// ---------------------------------------------------------------------------------------------- plan

/** A plan that does nothing: the start of every plan (and of executor tests). */
export function emptyPlan(): Plan {
  return {
    deletes: { jobs: [] },
    creates: { pvcs: [], jobs: [] },
    updates: { scale: [], jobs: [] },
    events: [],
    metrics: { completed: false, failed: false },
    log: [],
  };
}

function refOf(job: Job, fallbackNamespace: string): ObjectRef {
  const ref: ObjectRef = { name: job.metadata?.name ?? "", namespace: job.metadata?.namespace ?? fallbackNamespace };
  if (job.metadata?.uid) ref.uid = job.metadata.uid;
  return ref;
}

/** Jobs to delete: the bucket minus Jobs already being deleted (§5.7). */
function deletions(jobs: readonly Job[], namespace: string): ObjectRef[] {
  return jobs.filter((j) => !j.metadata?.deletionTimestamp).map((j) => refOf(j, namespace));
}

/** Copies the status record's outcome into the plan (status only when shouldUpdate). */
function finish(plan: Plan, u: StatusUpdate): Plan {
  if (u.shouldUpdate) plan.status = { ...u.status, restarts: u.status.restarts ?? 0 };
  plan.events = u.events;
  plan.metrics = u.metrics;
  return plan;
}

/** Plans one reconcile of the observed JobSet (spec §5.2). */
export function plan(observed: Observed, config: PlanConfig): Plan {
  const p = emptyPlan();
  const js = observed.jobSet;
  if (js === undefined) return { ...p, skip: "NotFound" };
  if (js.metadata?.deletionTimestamp) return { ...p, skip: "Deleting" };
  const managedBy = js.spec?.managedBy;
  if (managedBy !== undefined && managedBy !== null && managedBy !== JobSetControllerName) {
    p.log.push(`skipping JobSet managed by ${managedBy}`);
    return { ...p, skip: "ManagedByOther" };
  }
  const restartJobGate = config.gates.RestartJob;
  const namespace = js.metadata?.namespace ?? "";

  // 4b. classify.
  const classified = classifyJobs(js, observed.jobs, { restartJobGate });
  p.log.push(...classified.log);
  if (!classified.ok) return { ...p, error: classified.error };
  const owned = classified.jobs;

  // 3 + 4c. status record; replicatedJobsStatus (upstream sorts the stored list in place too).
  const u = newStatusUpdate(js.status, observed.now);
  const statuses = computeReplicatedJobsStatus(js, owned, { restartJobGate }, p.log);
  if (u.status.replicatedJobsStatus) sortByNameDescending(u.status.replicatedJobsStatus);
  if (!replicatedJobsStatusEqual(u.status.replicatedJobsStatus, statuses)) {
    u.status.replicatedJobsStatus = statuses;
    u.shouldUpdate = true;
  }

  // Workload-aware scheduling (spec.scheduling): objects, lifecycle, WorkloadSchedulingBlocked condition.
  const sched =
    js.spec?.scheduling != null && config.gates.JobSetWorkloadAwareSchedulingAPI
      ? planScheduling(js, observed.scheduling ?? { served: true, podGroups: [] }, u, {
          tearDown: jobSetFinished(u.status) || isSuspended(js),
          log: p.log,
        })
      : undefined;
  if (sched) {
    p.scheduling = sched.actions;
    if (sched.requeueAfterMs !== undefined) p.requeueAfterMs = sched.requeueAfterMs;
  }

  // 4d. finished JobSet: delete active Jobs, TTL, stop.
  if (jobSetFinished(u.status)) {
    p.deletes.jobs = deletions(owned.active, namespace);
    const ttl = ttlDecision({ ...js, status: u.status }, observed.now);
    switch (ttl.kind) {
      case "delete": {
        const ref: ObjectRef = { name: js.metadata?.name ?? "", namespace };
        if (js.metadata?.uid) ref.uid = js.metadata.uid;
        p.deletes.jobSet = ref;
        p.log.push("ttlSecondsAfterFinished expired: deleting the JobSet");
        break;
      }
      case "requeue":
        p.requeueAfterMs = ttl.afterMs;
        break;
      case "error":
        return { ...p, error: ttl.error };
    }
    return finish(p, u);
  }

  // 4e. previous attempt.
  p.deletes.jobs = deletions(owned.previous, namespace);

  // 4f. RestartingJobSet=False/JobsReady once every Job is ready or succeeded.
  const suspended = isSuspended(js);
  if (!suspended && allJobsReady(js, statuses)) markJobsReady(u);

  // 4g. failure policy.
  if (owned.failed.length > 0) {
    const result = executeFailurePolicy(js, owned.failed, u, { restartJobGate }, p.log);
    if (!result.ok) return { ...p, error: result.error };
    return finish(p, u);
  }

  // 4h. success policy.
  if (owned.succeeded.length > 0 && executeSuccessPolicy(js, owned.succeeded, u)) return finish(p, u);

  // 4i. headless Service.
  if (wantsHeadlessService(js) && observed.serviceExists !== true) p.creates.service = constructHeadlessService(js);

  // 4j. PVCs.
  if ((js.spec?.volumeClaimPolicies ?? []).length > 0) p.creates.pvcs = constructPVCs(js);

  // 4k. elastic scaling.
  if (config.gates.ElasticJobSet) p.updates.scale = scalePatches(js, owned.active);

  // 4l. create missing Jobs (with the in-memory status: restart attempt labels). The batches build their
  // Jobs later, in the executor: from a copy of the status as it is now, not as later steps leave it.
  const current: JobSet = { ...js, status: structuredClone(u.status) };
  const link = sched ? sched.groups : undefined;
  p.creates.jobs = sched?.blockJobCreation
    ? []
    : planJobCreation(current, owned, statuses, u, { restartJobGate }, link);

  // 4m. suspend / resume.
  p.updates.jobs = suspended ? planSuspend(owned.active, u) : planResume(js, owned.active, statuses, u);

  // 4n. in-place restart.
  if (js.spec?.failurePolicy?.restartStrategy === "InPlaceRestart") {
    if (!config.gates.InPlaceRestart) {
      p.log.push("restartStrategy InPlaceRestart ignored: feature gate InPlaceRestart is disabled");
    } else if (observed.pods === undefined) {
      p.log.push("in-place restart skipped: pods of the JobSet were not observed");
    } else {
      const result = reconcileInPlaceRestart(js, observed.pods, u);
      if (!result.ok) return { ...p, error: result.error };
    }
  }
  return finish(p, u);
}

/** §5.2 step f: Σ spec replicas == Σ status (ready + succeeded). */
function allJobsReady(js: JobSet, statuses: readonly ReplicatedJobStatus[]): boolean {
  let want = 0;
  for (const rjob of js.spec?.replicatedJobs ?? []) want += rjobReplicas(rjob);
  let have = 0;
  for (const s of statuses) have += s.ready + s.succeeded;
  return want === have;
}

/** The child Job names of an rjob, by index; kept per rjob object (cached JobSets are immutable). */
const jobNamesMemo = new WeakMap<object, { prefix: string; names: string[] }>();
function jobNames(js: JobSet, rjob: NonNullable<NonNullable<JobSet["spec"]>["replicatedJobs"]>[number]): string[] {
  const prefix = jobName(js, rjob.name, 0).slice(0, -1);
  const replicas = rjobReplicas(rjob);
  let m = jobNamesMemo.get(rjob);
  if (!m || m.prefix !== prefix || m.names.length !== replicas) {
    m = { prefix, names: Array.from({ length: replicas }, (_, i) => `${prefix}${i}`) };
    jobNamesMemo.set(rjob, m);
  }
  return m.names;
}

/**
 * §5.8: per rjob in spec order — skip when dependsOn is unsatisfied (§6.6) or (not suspended, InOrder)
 * already started (§6.5); create every index whose name is in no bucket, none at all under
 * BlockingRecreate while previous Jobs exist (§6.3); InOrder (not suspended) stops after the first
 * rjob considered with StartupPolicyInProgress, and sets StartupPolicyCompleted once all started.
 */
function planJobCreation(
  js: JobSet,
  owned: ChildJobs,
  statuses: readonly ReplicatedJobStatus[],
  u: StatusUpdate,
  opts: { restartJobGate: boolean },
  link: readonly SchedulingGroup[] | undefined,
): JobCreateBatch[] {
  const batches: JobCreateBatch[] = [];
  const suspended = isSuspended(js);
  const inOrder = inOrderStartup(js);
  const blocked = js.spec?.failurePolicy?.restartStrategy === "BlockingRecreate" && owned.previous.length > 0;
  const existing = new Set<string>();
  for (const bucket of [owned.active, owned.succeeded, owned.failed, owned.previous]) {
    for (const job of bucket) existing.add(job.metadata?.name ?? "");
  }
  const replicasSoFar = new Map<string, number>();
  for (const rjob of js.spec?.replicatedJobs ?? []) {
    replicasSoFar.set(rjob.name, rjobReplicas(rjob));
    if (!dependenciesReached(rjob, replicasSoFar, statuses)) continue;
    if (!suspended && inOrder && replicatedJobStarted(rjob, statuses)) continue;
    if (!blocked) {
      const indexes: number[] = [];
      const missing: string[] = [];
      const names = jobNames(js, rjob);
      for (let idx = 0; idx < names.length; idx++) {
        const name = names[idx] ?? "";
        if (existing.has(name)) continue;
        indexes.push(idx);
        missing.push(name);
      }
      if (indexes.length > 0) {
        batches.push(
          new JobCreateBatch(rjob.name, missing, (i) => {
            const job = constructJob(js, rjob, indexes[i] ?? 0, opts);
            if (link) linkJob(job, link);
            return job;
          }),
        );
      }
    }
    if (!suspended && inOrder) {
      markStartupInProgress(u);
      return batches;
    }
  }
  if (!suspended && inOrder) markStartupCompleted(u);
  return batches;
}

/** §6.7 suspended: suspend every active Job not yet suspended; Suspended=True, RestartingJobSet=False. */
function planSuspend(active: readonly Job[], u: StatusUpdate): JobUpdate[] {
  const updates: JobUpdate[] = [];
  for (const job of active) {
    const update = suspendJob(job);
    if (update) updates.push(update);
  }
  markSuspended(u);
  return updates;
}

/**
 * §6.7 not suspended: per rjob in spec order, skip when dependsOn is unsatisfied or (InOrder) already
 * started; resume its suspended active Jobs; InOrder stops there with StartupPolicyInProgress. A pass
 * that reaches the end flips Suspended to False (only if it exists).
 */
function planResume(
  js: JobSet,
  active: readonly Job[],
  statuses: readonly ReplicatedJobStatus[],
  u: StatusUpdate,
): JobUpdate[] {
  const updates: JobUpdate[] = [];
  const inOrder = inOrderStartup(js);
  const replicasSoFar = new Map<string, number>();
  for (const rjob of js.spec?.replicatedJobs ?? []) {
    replicasSoFar.set(rjob.name, rjobReplicas(rjob));
    if (!dependenciesReached(rjob, replicasSoFar, statuses)) continue;
    if (inOrder && replicatedJobStarted(rjob, statuses)) continue;
    for (const job of active) {
      if (job.metadata?.labels?.[Labels.ReplicatedJobName] !== rjob.name) continue;
      if (job.spec?.suspend === true) updates.push(resumeJob(job, rjob.template.spec?.template));
    }
    if (inOrder) {
      markStartupInProgress(u);
      return updates;
    }
  }
  markResumed(u);
  return updates;
}
