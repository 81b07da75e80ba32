// The executor: carries one Plan (src/controller/plan.ts) out against the API server, step by step as
// the `Plan` contract says (spec §5.2 steps 4–7, §5.6, §5.7, §5.8):
//
//   1 delete Jobs (Foreground, ≤ 50 in parallel, NotFound = success)   2 TTL delete of the JobSet
//   3 Service create-if-absent   4 PVC creates   5 scale patches   6 Job creates, batch by batch
//   7 Job updates   8 plan.error   9 metrics   10 ONE status write   11 deferred events   12 requeueAfter
//
// Any failing step "fails the reconcile": nothing after it runs, no status is written, no deferred event
// is emitted, and the error is returned (the caller requeues with backoff). Immediate events (creation
// failures) are emitted as they happen.
//
// Deliberate differences from upstream, both for restart safety with a possibly stale cache:
// - AlreadyExists on a Job create is success when the existing Job's controller ownerReference has our
//   JobSet's UID (it was created by an earlier pass whose result the cache has not shown yet). A Job of
//   that name owned by anyone else stays an error, as upstream.
// - Deletes carry the observed UID as a precondition: a 409 then means "that object is already gone and
//   another one of the same name replaced it", which counts as success instead of deleting the newcomer.
// - Job updates (step 7) are merge patches guarded by the cached resourceVersion instead of full
//   Updates: the same stored result and the same Conflict, but they need only the Job fields the cache
//   keeps (jobCacheTransform: the pod template's containers and volumes are not cached).
import { JobSetResource } from "../../api/constants.ts";
import type { Job, PersistentVolumeClaim, Service } from "../../api/k8s.ts";
import type { JobSet } from "../../api/types.ts";
import type { JobSetEvent } from "../../controller/conditions.ts";
import { controllerOf } from "../../controller/owner.ts";
import { type JobCreateBatch, jobCreationFailedMessage, type ObjectRef, type Plan } from "../../controller/plan.ts";
import { clearStartTimePatch, type JobUpdate, jobUpdatePatch } from "../../controller/suspend.ts";
import {
  ApiError,
  type DeleteOptions,
  isAlreadyExists,
  isConflict,
  isNotFound,
  type KubeClient,
} from "../../runtime/client.ts";
import { MaxParallelism, mapSettled } from "../../runtime/parallel.ts";
import { Resources, resourcePath } from "../../runtime/resources.ts";
import { executeScheduling } from "./scheduling-objects.ts";

/** The part of KubeClient the executor uses (tests pass a fake). */
export type ExecutorClient = Pick<KubeClient, "get" | "create" | "update" | "patch" | "delete">;

/** Records an event regarding a JobSet (action `Reconciling`); fire-and-forget. */
export interface JobSetEventSink {
  emit(regarding: JobSet, event: JobSetEvent): void;
}

/** jobset_completed_total / jobset_failed_total (./metrics.ts JobSetMetrics satisfies this). */
export interface TerminalMetrics {
  jobsetCompletedInc(name: string, namespace: string): void;
  jobsetFailedInc(name: string, namespace: string): void;
}

export interface ExecutorDeps {
  client: ExecutorClient;
  events: JobSetEventSink;
  metrics?: TerminalMetrics;
  /** A cache lookup tried before a GET when a Job create answers AlreadyExists. */
  cachedJob?: (namespace: string, name: string) => Job | undefined;
  /** Max requests in flight for deletes and creates within one step (default 50, as upstream). */
  parallelism?: number;
  /**
   * Called as soon as each Job create succeeds (before the rest of the pass), with the Job as the API
   * server returned it: the controller counts it until its informer shows it.
   */
  onCreated?: (job: Job) => void;
}

export interface ExecuteResult {
  /** Requeue the key after this delay (TTL). */
  requeueAfterMs?: number;
  /** The reconcile failed: requeue with backoff. */
  error?: Error;
  /** The JobSet returned by the status write, when one was made and succeeded. */
  written?: JobSet;
  /** Writes sent by this pass (creates, deletes, updates, patches, status). */
  writes: number;
}

// ---------------------------------------------------------------------------------------------- paths

const jobsPath = (namespace: string) => resourcePath({ ...Resources.jobs, namespace });
const jobPath = (namespace: string, name: string, subresource?: string) =>
  resourcePath({ ...Resources.jobs, namespace, name, ...(subresource ? { subresource } : {}) });
const servicesPath = (namespace: string) => resourcePath({ ...Resources.services, namespace });
const pvcsPath = (namespace: string) => resourcePath({ ...Resources.persistentvolumeclaims, namespace });
const jobSetPath = (namespace: string, name: string, subresource?: string) =>
  resourcePath({ ...JobSetResource, namespace, name, ...(subresource ? { subresource } : {}) });

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Joins several errors as Go's errors.Join does (messages separated by newlines). */
export function joinErrors(errors: readonly unknown[]): Error | undefined {
  if (errors.length === 0) return undefined;
  if (errors.length === 1 && errors[0] instanceof Error) return errors[0];
  return new Error(errors.map(errorText).join("\n"));
}

