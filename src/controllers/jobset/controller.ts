// The JobSet controller (controller name `jobset`): its informers feed the work queue the Manager gives
// it; a worker reconciles one key at a time as
//   observe (from the caches) → plan (pure, src/controller/plan.ts) → execute (./executor.ts).
// setupJobSetController is the registration with the Manager (controller-runtime's SetupWithManager).
//
// Watches (spec §5.1): JobSets in every namespace (every event, status-only updates included, so the
// controller's own status write triggers one more — normally empty — pass); Jobs, indexed by the UID of
// their controller owner when that owner is a jobset.x-k8s.io/v1alpha2 JobSet, enqueue that owner;
// Services (all, because the headless-Service check is by name whoever owns it) enqueue their JobSet
// owner; with gate InPlaceRestart, pods labelled `jobset.sigs.k8s.io/jobset-name` (the shared JobSet-pods
// cache, ../pods.ts) enqueue `<ns>/<label>`.
//
// Cache staleness. Reads come from informer caches that lag our own writes by a watch round trip:
// - Jobs we just created may be missing from the cache on the next pass. The controller remembers the
//   Jobs each pass created (per JobSet UID) and adds them to the observation until the Job informer has
//   seen any event for that name (or 60 s passed), so the plan neither re-creates them nor miscounts
//   them; and the executor treats AlreadyExists of a Job we control as success anyway.
// - After a successful status write, the cached JobSet is the version we overwrote until the watch
//   delivers ours. A pass that still sees that superseded resourceVersion would plan from an old status
//   (and its write would fail with 409): it is skipped, the watch event of our write enqueues the key.
//   A status write that does conflict (someone else wrote) fails the pass → rate-limited retry, as upstream.
//
// Concurrency: `workers` (default DefaultWorkers of api/config.ts); the queue never hands one key to two workers.

import { DefaultWorkers } from "../../api/config.ts";
import {
  ApiVersion,
  EventAction,
  EventReportingController,
  JobSetResource,
  Kind,
  Labels,
} from "../../api/constants.ts";
import { defaultFeatureGates, type FeatureGates } from "../../api/features.ts";
import type { Job, KubeObject, Pod, Service } from "../../api/k8s.ts";
import type { JobSet } from "../../api/types.ts";
import { type Observed, plan } from "../../controller/plan.ts";
import { usesScheduling } from "../../controller/scheduling.ts";
import { headlessServiceName, wantsHeadlessService } from "../../controller/service.ts";
import { type ResourceRef, Resources, resourcePath } from "../../runtime/client.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { EventRecorder } from "../../runtime/events.ts";
import { Informer } from "../../runtime/informer.ts";
import { type Logger, reconcileLogger, silentLogger } from "../../runtime/logger.ts";
import type { Manager } from "../../runtime/manager.ts";
import { controllerOwnerIndex, objectKey, splitKey } from "../../runtime/store.ts";
import type { ReconcileResult, WorkQueue } from "../../runtime/workqueue.ts";
import type { ControllerDeps } from "../deps.ts";
import { jobSetPodsInformer, namespacedIndexValue, PodsByJobSetIndex } from "../pods.ts";
import { type ExecuteResult, execute, type JobSetEventSink, type TerminalMetrics } from "./executor.ts";
import { jobCacheTransform } from "./job-cache.ts";
import { jobSetMetrics } from "./metrics.ts";
import { SchedulingObjects } from "./scheduling-objects.ts";

export const ControllerName = "jobset";
/** Index of Jobs (and Services) by the UID of their controlling JobSet (spec §5.1 `.metadata.controller`). */
export const OwnerIndex = ".metadata.controller";

