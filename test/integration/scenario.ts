// Data-driven integration tests: a JobSet plus steps of (action, expected state), run against the
// shared `apiserver` control plane (etcd + kube-apiserver, no Kubernetes controllers) with a JobSet
// controller started in-process for each scenario, watching only the scenario's own namespace.
//
// ── API ───────────────────────────────────────────────────────────────────────────────────────────
//
//   import { runScenarios, type Scenario } from "./scenario.ts";
//   runScenarios("success policy", [
//     {
//       name: "all jobs complete → Completed",
//       jobSet: jobSet("js").replicatedJob(rjob("w").replicas(2)),    // builder or object; name kept,
//       gates: { RestartJob: true },                                    // namespace replaced by the test's
//       steps: [
//         { expect: { jobs: 2, service: true } },
//         { do: (ctx) => ctx.completeJobs(), expect: {
//             jobs: 0,                                                    // (finished Jobs are not counted)
//             status: { terminalState: "Completed" },
//             conditions: [{ type: "Completed", status: "True", reason: "AllJobsCompleted" }],
//             events: [{ reason: "AllJobsCompleted", type: "Normal" }] } },
//       ],
//     },
//   ]);
//
// Scenario fields:
//   name       test name (also seeds the namespace name)
//   jobSet     JobSetBuilder or JobSet; created once at the start (after `defaultJobSet`, the mutating
//              webhook, unless `webhookDefaults: false`; no validating webhook runs in this profile)
//   gates      feature gates for this scenario's controller
//   create     false → the scenario creates the JobSet itself in its first step (ctx.create())
//   steps      run in order; each step runs `do` once, then polls until every `expect` holds
//              (default deadline 30 s, `timeoutMs` per step). `finalizeDeleted: true` on a step (or the
//              scenario) removes the foreground-deletion finalizer of deleted Jobs while polling — the
//              apiserver profile has no garbage collector, so a foreground-deleted Job stays forever.
//              `settle: true` on a step: after `do`, wait until the controller is idle and its caches
//              hold the live JobSet and Jobs (ctx.settled()), then `expect` must hold AT ONCE (no
//              polling) — for "nothing happens" expectations.
//   invariants false → skip the end-of-scenario trace checks (see ControllerTrace): every reconcile
//              wrote the JobSet status at most once, a failed reconcile wrote none, and every deferred
//              event was emitted right after a successful status write of its reconcile (§5.6).
//
// Expectation (every given field must hold at the same poll):
//   jobs         number: count of owned Jobs that are not finished (Complete/Failed) and not being
//                deleted; or a predicate `(jobs, ctx) => true | string` over ALL owned Jobs (a string
//                explains the mismatch)
//   jobNames     sorted names of owned Jobs not being deleted (any state)
//   status       deep partial match against JobSet.status (arrays: same length, element-wise partial;
//                arrays of named items such as `replicatedJobsStatus` are matched by name, order-
//                insensitive, and only the listed names are checked; `null` = absent)
//   conditions   each {type, status?, reason?, message?} must be present on the JobSet
//   absentConditions  condition types that must not be present
//   events       each {reason, type?, message?} must have been recorded regarding the JobSet
//                (events.k8s.io/v1; each must also carry action `Reconciling`, reportingController `jobset`)
//   reconcileError  a reconcile of the controller failed with this error message (string: exact, or RegExp)
//   service      true: Service `<subdomain>` exists; false: it does not
//   deleted      true: the JobSet no longer exists (or is being deleted)
//   check        `(ctx) => Promise<true | string | undefined>`: extra polled check (undefined = ok)
//
// Context (`ctx`) passed to `do` and `check`:
//   client, namespace, name, controller (the JobSetController), uid (of the JobSet created)
//   create(), jobSet(), updateJobSet(mutate)          GET / GET+PUT with conflict retries
//   jobs(), job(name), jobName(rjob, index)           owned Jobs (by controller owner UID)
//   completeJob(name), failJob(name, reason?, message?), setJobActive(name, active, ready?),
//   readyJob(name)      (active = ready = pods count), completeJobs(filter?), readyJobs(filter?)
//                       — Job status writes the API server accepts (see below)
//   deleteJob(name, propagation?)  finalizeDeleted()  (remove `foregroundDeletion` from deleting Jobs)
//   events()            events.k8s.io/v1 events regarding the JobSet
//   failJob(name, reason?, message?, at?)  `at` backdates the failure conditions (first-failed-job order)
//   finalizeJob(name)   removes `foregroundDeletion` from one Job;  createJob(job)  raw create in the ns
//   updateJobSetStatus(mutate)   PUT /status;  settled()  wait for an idle, caught-up controller
//   trace               the controller's requests, reconciles, events (ControllerTrace);
//   reconcileErrors     messages of failed reconciles
//
// Job status transitions: Kubernetes ≥ 1.31 validates Job status updates. A Job may only become
// `Complete` together with `SuccessCriteriaMet=True`, a `startTime`, a `completionTime` ≥ startTime,
// no active/terminating pods; `Failed` needs `FailureTarget=True` and a `startTime`; `ready ≤ active`;
// `startTime` cannot change once set on an unsuspended Job. The helpers here write exactly that.
import { before, describe, test } from "node:test";
import { JobSetResource } from "../../src/api/constants.ts";
import { defaultJobSet } from "../../src/api/defaults.ts";
import type { FeatureName } from "../../src/api/features.ts";
import { parseFeatureGates } from "../../src/api/features.ts";
import type { Job } from "../../src/api/k8s.ts";
import { rfc3339 } from "../../src/api/time.ts";
import type { JobSet } from "../../src/api/types.ts";
import { startControllerManager } from "../../src/app/controller-manager.ts";
import { controllerRef } from "../../src/controller/owner.ts";
import { headlessServiceName } from "../../src/controller/service.ts";
import { type JobSetController, jobSetEventRecorder } from "../../src/controllers/jobset/controller.ts";
import { ApiError, isConflict, isNotFound, KubeClient, type RequestInfo } from "../../src/runtime/client.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { Resources, resourcePath } from "../../src/runtime/resources.ts";
import { JobSetBuilder } from "../builders.ts";
import { getIfExists, type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";

// ---------------------------------------------------------------------------------------------- paths

export const jobSetsPath = (namespace: string) => resourcePath({ ...JobSetResource, namespace });
export const jobsPath = (namespace: string) => resourcePath({ ...Resources.jobs, namespace });

// ---------------------------------------------------------------------------------------------- Job status

/** GET-mutate-PUT with retries on conflict. `mutate` returns false to skip the write. */
export async function updateWithRetry<T extends { metadata?: { resourceVersion?: string } }>(
  client: KubeClient,
  getPath: string,
  putPath: string,
  mutate: (obj: T) => boolean | undefined,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const obj = await client.get<T>(getPath);
    if (mutate(obj) === false) return obj;
    try {
      return await client.update<T>(putPath, obj);
    } catch (e) {
      if (!isConflict(e) || attempt >= 20) throw e;
    }
  }
}