class StepFailed extends Error {
  override name = "ReconcileError";
}

// ---------------------------------------------------------------------------------------------- executor

/** Carries out `plan` for the observed `jobSet` (undefined only when the plan skips). */
export async function execute(plan: Plan, jobSet: JobSet | undefined, deps: ExecutorDeps): Promise<ExecuteResult> {
  const result: ExecuteResult = { writes: 0 };
  if (plan.skip !== undefined || jobSet === undefined) return result;
  const ex = new Execution(plan, jobSet, deps, result);
  try {
    await ex.run();
  } catch (e) {
    result.error = e instanceof Error ? e : new Error(String(e));
    delete result.requeueAfterMs;
    delete result.written;
  }
  return result;
}

class Execution {
  private readonly plan: Plan;
  private readonly js: JobSet;
  private readonly deps: ExecutorDeps;
  private readonly result: ExecuteResult;
  private readonly namespace: string;
  private readonly name: string;
  private readonly limit: number;
  private jobSetDeleted = false;

  constructor(plan: Plan, js: JobSet, deps: ExecutorDeps, result: ExecuteResult) {
    this.plan = plan;
    this.js = js;
    this.deps = deps;
    this.result = result;
    this.namespace = js.metadata?.namespace ?? "";
    this.name = js.metadata?.name ?? "";
    this.limit = deps.parallelism ?? MaxParallelism;
  }

  private immediate(reason: string, message: string): void {
    this.deps.events.emit(this.js, { type: "Warning", reason, message });
  }

  async run(): Promise<void> {
    const p = this.plan;
    await this.deleteJobs(p.deletes.jobs); // 1
    if (p.deletes.jobSet) await this.deleteJobSet(p.deletes.jobSet); // 2
    if (p.scheduling) await this.scheduling(p.scheduling); // 2b: Workload/PodGroups before any Job
    if (p.creates.service) await this.createService(p.creates.service); // 3
    if (p.creates.pvcs.length > 0) await this.createPVCs(p.creates.pvcs); // 4
    if (p.updates.scale.length > 0) await this.scale(); // 5
    for (const batch of p.creates.jobs) await this.createJobs(batch); // 6
    for (const u of p.updates.jobs) await this.updateJob(u); // 7
    if (p.error !== undefined) throw new StepFailed(p.error); // 8
    // 9: counted when the condition is set in memory, even if the write below fails (§5.10).
    if (p.metrics.completed) this.deps.metrics?.jobsetCompletedInc(this.name, this.namespace);
    if (p.metrics.failed) this.deps.metrics?.jobsetFailedInc(this.name, this.namespace);
    if (p.status !== undefined) {
      const written = await this.writeStatus(); // 10
      if (written === undefined) return; // the JobSet went away under a TTL delete of this pass
      this.result.written = written;
    }
    for (const ev of p.events) this.deps.events.emit(this.js, ev); // 11
    if (p.requeueAfterMs !== undefined) this.result.requeueAfterMs = p.requeueAfterMs; // 12
  }

  /** spec.scheduling: Workload/PodGroup deletes and creates (runtime/scheduling-objects.ts). */
  private async scheduling(actions: NonNullable<Plan["scheduling"]>): Promise<void> {
    await executeScheduling(actions, this.deps.client, {
      onWrite: () => {
        this.result.writes++;
      },
      onCreateFailed: (message) => this.immediate("SchedulingObjectCreationFailed", message),
    });
  }

  /** §5.7: Foreground, ≤ 50 in parallel, NotFound (or UID precondition conflict) = success, errors joined. */
  private async deleteJobs(refs: readonly ObjectRef[]): Promise<void> {
    if (refs.length === 0) return;
    const results = await mapSettled(refs, this.limit, (ref) =>
      this.deleteObject(jobPath(ref.namespace, ref.name), ref),
    );
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    const err = joinErrors(errors);
    if (err) throw err;
  }

  private async deleteObject(path: string, ref: ObjectRef): Promise<void> {
    const opts: DeleteOptions = { propagationPolicy: "Foreground" };
    if (ref.uid) opts.preconditions = { uid: ref.uid };
    this.result.writes++;
    try {
      await this.deps.client.delete(path, opts);
    } catch (e) {
      if (isNotFound(e)) return;
      if (ref.uid && isConflict(e)) return; // UID precondition failed: the object we saw no longer exists
      throw e;
    }
  }

  private async deleteJobSet(ref: ObjectRef): Promise<void> {
    await this.deleteObject(jobSetPath(ref.namespace, ref.name), ref);
    this.jobSetDeleted = true;
  }