/** The events.k8s.io/v1 recorder of the JobSet controller (reporting controller `jobset`, action `Reconciling`). */
export function jobSetEventRecorder(deps: Omit<ControllerDeps, "metrics">): EventRecorder {
  return new EventRecorder({
    client: deps.client,
    reportingController: EventReportingController,
    action: EventAction,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}

/** An event sink the controller can flush on shutdown. */
export type JobSetEvents = JobSetEventSink & { flush?: () => Promise<void> };

/** How the JobSet controller behaves (everything optional). */
export interface JobSetControllerSettings {
  gates?: FeatureGates;
  /** Concurrent reconciles (default 1, upstream's MaxConcurrentReconciles). */
  workers?: number;
  /** Watch only this namespace (tests); default: all namespaces. */
  namespace?: string;
  /** Informer resync period (default 10 min; 0 disables). */
  resyncPeriodMs?: number;
  /** Max requests in flight for creates/deletes of one step (default 50). */
  parallelism?: number;
  /** Event sink; default: an events.k8s.io/v1 recorder on the client (reporting controller `jobset`). */
  events?: JobSetEvents;
  /**
   * The JobSet-pods cache (../pods.ts) to share, registered with the manager by its owner. With gate
   * InPlaceRestart and none given, setupJobSetController makes and registers one.
   */
  pods?: Informer<Pod>;
}

export interface JobSetControllerOptions extends ControllerDeps, JobSetControllerSettings {
  /** The queue its event handlers feed (the Manager's: see setupJobSetController). */
  queue: WorkQueue;
}

interface PendingCreate {
  job: Job;
  at: number;
}

/** How long a created Job is added to observations while the cache has not shown it. */
const PendingTtlMs = 60_000;

/**
 * Whether the cached Job reads the same to plan() as the Job we sent: same labels, suspend, parallelism
 * (server default 1) and completions, no status counts or conditions, not being deleted.
 */
function unchangedForPlan(created: Job, cached: Job): boolean {
  const a = created.metadata?.labels ?? {};
  const b = cached.metadata?.labels ?? {};
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length || keys.some((k) => a[k] !== b[k])) return false;
  const st = cached.status;
  return (
    !cached.metadata?.deletionTimestamp &&
    (created.spec?.suspend ?? false) === (cached.spec?.suspend ?? false) &&
    (created.spec?.parallelism ?? 1) === (cached.spec?.parallelism ?? 1) &&
    created.spec?.completions === cached.spec?.completions &&
    !st?.active &&
    !st?.ready &&
    !st?.succeeded &&
    !st?.failed &&
    (st?.conditions?.length ?? 0) === 0
  );
}

export class JobSetController {
  readonly queue: WorkQueue;
  readonly jobSets: Informer<JobSet>;
  readonly jobs: Informer<Job>;
  readonly services: Informer<Service>;
  readonly pods: Informer<Pod> | undefined;
  readonly gates: FeatureGates;
  readonly events: JobSetEvents;
  /** Counters for tests and benchmarks. */
  readonly stats = { reconciles: 0, errors: 0, writes: 0, skippedStale: 0 };
  private readonly o: JobSetControllerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly terminalMetrics: TerminalMetrics | undefined;
  /** JobSet UID → Job name → the Job as created, until the Job informer shows that name. */
  private readonly pending = new Map<string, Map<string, PendingCreate>>();
  /**
   * UIDs of Jobs whose deletion the informer showed, with when (kept PendingTtlMs): a create answered
   * after its Job was already seen and deleted must not count that Job as pending.
   */
  private readonly deletedJobs = new Map<string, number>();
  /** JobSet key → resourceVersion our last successful status write replaced. */
  private readonly superseded = new Map<string, string>();
  /** spec.scheduling: Workload/PodGroup lookups (gate JobSetWorkloadAwareSchedulingAPI). */
  private readonly schedulingObjects: SchedulingObjects;

  constructor(o: JobSetControllerOptions) {
    this.o = o;
    this.queue = o.queue;
    this.clock = o.clock ?? realClock;
    this.gates = o.gates ?? defaultFeatureGates;
    this.log = (o.logger ?? silentLogger()).child({ controller: ControllerName });
    this.terminalMetrics = o.metrics ? jobSetMetrics(o.metrics.registry) : undefined;
    this.schedulingObjects = new SchedulingObjects(o.client, () => this.clock.now());
    this.events = o.events ?? jobSetEventRecorder({ client: o.client, clock: this.clock, logger: this.log });

    const informer = <T extends KubeObject>(
      ref: Omit<ResourceRef, "namespace" | "name">,
      name: string,
      transform?: (obj: KubeObject) => KubeObject,
    ) =>
      new Informer<T>({
        client: o.client,
        path: resourcePath({ ...ref, ...(o.namespace ? { namespace: o.namespace } : {}) }),
        name,
        clock: this.clock,
        logger: this.log,
        resyncPeriodMs: o.resyncPeriodMs ?? 10 * 60_000,
        ...(o.metrics ? { metrics: o.metrics.informerSink(name) } : {}),
        ...(transform ? { transform } : {}),
      });
    this.jobSets = informer<JobSet>(JobSetResource, "jobsets.jobset.x-k8s.io");
    this.jobs = informer<Job>(Resources.jobs, "jobs.batch", jobCacheTransform);
    this.services = informer<Service>(Resources.services, "services");
    this.jobs.addIndex(OwnerIndex, controllerOwnerIndex<Job>(ApiVersion, Kind));
    this.services.addIndex(OwnerIndex, controllerOwnerIndex<Service>(ApiVersion, Kind));
    this.pods = o.pods;
    this.wireHandlers();
  }

  private enqueue(namespace: string | undefined, name: string | undefined): void {
    if (name) this.queue.add(objectKey({ metadata: { namespace: namespace ?? "", name } }));
  }

  private enqueueOwner(obj: KubeObject): void {
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      if (ref.controller && ref.apiVersion === ApiVersion && ref.kind === Kind) {
        this.enqueue(obj.metadata?.namespace, ref.name);
        return;
      }
    }
  }

  private wireHandlers(): void {
    const key = objectKey;
    this.jobSets.addEventHandler({
      onAdd: (js) => this.queue.add(key(js)),
      onUpdate: (_old, js) => this.queue.add(key(js)),
      onDelete: (js) => {
        const uid = js.metadata?.uid;
        if (uid) this.pending.delete(uid);
        this.superseded.delete(key(js));
        this.queue.add(key(js));
      },
    });
    /** Forgets a pending create; returns the Job as we created it, if it was pending. */
    const seen = (job: Job): Job | undefined => {
      const uid = controllerOwnerIndex<Job>(ApiVersion, Kind)(job)[0];
      const names = uid === undefined ? undefined : this.pending.get(uid);
      if (!names || uid === undefined) return undefined;
      const name = job.metadata?.name ?? "";
      const created = names.get(name)?.job;
      names.delete(name);
      if (names.size === 0) this.pending.delete(uid);
      return created;
    };
    this.jobs.addEventHandler({
      onAdd: (job) => {
        // A Job this controller created and already counted in its observations (client-go's
        // "expectations"): its ADD event changes nothing a plan reads, so it needs no reconcile.
        const created = seen(job);
        if (created && unchangedForPlan(created, job)) return;
        this.enqueueOwner(job);
      },
      onUpdate: (old, job) => {
        seen(job);
        this.enqueueOwner(old);
        this.enqueueOwner(job);
      },
      onDelete: (job) => {
        seen(job);
        const uid = job.metadata?.uid;
        if (uid) {
          this.pruneDeletedJobs();
          this.deletedJobs.set(uid, this.clock.now());
        }
        this.enqueueOwner(job);
      },
    });
    this.services.addEventHandler({
      onAdd: (s) => this.enqueueOwner(s),
      onUpdate: (old, s) => {
        this.enqueueOwner(old);
        this.enqueueOwner(s);
      },
      onDelete: (s) => this.enqueueOwner(s),
    });
    if (this.pods && this.gates.InPlaceRestart) {
      const byLabel = (p: Pod) => this.enqueue(p.metadata?.namespace, p.metadata?.labels?.[Labels.JobSetName]);
      this.pods.addEventHandler({ onAdd: byLabel, onUpdate: (_o, p) => byLabel(p), onDelete: byLabel });
    }
  }

  /** The informers this controller reads (a Manager starts and syncs them). */
  informers(): Informer<KubeObject>[] {
    const all = [this.jobSets, this.jobs, this.services, this.pods].filter((x) => x !== undefined);
    return all as unknown as Informer<KubeObject>[];
  }

  /** What plan() sees for `namespace/name`, from the caches (plus Jobs created but not yet cached). */
  observe(namespace: string, name: string): Observed {
    const js = this.jobSets.get(namespace, name);
    const observed: Observed = { jobSet: js, jobs: [], serviceExists: undefined, now: new Date(this.clock.now()) };
    if (!js) return observed;
    const uid = js.metadata?.uid ?? "";
    const jobs = uid ? this.jobs.byIndex(OwnerIndex, uid).filter((j) => j.metadata?.namespace === namespace) : [];
    const pending = this.pending.get(uid);
    if (pending) {
      const now = this.clock.now();
      const names = new Set(jobs.map((j) => j.metadata?.name ?? ""));
      for (const [jobName, p] of pending) {
        if (names.has(jobName) || now - p.at > PendingTtlMs) pending.delete(jobName);
        else jobs.push(p.job);
      }
      if (pending.size === 0) this.pending.delete(uid);
    }
    observed.jobs = jobs;
    if (wantsHeadlessService(js))
      observed.serviceExists = this.services.get(namespace, headlessServiceName(js)) !== undefined;
    if (this.pods && this.gates.InPlaceRestart && js.spec?.failurePolicy?.restartStrategy === "InPlaceRestart") {
      observed.pods = this.pods.byIndex(PodsByJobSetIndex, namespacedIndexValue(namespace, name));
    }
    return observed;
  }

  /** One reconcile of `namespace/name` (throws to request a rate-limited retry). */
  async reconcile(key: string, ctx?: { log: Logger }): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const log = ctx?.log ?? reconcileLogger(this.log, { controller: ControllerName, namespace, name });
    this.stats.reconciles++;
    const cached = this.jobSets.get(namespace, name);
    const rv = cached?.metadata?.resourceVersion;
    const superseded = this.superseded.get(key);
    if (superseded !== undefined) {
      if (rv === superseded) {
        // The cache still shows the version our last status write replaced: wait for the watch event.
        this.stats.skippedStale++;
        log.debug({ resourceVersion: rv }, "cache has not caught up with our status write yet");
        return { requeueAfterMs: 1000 };
      }
      this.superseded.delete(key);
    }
    const observed = this.observe(namespace, name);
    if (observed.jobSet && usesScheduling(observed.jobSet, this.gates.JobSetWorkloadAwareSchedulingAPI)) {
      observed.scheduling = await this.schedulingObjects.observe(observed.jobSet);
    }
    const p = plan(observed, { gates: this.gates });
    for (const line of p.log) log.debug(line);
    if (p.skip) {
      log.debug({ skip: p.skip }, "nothing to reconcile");
      return {};
    }
    const deps: Parameters<typeof execute>[2] = {
      client: this.o.client,
      events: this.events,
      cachedJob: (ns, n) => this.jobs.get(ns, n),
      onCreated: (job) => this.expectCreated(observed.jobSet?.metadata?.uid, job),
    };
    if (this.terminalMetrics) deps.metrics = this.terminalMetrics;
    if (this.o.parallelism !== undefined) deps.parallelism = this.o.parallelism;
    const result: ExecuteResult = await execute(p, observed.jobSet, deps);
    this.stats.writes += result.writes;
    this.remember(observed.jobSet, result);
    if (result.error) {
      this.stats.errors++;
      log.debug({ err: result.error.message, writes: result.writes }, "reconcile failed, will retry");
      throw result.error;
    }
    if (result.writes > 0) log.debug({ writes: result.writes }, "reconciled");
    return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : {};
  }

  /**
   * A Job this controller just created (as the API server returned it) counts in the JobSet's
   * observations until the informer shows it — unless the informer already has it, or already showed
   * it deleted (its ADD and DELETE can both arrive before the create's answer is handled).
   */
  private expectCreated(jobSetUid: string | undefined, job: Job): void {
    const n = job.metadata?.name;
    if (!jobSetUid || !n || this.jobs.get(job.metadata?.namespace ?? "", n)) return;
    this.pruneDeletedJobs();
    const now = this.clock.now();
    const uid = job.metadata?.uid;
    if (uid && this.deletedJobs.has(uid)) return;
    let names = this.pending.get(jobSetUid);
    if (!names) {
      names = new Map();
      this.pending.set(jobSetUid, names);
    }
    // Kept as the cache would keep it: plan() reads the same fields from both.
    names.set(n, { job: jobCacheTransform(job) as Job, at: now });
  }

  /** Forgets deletions older than PendingTtlMs (oldest first: the map is in insertion order). */
  private pruneDeletedJobs(): void {
    const now = this.clock.now();
    for (const [uid, at] of this.deletedJobs) {
      if (now - at <= PendingTtlMs) return;
      this.deletedJobs.delete(uid);
    }
  }

  private remember(js: JobSet | undefined, result: ExecuteResult): void {
    const oldRv = js?.metadata?.resourceVersion;
    if (js && result.written && oldRv && result.written.metadata?.resourceVersion !== oldRv) {
      this.superseded.set(objectKey(js), oldRv);
    }
  }
}