/** The number of pods a Job runs at once (parallelism, lowered to completions), as §5.4 counts it. */
export function podsCount(job: Job): number {
  const p = job.spec?.parallelism ?? 1;
  const c = job.spec?.completions;
  return c !== undefined && c !== null && c < p ? c : p;
}

function setCondition(job: Job, type: string, reason: string, message: string, now: string): void {
  job.status ??= {};
  const conds = (job.status.conditions ?? []).filter((c) => c.type !== type);
  conds.push({ type, status: "True", reason, message, lastProbeTime: now, lastTransitionTime: now });
  job.status.conditions = conds;
}

/** Job status update: Complete (SuccessCriteriaMet first, startTime, completionTime, no active pods). */
export function completeJobStatus(job: Job, now = new Date()): void {
  const t = rfc3339(now);
  job.status ??= {};
  const s = job.status;
  s.startTime ??= t;
  const completions = job.spec?.completions ?? 1;
  if (job.spec?.completionMode === "Indexed") s.completedIndexes = completions > 1 ? `0-${completions - 1}` : "0";
  s.succeeded = Math.max(s.succeeded ?? 0, completions);
  s.active = 0;
  s.ready = 0;
  if (s.terminating !== undefined && s.terminating !== null) s.terminating = 0;
  s.uncountedTerminatedPods = {};
  setCondition(job, "SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", t);
  setCondition(job, "Complete", "CompletionsReached", "Reached expected number of succeeded pods", t);
  if (!s.completionTime || s.completionTime < s.startTime) s.completionTime = t;
}

