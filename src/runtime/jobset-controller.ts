// The JobSet controller: informers feed a work queue; a worker reconciles one key at a time as
//   observe (from the caches) → plan (pure, src/controller/plan.ts) → execute (src/runtime/executor.ts).
//
// Watches (spec §5.1): JobSets in every namespace (every event, status-only updates included, so the
// controller's own status write triggers one more — normally empty — pass); Jobs, indexed by the UID of
// their controller owner when that owner is a jobset.x-k8s.io/v1alpha2 JobSet, enqueue that owner;
// Services (all, because the headless-Service check is by name whoever owns it) enqueue their JobSet
// owner; with gate InPlaceRestart, pods labelled `jobset.sigs.k8s.io/jobset-name` enqueue `<ns>/<label>`.
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

import { DefaultLeaderElectionID, DefaultWorkers } from "../api/config.ts";
import { ApiVersion, JobSetResource, Kind, Labels } from "../api/constants.ts";
import { defaultFeatureGates, type FeatureGates } from "../api/features.ts";
import type { Job, KubeObject, Pod, Service } from "../api/k8s.ts";
import type { JobSet } from "../api/types.ts";
import { type Observed, plan } from "../controller/plan.ts";
import { headlessServiceName, wantsHeadlessService } from "../controller/service.ts";
import { KubeClient } from "./client.ts";
import { type Clock, realClock } from "./clock.ts";
import { EventRecorder } from "./events.ts";
import { type ExecuteResult, execute, type JobSetEventSink, type TerminalMetrics } from "./executor.ts";
import { Informer } from "./informer.ts";
import { KubeLeaseStore } from "./leader-election.ts";
import { type Logger, reconcileLogger, silentLogger } from "./logger.ts";
import { Manager, type ManagerOptions } from "./manager.ts";
import type { Metrics } from "./metrics.ts";
import { Resources, resourcePath } from "./resources.ts";
import { controllerOwnerIndex, namespacedLabelIndex, splitKey } from "./store.ts";
import { jobSetPodCacheTransform } from "./transforms.ts";
import { type ReconcileResult, runWorkers, WorkQueue } from "./workqueue.ts";

export const ControllerName = "jobset";
/** Index of Jobs (and Services) by the UID of their controlling JobSet (spec §5.1 `.metadata.controller`). */
export const OwnerIndex = ".metadata.controller";
/** Index of pods by `<namespace>/<jobset-name label>` (spec §5.1 `podsIndexByJobSet`). */
export const PodsByJobSetIndex = "podsIndexByJobSet";

export interface JobSetControllerOptions {
  client: KubeClient;
  gates?: FeatureGates;
  /** Concurrent reconciles (default 1, upstream's MaxConcurrentReconciles). */
  workers?: number;
  /** Watch only this namespace (tests); default: all namespaces. */
  namespace?: string;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** Event sink; default: an events.k8s.io/v1 recorder on `client` (reporting controller `jobset`). */
  events?: JobSetEventSink & { flush?: () => Promise<void> };
  /** Informer resync period (default 10 min; 0 disables). */
  resyncPeriodMs?: number;
  /** Max requests in flight for creates/deletes of one step (default 50). */
  parallelism?: number;
  /** A pod informer to share (watching pods labelled `jobset.sigs.k8s.io/jobset-name`); used with gate InPlaceRestart. */
  pods?: Informer<Pod>;
  /**
   * The queue to feed, owned by a Manager controller (see addJobSetController); default: an own queue
   * whose workers `start()` runs.
   */
  queue?: WorkQueue;
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
  readonly events: JobSetEventSink & { flush?: () => Promise<void> };
  /** Counters for tests and benchmarks. */
  readonly stats = { reconciles: 0, errors: 0, writes: 0, skippedStale: 0 };
  private readonly o: JobSetControllerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  /** JobSet UID → Job name → the Job as created, until the Job informer shows that name. */
  private readonly pending = new Map<string, Map<string, PendingCreate>>();
  /** JobSet key → resourceVersion our last successful status write replaced. */
  private readonly superseded = new Map<string, string>();
  private workers: Promise<void> | undefined;
  private started = false;