  /** Create-if-absent: AlreadyExists is success; another failure emits `failedReason` at once and is thrown. */
  private async createIfAbsent(
    path: string,
    obj: Service | PersistentVolumeClaim,
    failedReason: string,
  ): Promise<void> {
    this.result.writes++;
    try {
      await this.deps.client.create(path, obj);
    } catch (e) {
      if (isAlreadyExists(e)) return;
      this.immediate(failedReason, errorText(e));
      throw e;
    }
  }

  private async createService(svc: Service): Promise<void> {
    const path = servicesPath(svc.metadata?.namespace ?? this.namespace);
    await this.createIfAbsent(path, svc, "HeadlessServiceCreationFailed");
  }

  /** Every PVC is tried; the failures are joined. */
  private async createPVCs(pvcs: readonly PersistentVolumeClaim[]): Promise<void> {
    const errors: unknown[] = [];
    for (const pvc of pvcs) {
      const path = pvcsPath(pvc.metadata?.namespace ?? this.namespace);
      await this.createIfAbsent(path, pvc, "PVCCreationFailed").catch((e: unknown) => errors.push(e));
    }
    const err = joinErrors(errors);
    if (err) throw err;
  }

  private async scale(): Promise<void> {
    const errors: unknown[] = [];
    for (const s of this.plan.updates.scale) {
      this.result.writes++;
      try {
        await this.deps.client.patch(jobPath(s.namespace, s.name), s.patch, "merge");
      } catch (e) {
        errors.push(e);
      }
    }
    const err = joinErrors(errors);
    if (err) throw err;
  }

  /** §5.8 step 4: ≤ 50 creates in parallel; any failure → immediate JobCreationFailed, fail the reconcile. */
  private async createJobs(batch: JobCreateBatch): Promise<void> {
    // Each Job is built right before its create, and nothing is kept of it or of the answer once onCreated
    // has taken what it needs: 1,000 built and 1,000 parsed Jobs held until the whole batch ended were a
    // good part of a creation burst's peak memory.
    const results = await mapSettled(batch.names, this.limit, async (_name, i) => {
      const created = await this.createJob(batch.job(i));
      if (created) this.deps.onCreated?.(created);
    });
    const failures: { name: string; error: string }[] = [];
    results.forEach((r, i) => {
      if (r.status === "fulfilled") return;
      failures.push({ name: batch.names[i] ?? "", error: errorText(r.reason) });
    });
    if (failures.length === 0) return;
    const message = jobCreationFailedMessage(failures);
    this.immediate("JobCreationFailed", message);
    throw new StepFailed(message);
  }

  /** Creates one Job; AlreadyExists of a Job we control is success (returns undefined). */
  private async createJob(job: Job): Promise<Job | undefined> {
    const ns = job.metadata?.namespace ?? this.namespace;
    const name = job.metadata?.name ?? "";
    this.result.writes++;
    try {
      return await this.deps.client.create<Job>(jobsPath(ns), job);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const uid = this.js.metadata?.uid;
      if (uid && (await this.ownedJobExists(ns, name, uid))) return undefined;
      throw e;
    }
  }

  private async ownedJobExists(ns: string, name: string, uid: string): Promise<boolean> {
    const cached = this.deps.cachedJob?.(ns, name);
    if (cached && controllerOf(cached)?.uid === uid) return true;
    try {
      const live = await this.deps.client.get<Job>(jobPath(ns, name));
      return controllerOf(live)?.uid === uid;
    } catch (e) {
      if (e instanceof ApiError) return false;
      throw e;
    }
  }

  /**
   * §6.7: the Job write as a merge patch guarded by the cached resourceVersion (suspend.ts
   * jobUpdatePatch); a resume with `clearStartTime` first patches the status subresource.
   */
  private async updateJob(u: JobUpdate): Promise<void> {
    const ns = u.job.metadata?.namespace ?? this.namespace;
    const name = u.job.metadata?.name ?? "";
    let resourceVersion = u.job.metadata?.resourceVersion;
    if (u.clearStartTime) {
      this.result.writes++;
      const afterStatus = await this.deps.client.patch<Job>(
        jobPath(ns, name, "status"),
        clearStartTimePatch(resourceVersion),
        "merge",
      );
      resourceVersion = afterStatus.metadata?.resourceVersion ?? resourceVersion;
    }
    this.result.writes++;
    await this.deps.client.patch(jobPath(ns, name), jobUpdatePatch(u, resourceVersion), "merge");
  }

  /**
   * §5.6: one full UpdateStatus with the observed resourceVersion. A Conflict fails the reconcile (the
   * retry replans from a fresher cache). If this pass deleted the JobSet (TTL), a Conflict or NotFound
   * means the deletion got there first: nothing more to do, no events (returns undefined).
   */
  private async writeStatus(): Promise<JobSet | undefined> {
    const body: JobSet = { ...this.js, status: this.plan.status };
    this.result.writes++;
    try {
      return await this.deps.client.update<JobSet>(jobSetPath(this.namespace, this.name, "status"), body);
    } catch (e) {
      if (this.jobSetDeleted && (isConflict(e) || isNotFound(e))) return undefined;
      throw e;
    }
  }
}