/** Job status update: Failed with `reason` (FailureTarget first, startTime, no active pods). */
export function failJobStatus(
  job: Job,
  reason = "BackoffLimitExceeded",
  message = "Job has reached the specified backoff limit",
  now = new Date(),
): void {
  const t = rfc3339(now);
  job.status ??= {};
  const s = job.status;
  s.startTime ??= t;
  s.failed = Math.max(s.failed ?? 0, 1);
  s.active = 0;
  s.ready = 0;
  if (s.terminating !== undefined && s.terminating !== null) s.terminating = 0;
  s.uncountedTerminatedPods = {};
  setCondition(job, "FailureTarget", reason, message, t);
  setCondition(job, "Failed", reason, message, t);
}

/** Job status update: `active` running pods of which `ready` are ready (startTime set once). */
export function activeJobStatus(job: Job, active: number, ready = 0, now = new Date()): void {
  job.status ??= {};
  const s = job.status;
  if (job.spec?.suspend !== true) s.startTime ??= rfc3339(now);
  s.active = active;
  s.ready = Math.min(ready, active);
}

const isFinished = (job: Job) =>
  (job.status?.conditions ?? []).some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");

// ---------------------------------------------------------------------------------------------- context

export class ScenarioContext {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  controller!: JobSetController;
  uid = "";
  /** What the scenario's controller did (requests, reconciles, events); see ControllerTrace. */
  readonly trace = new ControllerTrace();
  private readonly initial: JobSet;

  constructor(client: KubeClient, namespace: string, js: JobSet) {
    this.client = client;
    this.namespace = namespace;
    this.name = js.metadata?.name ?? "";
    this.initial = js;
  }

  private get path(): string {
    return `${jobSetsPath(this.namespace)}/${this.name}`;
  }

  /** Creates the scenario's JobSet (done automatically unless `create: false`). */
  async create(js: JobSet = this.initial): Promise<JobSet> {
    const created = await this.client.create<JobSet>(jobSetsPath(this.namespace), js);
    this.uid = created.metadata?.uid ?? "";
    return created;
  }

  jobSet(): Promise<JobSet> {
    return this.client.get<JobSet>(this.path);
  }

  /** The JobSet, or undefined once it is gone (NotFound); other errors are thrown. */
  jobSetIfExists(): Promise<JobSet | undefined> {
    return getIfExists<JobSet>(this.client, this.path);
  }

  /** Mutates the JobSet's spec/metadata with a full update (conflicts retried). */
  updateJobSet(mutate: (js: JobSet) => void): Promise<JobSet> {
    return updateWithRetry<JobSet>(this.client, this.path, this.path, (js) => {
      mutate(js);
      return true;
    });
  }

  /** Jobs controlled by the JobSet created by this scenario (any state, deleting included). */
  async jobs(): Promise<Job[]> {
    const list = await this.client.list<Job>(jobsPath(this.namespace));
    return list.items
      .filter((j) => j.metadata?.ownerReferences?.some((r) => r.controller && r.uid === this.uid))
      .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  }

  job(name: string): Promise<Job> {
    return this.client.get<Job>(`${jobsPath(this.namespace)}/${name}`);
  }

  jobName(rjob: string, index: number): string {
    return `${this.name}-${rjob}-${index}`;
  }

  private jobStatus(name: string, mutate: (job: Job) => void): Promise<Job> {
    const p = `${jobsPath(this.namespace)}/${name}`;
    return updateWithRetry<Job>(this.client, p, `${p}/status`, (job) => {
      mutate(job);
      return true;
    });
  }

  completeJob(name: string): Promise<Job> {
    return this.jobStatus(name, (j) => completeJobStatus(j));
  }
  failJob(name: string, reason?: string, message?: string, at?: Date): Promise<Job> {
    return this.jobStatus(name, (j) => failJobStatus(j, reason, message, at));
  }
  setJobActive(name: string, active: number, ready = 0): Promise<Job> {
    return this.jobStatus(name, (j) => activeJobStatus(j, active, ready));
  }
  /** active = ready = the Job's pods count: the Job counts as ready in replicatedJobsStatus. */
  readyJob(name: string): Promise<Job> {
    return this.jobStatus(name, (j) => activeJobStatus(j, podsCount(j), podsCount(j)));
  }