  constructor(o: JobSetControllerOptions) {
    this.o = o;
    this.clock = o.clock ?? realClock;
    this.gates = o.gates ?? defaultFeatureGates;
    this.log = (o.logger ?? silentLogger()).child({ controller: ControllerName });
    this.metrics = o.metrics;
    if (o.queue) this.queue = o.queue;
    else {
      const queueOpts: ConstructorParameters<typeof WorkQueue>[0] = { name: ControllerName, clock: this.clock };
      if (o.metrics) queueOpts.metrics = o.metrics.queueSink(ControllerName);
      this.queue = new WorkQueue(queueOpts);
      o.metrics?.trackQueue(ControllerName, this.queue);
      o.metrics?.initController(ControllerName, Math.max(1, o.workers ?? DefaultWorkers));
    }
    this.events = o.events ?? new EventRecorder({ client: o.client, clock: this.clock, logger: this.log });

    const informer = <T extends KubeObject>(path: string, name: string) =>
      new Informer<T>({
        client: o.client,
        path,
        name,
        clock: this.clock,
        logger: this.log,
        resyncPeriodMs: o.resyncPeriodMs ?? 10 * 60_000,
        ...(o.metrics ? { metrics: o.metrics.informerSink(name) } : {}),
      });
    this.jobSets = informer<JobSet>(
      resourcePath({ ...JobSetResource, namespace: o.namespace }),
      "jobsets.jobset.x-k8s.io",
    );
    this.jobs = informer<Job>(resourcePath({ ...Resources.jobs, namespace: o.namespace }), "jobs.batch");
    this.services = informer<Service>(resourcePath({ ...Resources.services, namespace: o.namespace }), "services");
    this.jobs.addIndex(OwnerIndex, controllerOwnerIndex<Job>(ApiVersion, Kind));
    this.services.addIndex(OwnerIndex, controllerOwnerIndex<Service>(ApiVersion, Kind));
    if (o.pods) {
      this.pods = o.pods;
      this.pods.addIndex(PodsByJobSetIndex, namespacedLabelIndex<Pod>(Labels.JobSetName));
    } else if (this.gates.InPlaceRestart) {
      // Only pods of JobSets: the label selector keeps the cache small.
      this.pods = new Informer<Pod>({
        client: o.client,
        path: resourcePath({ ...Resources.pods, namespace: o.namespace }),
        name: "pods",
        labelSelector: Labels.JobSetName,
        transform: jobSetPodCacheTransform,
        clock: this.clock,
        logger: this.log,
        resyncPeriodMs: o.resyncPeriodMs ?? 10 * 60_000,
        ...(o.metrics ? { metrics: o.metrics.informerSink("pods") } : {}),
      });
      this.pods.addIndex(PodsByJobSetIndex, namespacedLabelIndex<Pod>(Labels.JobSetName));
    }
    this.wireHandlers();
  }