/**
 * Registers the JobSet controller with `manager` (controller-runtime's SetupWithManager): its informers
 * (started and synced on every replica) and its reconcile loop (run by the leader, `workers` at a time,
 * errors logged and counted by the manager).
 */
export function setupJobSetController(
  manager: Manager,
  deps: ControllerDeps,
  settings: JobSetControllerSettings = {},
): JobSetController {
  const registration = manager.addController({
    name: ControllerName,
    concurrency: Math.max(1, settings.workers ?? DefaultWorkers),
    // late-bound, so that tests may wrap `controller.reconcile`
    reconcile: (key, ctx) => controller.reconcile(key, ctx),
  });
  let pods = settings.pods;
  if (!pods && (settings.gates ?? defaultFeatureGates).InPlaceRestart) {
    pods = manager.addInformer(
      jobSetPodsInformer(deps, {
        ...(settings.namespace ? { namespace: settings.namespace } : {}),
        ...(settings.resyncPeriodMs !== undefined ? { resyncPeriodMs: settings.resyncPeriodMs } : {}),
      }),
    );
  }
  const controller = new JobSetController({
    ...deps,
    ...settings,
    ...(pods ? { pods } : {}),
    queue: registration.queue,
  });
  for (const informer of [controller.jobSets, controller.jobs, controller.services]) manager.addInformer(informer);
  return controller;
}