  private async unfinished(filter?: (j: Job) => boolean): Promise<Job[]> {
    return (await this.jobs()).filter(
      (j) => !j.metadata?.deletionTimestamp && !isFinished(j) && (!filter || filter(j)),
    );
  }
  /** Completes every unfinished, undeleted owned Job (optionally only those matching `filter`). */
  async completeJobs(filter?: (j: Job) => boolean): Promise<void> {
    for (const j of await this.unfinished(filter)) await this.completeJob(j.metadata?.name ?? "");
  }
  async readyJobs(filter?: (j: Job) => boolean): Promise<void> {
    for (const j of await this.unfinished(filter)) await this.readyJob(j.metadata?.name ?? "");
  }

  async deleteJob(
    name: string,
    propagationPolicy: "Foreground" | "Background" | "Orphan" = "Background",
  ): Promise<void> {
    await this.client.delete(`${jobsPath(this.namespace)}/${name}`, { propagationPolicy }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }

  /** Removes the `foregroundDeletion` finalizer of every owned Job being deleted (the GC's job). */
  async finalizeDeleted(): Promise<number> {
    let n = 0;
    for (const j of await this.jobs()) {
      if (!j.metadata?.deletionTimestamp) continue;
      if (await this.finalizeJob(j.metadata.name ?? "")) n++;
    }
    return n;
  }

  /** Removes `foregroundDeletion` from Job `name` (true when it was there); a missing Job is fine. */
  async finalizeJob(name: string): Promise<boolean> {
    const p = `${jobsPath(this.namespace)}/${name}`;
    let removed = false;
    try {
      await updateWithRetry<Job>(this.client, p, p, (job) => {
        const fins = job.metadata?.finalizers ?? [];
        if (!fins.includes("foregroundDeletion")) return false;
        job.metadata = { ...job.metadata, finalizers: fins.filter((f) => f !== "foregroundDeletion") };
        removed = true;
        return true;
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return removed;
  }

  /** Creates `job` in the scenario's namespace as is (foreign Jobs, Jobs with broken labels). */
  createJob(job: Job): Promise<Job> {
    return this.client.create<Job>(jobsPath(this.namespace), {
      ...job,
      metadata: { ...job.metadata, namespace: this.namespace },
    });
  }

  /** Sets (string) or removes (null) labels of Job `name` with a full update. */
  relabelJob(name: string, labels: Record<string, string | null>): Promise<Job> {
    const p = `${jobsPath(this.namespace)}/${name}`;
    return updateWithRetry<Job>(this.client, p, p, (job) => {
      const next: Record<string, string> = { ...job.metadata?.labels };
      for (const [k, v] of Object.entries(labels)) {
        if (v === null) delete next[k];
        else next[k] = v;
      }
      job.metadata = { ...job.metadata, labels: next };
      return true;
    });
  }

  /** GET-mutate-PUT of the JobSet's status subresource (conflicts retried). */
  updateJobSetStatus(mutate: (js: JobSet) => void): Promise<JobSet> {
    return updateWithRetry<JobSet>(this.client, this.path, `${this.path}/status`, (js) => {
      mutate(js);
      return true;
    });
  }

  /** Messages of the reconciles of this scenario's controller that failed, in order. */
  get reconcileErrors(): string[] {
    return this.trace.reconciles.flatMap((r) => (r.error === undefined ? [] : [r.error]));
  }

  /**
   * Waits until the controller is idle (nothing queued or in flight) and its caches hold exactly the
   * live JobSet and Jobs of the namespace (same resourceVersions), twice in a row: every change made
   * so far has been reconciled. (Delayed retries of a failing reconcile may still be pending.)
   */
  async settled(timeoutMs = 30_000): Promise<void> {
    let streak = 0;
    await waitFor(
      async () => {
        streak = (await this.caughtUp()) ? streak + 1 : 0;
        return streak >= 2;
      },
      { timeoutMs, intervalMs: 75, message: "controller settled" },
    );
  }

  private async caughtUp(): Promise<boolean> {
    const c = this.controller;
    if (c.queue.len > 0 || c.queue.inFlight > 0) return false;
    const jss = await this.client.list<JobSet>(jobSetsPath(this.namespace));
    const jobs = await this.client.list<Job>(jobsPath(this.namespace));
    const same = (live: { metadata?: { name?: string; resourceVersion?: string } }[], cached: typeof live) => {
      const m = new Map(live.map((o) => [o.metadata?.name ?? "", o.metadata?.resourceVersion]));
      return (
        cached.length === live.length &&
        cached.every((o) => m.get(o.metadata?.name ?? "") === o.metadata?.resourceVersion)
      );
    };
    if (!same(jss.items, c.jobSets.list(this.namespace)) || !same(jobs.items, c.jobs.list(this.namespace)))
      return false;
    return c.queue.len === 0 && c.queue.inFlight === 0;
  }

  /** events.k8s.io/v1 events regarding this JobSet. */
  async events(): Promise<RecordedEvent[]> {
    const list = await this.client.list<RecordedEvent>(
      resourcePath({ ...Resources.events, namespace: this.namespace }),
    );
    return list.items.filter((e) => e.regarding?.kind === "JobSet" && e.regarding.name === this.name);
  }
}

/** An events.k8s.io/v1 Event as read back. */
export interface RecordedEvent {
  reason?: string;
  type?: string;
  note?: string;
  action?: string;
  reportingController?: string;
  series?: { count?: number };
  regarding?: { name?: string; uid?: string; kind?: string };
}

// ---------------------------------------------------------------------------------------------- trace

/** Events emitted at once (§5.12 "immediately"); every other JobSet event is deferred to the status write. */
export const ImmediateEventReasons: ReadonlySet<string> = new Set([
  "JobCreationFailed",
  "HeadlessServiceCreationFailed",
  "PVCCreationFailed",
]);

export interface TracedReconcile {
  key: string;
  /** Writes of the controller's client during this reconcile (reads and event writes excluded). */
  requests: RequestInfo[];
  /** Events emitted during this reconcile, with the requests made before each. */
  events: { reason: string; type: string; message: string; after: number }[];
  error?: string;
}

const isEventRequest = (r: RequestInfo) => r.path.startsWith("/apis/events.k8s.io/");
const isStatusWrite = (r: RequestInfo) => r.method === "PUT" && /\/jobsets\/[^/]+\/status$/.test(r.path);
const ok = (r: RequestInfo) => r.code >= 200 && r.code < 300;

/**
 * Everything the scenario's controller did, for the §5.6 invariants. The controller gets its own
 * client (so its requests are its own), its event sink is wrapped and its reconcile function is
 * wrapped; with one worker, reconciles are serial, so requests and events belong to the current one.
 */
export class ControllerTrace {
  readonly reconciles: TracedReconcile[] = [];
  private current: TracedReconcile | undefined;

  onRequest(r: RequestInfo): void {
    if (this.current && !isEventRequest(r) && r.method !== "GET") {
      this.current.requests.push(r);
    }
  }

  onEvent(ev: { type: string; reason: string; message: string }): void {
    this.current?.events.push({ ...ev, after: this.current.requests.length });
  }

  wrap(controller: JobSetController): void {
    const reconcile = controller.reconcile.bind(controller);
    controller.reconcile = async (key, ctx) => {
      const r: TracedReconcile = { key, requests: [], events: [] };
      this.reconciles.push(r);
      this.current = r;
      try {
        return await reconcile(key, ctx);
      } catch (e) {
        r.error = e instanceof Error ? e.message : String(e);
        throw e;
      } finally {
        this.current = undefined;
      }
    };
  }

  /** Status writes of the JobSet `name` made by the controller (successful ones). */
  statusWrites(name?: string): number {
    return this.reconciles
      .flatMap((r) => r.requests)
      .filter((q) => isStatusWrite(q) && ok(q) && (name === undefined || q.path.endsWith(`/${name}/status`))).length;
  }

  /** The §5.6 invariants; returns the violations (empty when all hold). */
  violations(): string[] {
    const out: string[] = [];
    for (const [i, r] of this.reconciles.entries()) {
      const at = `reconcile #${i + 1} of ${r.key}`;
      const writes = r.requests.filter(isStatusWrite);
      if (writes.length > 1) out.push(`${at}: ${writes.length} status writes (want at most 1)`);
      if (r.error !== undefined && writes.some(ok)) out.push(`${at}: failed (${r.error}) after writing status`);
      for (const ev of r.events) {
        const before = r.requests.slice(0, ev.after);
        if (ImmediateEventReasons.has(ev.reason)) {
          if (before.some(isStatusWrite)) out.push(`${at}: immediate event ${ev.reason} after the status write`);
          continue;
        }
        const last = before[before.length - 1];
        if (!last || !isStatusWrite(last) || !ok(last))
          out.push(`${at}: event ${ev.reason} not emitted right after a successful status write`);
        if (r.error !== undefined) out.push(`${at}: deferred event ${ev.reason} in a failed reconcile`);
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------- scenarios

export interface ConditionExpectation {
  type: string;
  status?: "True" | "False";
  reason?: string;
  message?: string;
}

export interface EventExpectation {
  reason: string;
  type?: "Normal" | "Warning";
  message?: string;
}

export interface Expectation {
  jobs?: number | ((jobs: Job[], ctx: ScenarioContext) => true | string);
  jobNames?: string[];
  status?: Record<string, unknown>;
  conditions?: ConditionExpectation[];
  absentConditions?: string[];
  events?: EventExpectation[];
  service?: boolean;
  deleted?: boolean;
  reconcileError?: string | RegExp;
  check?: (ctx: ScenarioContext) => Promise<true | string | undefined>;
}

export interface Step {
  name?: string;
  do?: (ctx: ScenarioContext) => Promise<unknown>;
  expect?: Expectation;
  timeoutMs?: number;
  finalizeDeleted?: boolean;
  settle?: boolean;
}

export interface Scenario {
  name: string;
  jobSet: JobSetBuilder | JobSet;
  gates?: Partial<Record<FeatureName, boolean>>;
  webhookDefaults?: boolean;
  create?: boolean;
  finalizeDeleted?: boolean;
  invariants?: boolean;
  steps: Step[];
}

/** Deep partial match; returns a description of the first mismatch, or undefined. */
export function partialMismatch(actual: unknown, want: unknown, path = "status"): string | undefined {
  if (want === null) {
    return actual === undefined || actual === null ? undefined : `${path}: got ${JSON.stringify(actual)}, want absent`;
  }
  if (typeof want !== "object") {
    return actual === want ? undefined : `${path}: got ${JSON.stringify(actual)}, want ${JSON.stringify(want)}`;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(actual)) return `${path}: got ${JSON.stringify(actual)}, want an array`;
    const byName = want.every((w) => w && typeof w === "object" && "name" in w);
    if (!byName && actual.length !== want.length) return `${path}: got ${actual.length} items, want ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const w = want[i] as Record<string, unknown>;
      const a = byName ? actual.find((x) => (x as { name?: unknown }).name === w.name) : actual[i];
      const m = partialMismatch(a, w, `${path}[${byName ? String(w.name) : i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (actual === null || typeof actual !== "object") return `${path}: got ${JSON.stringify(actual)}, want an object`;
  for (const [k, v] of Object.entries(want)) {
    const m = partialMismatch((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
    if (m) return m;
  }
  return undefined;
}

/** Checks one expectation once; returns the first mismatch or undefined when everything holds. */
export async function mismatch(ctx: ScenarioContext, e: Expectation): Promise<string | undefined> {
  let js: JobSet | undefined;
  try {
    js = await ctx.jobSet();
  } catch (err) {
    if (!(err instanceof ApiError && isNotFound(err))) throw err;
  }
  if (e.deleted !== undefined) {
    const gone = js === undefined || js.metadata?.deletionTimestamp !== undefined;
    if (gone !== e.deleted) return `JobSet deleted: got ${gone}, want ${e.deleted}`;
  }
  if (e.jobs !== undefined || e.jobNames !== undefined) {
    const jobs = await ctx.jobs();
    const live = jobs.filter((j) => !j.metadata?.deletionTimestamp);
    if (typeof e.jobs === "number") {
      const n = live.filter((j) => !isFinished(j)).length;
      if (n !== e.jobs) return `unfinished Jobs: got ${n}, want ${e.jobs}`;
    } else if (e.jobs) {
      const r = e.jobs(jobs, ctx);
      if (r !== true) return `jobs: ${r}`;
    }
    if (e.jobNames) {
      const names = live.map((j) => j.metadata?.name ?? "").sort();
      const want = [...e.jobNames].sort();
      if (JSON.stringify(names) !== JSON.stringify(want))
        return `Job names: got ${names.join(",")}, want ${want.join(",")}`;
    }
  }
  if (e.status || e.conditions || e.absentConditions) {
    if (!js) return "JobSet not found";
    if (e.status) {
      const m = partialMismatch(js.status ?? {}, e.status);
      if (m) return m;
    }
    const conds = js.status?.conditions ?? [];
    for (const c of e.conditions ?? []) {
      const found = conds.find(
        (x) =>
          x.type === c.type &&
          (c.status === undefined || x.status === c.status) &&
          (c.reason === undefined || x.reason === c.reason) &&
          (c.message === undefined || x.message === c.message),
      );
      if (!found) return `condition ${JSON.stringify(c)} not in ${JSON.stringify(conds)}`;
    }
    for (const t of e.absentConditions ?? []) {
      if (conds.some((x) => x.type === t)) return `condition ${t} present, want absent`;
    }
  }
  if (e.service !== undefined) {
    const name = js ? headlessServiceName(js) : ctx.name;
    const exists = await ctx.client.get(resourcePath({ ...Resources.services, namespace: ctx.namespace, name })).then(
      () => true,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (exists !== e.service) return `Service ${name} exists: got ${exists}, want ${e.service}`;
  }
  if (e.events) {
    const evs = await ctx.events();
    for (const w of e.events) {
      const found = evs.some(
        (x) =>
          x.reason === w.reason &&
          x.action === "Reconciling" &&
          x.reportingController === "jobset" &&
          (w.type === undefined || x.type === w.type) &&
          (w.message === undefined || x.note === w.message),
      );
      if (!found)
        return `event ${JSON.stringify(w)} not in ${JSON.stringify(evs.map((x) => `${x.type}/${x.reason}: ${x.note}`))}`;
    }
  }
  if (e.reconcileError !== undefined) {
    const want = e.reconcileError;
    const errs = ctx.reconcileErrors;
    if (!errs.some((m) => (typeof want === "string" ? m === want : want.test(m))))
      return `reconcile error ${String(want)} not in ${JSON.stringify([...new Set(errs)])}`;
  }
  if (e.check) {
    const r = await e.check(ctx);
    if (r !== undefined && r !== true) return r;
  }
  return undefined;
}

/** Polls until `e` holds (finalizing deleted Jobs on each poll when asked). */
export async function expectEventually(
  ctx: ScenarioContext,
  e: Expectation,
  o: { timeoutMs?: number; finalizeDeleted?: boolean; message?: string } = {},
): Promise<void> {
  let last: string | undefined;
  await waitFor(
    async () => {
      if (o.finalizeDeleted) await ctx.finalizeDeleted();
      last = await mismatch(ctx, e);
      return last === undefined;
    },
    { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 100, message: o.message ?? "expectation" },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n  mismatch: ${last}`);
  });
}

export interface RunOptions {
  /** Controller log level (default: $JOBSET_TEST_LOG_LEVEL or silent). */
  logLevel?: string;
}

/** Declares one `describe(title)` with a test per scenario. */
export function runScenarios(title: string, scenarios: readonly Scenario[], o: RunOptions = {}): void {
  describe(title, () => {
    let cluster: TestCluster;
    before(async () => {
      cluster = await useCluster("apiserver");
    });
    for (const sc of scenarios) {
      test(sc.name, async (t) => {
        const namespace = await testNamespace(t, cluster);
        await runScenario(cluster, namespace, sc, o);
      });
    }
  });
}

/** Runs one scenario in `namespace` (its own controller and client; both stopped at the end). */
export async function runScenario(
  cluster: TestCluster,
  namespace: string,
  sc: Scenario,
  o: RunOptions = {},
): Promise<void> {
  const base = sc.jobSet instanceof JobSetBuilder ? sc.jobSet.obj() : structuredClone(sc.jobSet);
  base.metadata = { ...base.metadata, namespace };
  delete base.metadata.uid;
  delete base.metadata.resourceVersion;
  delete base.status;
  const js = sc.webhookDefaults === false ? base : defaultJobSet(base);
  const client = await KubeClient.create({ kubeconfig: cluster.kubeconfigPath, userAgent: "jobset-ts-scenario" });
  // The controller has its own client, so that the trace sees only its requests.
  const ctlClient = await KubeClient.create({
    kubeconfig: cluster.kubeconfigPath,
    userAgent: "jobset-ts-scenario-controller",
  });
  const ctx = new ScenarioContext(client, namespace, js);
  ctlClient.requestObservers.push((r) => ctx.trace.onRequest(r));
  const recorder = jobSetEventRecorder({ client: ctlClient });
  const level = o.logLevel ?? process.env.JOBSET_TEST_LOG_LEVEL ?? "silent";
  const running = await startControllerManager({
    client: ctlClient,
    namespace,
    gates: parseFeatureGates(sc.gates ?? {}),
    telemetry: { logger: createLogger({ level, name: `scenario/${sc.name}` }) },
    jobset: {
      events: {
        emit: (regarding, ev) => {
          ctx.trace.onEvent(ev);
          recorder.emit(regarding, ev);
        },
        flush: () => recorder.flush(),
      },
    },
  });
  ctx.controller = running.controller;
  ctx.trace.wrap(running.controller);
  try {
    if (sc.create !== false) await ctx.create();
    for (const [i, step] of sc.steps.entries()) {
      const label = `step ${i + 1}${step.name ? ` (${step.name})` : ""}`;
      if (step.do) await step.do(ctx);
      if (step.settle) {
        await ctx.settled();
        if (step.expect) {
          const m = await mismatch(ctx, step.expect);
          if (m !== undefined) throw new Error(`${sc.name}: ${label}: after the controller settled: ${m}`);
        }
      } else if (step.expect) {
        await expectEventually(ctx, step.expect, {
          timeoutMs: step.timeoutMs ?? 30_000,
          finalizeDeleted: step.finalizeDeleted ?? sc.finalizeDeleted ?? false,
          message: `${sc.name}: ${label}`,
        });
      }
    }
    if (sc.invariants !== false) {
      const v = ctx.trace.violations();
      if (v.length > 0)
        throw new Error(`${sc.name}: status-write/event invariants (§5.6) violated:\n  ${v.join("\n  ")}`);
    }
  } finally {
    await running.stop();
    await ctlClient.close();
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------- helpers

/** Label `key` of a Job (or undefined). */
export const label = (j: Job, key: string): string | undefined => j.metadata?.labels?.[key];

/** `name@restart-attempt[/job-restart-attempt][*deleting][!finished]` per Job: mismatch explanations. */
export function describeJobs(jobs: readonly Job[]): string {
  return jobs
    .map((j) => {
      const jra = j.metadata?.labels?.["jobset.sigs.k8s.io/job-restart-attempt"];
      return `${j.metadata?.name}@${j.metadata?.labels?.["jobset.sigs.k8s.io/restart-attempt"]}${jra === undefined ? "" : `/${jra}`}${j.metadata?.deletionTimestamp ? "*deleting" : ""}${isFinished(j) ? "!finished" : ""}`;
    })
    .join(", ");
}

/** A `jobs` predicate: `pred` holds for the set of owned Jobs (any state), else describe them. */
export function jobsWhere(pred: (jobs: Job[]) => boolean): (jobs: Job[]) => true | string {
  return (jobs) => (pred(jobs) ? true : `unexpected Jobs: [${describeJobs(jobs)}]`);
}

/** Whether Job `j` is being deleted in the foreground (deletionTimestamp and the foregroundDeletion finalizer). */
export const deletingInForeground = (j: Job | undefined): boolean =>
  j?.metadata?.deletionTimestamp !== undefined && (j.metadata.finalizers ?? []).includes("foregroundDeletion");

/** Whether Job `j` is finished (Complete or Failed condition True). */
export const jobFinished = (j: Job): boolean => isFinished(j);

/** Polls until the wall clock is at least `ms` past the RFC 3339 time `t` (condition times have 1 s resolution). */
export function clockPast(t: string | undefined, ms: number): Promise<boolean> {
  const at = Date.parse(t ?? "") + ms;
  return waitFor(() => Date.now() >= at, {
    timeoutMs: ms + 5_000,
    intervalMs: 50,
    message: `clock past ${t} + ${ms} ms`,
  });
}

/**
 * Makes several Job failures visible to ONE reconcile: an owned Job without a restart-attempt label
 * blocks every reconcile (§5.3) while `fn` runs; deleting it releases the JobSet.
 */
export async function whileBlocked(ctx: ScenarioContext, fn: () => Promise<void>): Promise<void> {
  const js = await ctx.jobSet();
  const blocker: Job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `${ctx.name}-blocker`, ownerReferences: [controllerRef(js)] },
    spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox" }] } } },
  };
  const before = ctx.reconcileErrors.length;
  await ctx.createJob(blocker);
  await waitFor(() => ctx.reconcileErrors.length > before, { intervalMs: 20, message: "the blocker Job to block" });
  await fn();
  await ctx.deleteJob(`${ctx.name}-blocker`);
}