  private enqueue(namespace: string | undefined, name: string | undefined): void {
    if (!name) return;
    this.queue.add(`${namespace ?? ""}/${name}`);
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
    const key = (o: KubeObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
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

  /** Whether every informer has synced its first LIST. */
  hasSynced(): boolean {
    return this.informers().every((i) => i.hasSynced());
  }

  /**
   * Starts the informers, waits for their first LIST, then starts the workers. Resolves once workers
   * run (false if `signal` aborted before the caches synced).
   */
  async start(signal?: AbortSignal): Promise<boolean> {
    if (this.started) return true;
    this.started = true;
    for (const i of this.informers()) i.start();
    const synced = await Promise.all(this.informers().map((i) => i.waitForSync(signal)));
    if (!synced.every(Boolean)) return false;
    this.log.info({ workers: this.o.workers ?? DefaultWorkers }, "caches synced, starting workers");
    const hooks = {
      onResult: (_key: string, outcome: Parameters<Metrics["observeReconcile"]>[1], seconds: number) =>
        this.metrics?.observeReconcile(ControllerName, outcome, seconds),
      onActive: (delta: 1 | -1) => this.metrics?.activeWorkers.inc({ controller: ControllerName }, delta),
    };
    this.workers = runWorkers(
      this.queue,
      Math.max(1, this.o.workers ?? DefaultWorkers),
      (k) => this.reconcile(k),
      hooks,
      this.clock,
    );
    return true;
  }

  /** Stops taking keys, waits for in-flight reconciles (at most `drainMs`), stops the informers. */
  async stop(drainMs = 30_000): Promise<void> {
    await this.queue.shutDownWithDrain(drainMs);
    await this.workers;
    await Promise.all(this.informers().map((i) => i.stop()));
    await this.events.flush?.();
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
      observed.pods = this.pods.byIndex(PodsByJobSetIndex, `${namespace}/${name}`);
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
    };
    if (this.metrics) deps.metrics = this.metrics satisfies TerminalMetrics;
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

  private remember(js: JobSet | undefined, result: ExecuteResult): void {
    const uid = js?.metadata?.uid;
    if (uid && result.created.length > 0) {
      let names = this.pending.get(uid);
      if (!names) {
        names = new Map();
        this.pending.set(uid, names);
      }
      const at = this.clock.now();
      for (const job of result.created) {
        const n = job.metadata?.name;
        if (n && !this.jobs.get(job.metadata?.namespace ?? "", n)) names.set(n, { job, at });
      }
      if (names.size === 0) this.pending.delete(uid);
    }
    const oldRv = js?.metadata?.resourceVersion;
    if (js && result.written && oldRv && result.written.metadata?.resourceVersion !== oldRv) {
      this.superseded.set(`${js.metadata?.namespace ?? ""}/${js.metadata?.name ?? ""}`, oldRv);
    }
  }
}

/**
 * Registers a JobSet controller with `manager`: its informers (started on every replica) and its
 * reconcile loop (run by the leader, `workers` at a time).
 */
export function addJobSetController(manager: Manager, o: Omit<JobSetControllerOptions, "queue">): JobSetController {
  const box: { c?: JobSetController } = {};
  const ctl = manager.addController({
    name: ControllerName,
    concurrency: Math.max(1, o.workers ?? DefaultWorkers),
    reconcile: (key, ctx) => {
      if (!box.c) throw new Error("JobSet controller not ready");
      return box.c.reconcile(key, ctx);
    },
  });
  const c = new JobSetController({ ...o, queue: ctl.queue });
  box.c = c;
  for (const inf of c.informers()) manager.addInformer(inf);
  return c;
}

export interface StartJobSetControllerOptions extends Omit<JobSetControllerOptions, "client" | "queue"> {
  /** A client to use; otherwise one is made from `kubeconfig` (or the default loading rules / in-cluster). */
  client?: KubeClient;
  kubeconfig?: string;
  qps?: number;
  burst?: number;
  userAgent?: string;
  /** Lease-based leader election; omit to lead at once. */
  leaderElection?: {
    namespace: string;
    /** Default `6d4f6a47.jobset.x-k8s.io`. */
    name?: string;
    identity?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /** Health probes server; omit for none. */
  health?: ManagerOptions["health"];
  /** /metrics server (needs `metrics`); omit for none. */
  metricsServer?: ManagerOptions["metricsServer"];
  gracefulShutdownMs?: number;
  /** Called before the manager starts: add runnables (webhooks), checks, more informers. */
  configure?: (manager: Manager, controller: JobSetController, client: KubeClient) => void | Promise<void>;
  /** Stops the controller when aborted. */
  signal?: AbortSignal;
}

export interface RunningJobSetController {
  controller: JobSetController;
  manager: Manager;
  client: KubeClient;
  /** Settles when the manager has stopped (rejects on a fatal error such as a lost leader election). */
  done: Promise<void>;
  /** Stops gracefully (and closes the client if this function created it). */
  stop(): Promise<void>;
}

/**
 * Starts a JobSet controller in this process under a Manager (leader election, health and metrics
 * servers when asked) and resolves once its caches have synced. Tests call it directly; the
 * `jobset controller` command adds configuration, webhooks and signal handling around it.
 */
export async function startJobSetController(o: StartJobSetControllerOptions): Promise<RunningJobSetController> {
  let client = o.client;
  const owned = client === undefined;
  if (!client) {
    client = await KubeClient.create({
      ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
      qps: o.qps ?? 500,
      burst: o.burst ?? 500,
      ...(o.userAgent ? { userAgent: o.userAgent } : {}),
    });
    o.metrics?.instrumentClient(client);
  }
  const mo: ManagerOptions = {};
  if (o.logger) mo.logger = o.logger;
  if (o.metrics) mo.metrics = o.metrics;
  if (o.clock) mo.clock = o.clock;
  if (o.health) mo.health = o.health;
  if (o.metricsServer) mo.metricsServer = o.metricsServer;
  if (o.gracefulShutdownMs !== undefined) mo.gracefulShutdownMs = o.gracefulShutdownMs;
  if (o.leaderElection) {
    const le = o.leaderElection;
    mo.leaderElection = {
      store: new KubeLeaseStore(client, le.namespace, le.name ?? DefaultLeaderElectionID),
      ...(le.identity ? { identity: le.identity } : {}),
      ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
    };
  }
  const manager = new Manager(mo);
  const {
    client: _c,
    kubeconfig: _k,
    qps: _q,
    burst: _b,
    userAgent: _u,
    leaderElection: _l,
    health: _h,
    metricsServer: _m,
    gracefulShutdownMs: _g,
    configure: _x,
    signal: _s,
    ...copts
  } = o;
  const controller = addJobSetController(manager, { ...copts, client });
  const c = client;
  try {
    await o.configure?.(manager, controller, c);
  } catch (e) {
    if (owned) await c.close();
    throw e;
  }
  const done = manager.start(o.signal);
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      manager.stop();
      await done.catch(() => undefined);
      if (owned) await c.close();
    }
  };
  const synced = Promise.all(controller.informers().map((i) => i.waitForSync(o.signal)));
  const outcome = await Promise.race([
    synced.then((oks) => (oks.every(Boolean) ? "synced" : "stopped")),
    done.then(
      () => "stopped",
      (e: unknown) => e,
    ),
  ]);
  if (outcome !== "synced") {
    await stop();
    throw outcome instanceof Error ? outcome : new Error("JobSet controller stopped before its caches synced");
  }
  return { controller, manager, client: c, done, stop };
}
