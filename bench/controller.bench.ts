// JobSet controller benchmark (`npm run bench:controller`, part of `npm run bench`; docs/benchmarks.md). Starts a fresh `apiserver`-profile
// control plane (etcd + kube-apiserver, no Kubernetes controllers), and measures:
//
//   a        one JobSet of 1,000 Jobs (one replicated job, replicas 1000)
//   b        500 JobSets of 4 Jobs each, created at once
//   c        1,000 JobSets of 5 Jobs each (5,000 Jobs), created at once      (with --scale)
//   d        one JobSet of 10,000 Jobs                                       (with --scale)
//   ceiling  the same Job creations (1,000 and 2,000 Jobs) by a bare client loop: one KubeClient with the
//            controller's default limiter (QPS 500, burst 500) and credentials, 50 creates in flight (the
//            controller's fan-out)
//   steady   the controller restarted over all of the above with a short informer resync: requests per
//            resync of unchanged JobSets (non-GET requests must be 0)
//
// The controller runs in a child process (bench/runner.ts) so its CPU seconds and peak RSS are its own;
// each scenario gets a fresh controller process: the build (first built into dist/ unless --no-build),
// `jobset controller` from the bundle dist/bundle/jobset.js as the container image runs it, with the
// image's Node flags (the Dockerfile's ENTRYPOINT: bench/deployed-node-flags.ts), as deployed (webhooks
// and pod informer on, default worker count, its ServiceAccount's token bound to the install's roles:
// controllerIdentity); the steady
// scenario uses the library entry point with a short resync. "Time to all Jobs" runs from just before the first
// JobSet create request until a watch on Jobs (opened by this process before the create) has delivered
// every expected Job: it is measured from the API, not from the controller. Over the same window the
// summary's `cores:` line gives the CPU seconds of kube-apiserver, etcd, the controller, this process and
// the rest of the machine (bench/cpu-window.ts), and the least time all but the controller need on all cores.
//
// Results: bench/results/latest.local.json (gitignored); `--reference` also writes bench/results/latest.json
// (the committed reference). Checked against bench/thresholds.json; exits 1 when a threshold is broken.
//
// Flags: --only a,b,ceiling,steady   --cpu-prof (V8 CPU profile of each controller run, written to the temp dir)
//        --reference                 --resyncs N (steady state, default 5)
//        --ceiling-runs N            bare-client runs per shape, the best counts (default 2)
//        --workers N                 concurrent reconciles of the controller (default: the controller's default)
//        --qps N                     the controller's client QPS and burst (default 500 and 500, as deployed;
//                                    the ceiling keeps 500: it is what the shipped defaults allow)
//        --upstream                  measure upstream's controller instead (sigs.k8s.io/jobset v0.12.0's own main,
//                                    built from the Go module proxy): a comparison, no limits checked; it
//                                    watches every namespace, so run one scenario per invocation
//        --scale                     also the scale scenarios c and d (several minutes)
//        --no-build                  use dist/ as it is
//        --dist DIR                  run the controller of another build (e.g. a base commit's dist/)
//        --write-thresholds          rewrite bench/thresholds.json's limits of the scenarios run from this run
//                                    (time and CPU 25 % above, peak RSS 15 % above; with --reference)
//        --node-flags="F …"          Node/V8 flags of the controller process, after the deployed ones
//                                    (experiments; not with --reference)
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseAllDocuments } from "yaml";
import { apiRules, Roles } from "../scripts/rbac.ts";
import { JobSetResource } from "../src/api/constants.ts";
import { defaultJobSet } from "../src/api/defaults.ts";
import type { Job, KubeObject } from "../src/api/k8s.ts";
import type { JobSet } from "../src/api/types.ts";
import { constructJobs } from "../src/controller/jobs.ts";
import { type ControlPlane, freePort, startControlPlane } from "../src/local/controlplane.ts";
import { isGone, KubeClient } from "../src/runtime/client.ts";
import { mapSettled } from "../src/runtime/parallel.ts";
import { Resources, resourcePath } from "../src/runtime/resources.ts";
import { localWebhookConfigurations } from "../src/webhooks/configurations.ts";
import { jobSet, rjob } from "../test/builders.ts";
import { serviceAccountToken } from "../test/support/controller-process.ts";
import { ControllerServiceAccount, InstallNamespace, writeTokenKubeconfig } from "../test/support/rbac.ts";
import { buildUpstreamController, servingCertDir, upstreamModuleDir } from "../test/support/upstream-webhook.ts";
import { atSpeed, calibrate, speedFactor } from "./calibration.ts";
import { CpuMeter, type CpuWindow, withChildren } from "./cpu-window.ts";
import { deployedEntrypoint } from "./deployed-node-flags.ts";
import type { RunnerReport } from "./runner.ts";

const here = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;

const { values: flags } = parseArgs({
  options: {
    only: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    reference: { type: "boolean", default: false },
    resyncs: { type: "string", default: "5" },
    "ceiling-runs": { type: "string", default: "2" },
    workers: { type: "string" },
    qps: { type: "string" },
    "node-flags": { type: "string" },
    scale: { type: "boolean", default: false },
    upstream: { type: "boolean", default: false },
    "write-thresholds": { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    dist: { type: "string" },
  },
});
if (flags.reference && (flags["node-flags"] || flags.qps || flags.workers))
  throw new Error("--node-flags, --qps and --workers are experiments: they cannot write the reference");
if (flags.upstream && (flags.reference || flags.workers || flags.qps || flags["node-flags"] || flags["cpu-prof"]))
  throw new Error(
    "--upstream measures upstream's controller as shipped: no --reference, --workers, --qps, --node-flags or --cpu-prof",
  );
if (flags["write-thresholds"] && !flags.reference) throw new Error("--write-thresholds needs --reference");
const only = new Set(
  (flags.only ?? `a,b,${flags.scale ? "c,d," : ""}ceiling${flags.upstream ? "" : ",steady"}`)
    .split(",")
    .map((s) => s.trim()),
);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const load = () => os.loadavg().map((x) => round(x));
/** The controller process's Node flags: the image's (the Dockerfile's ENTRYPOINT), then --node-flags. */
const nodeFlags = [...deployedEntrypoint().nodeFlags, ...(flags["node-flags"]?.split(/\s+/).filter(Boolean) ?? [])];
/** The controllers' credentials (controllerIdentity), made once the control plane is up. */
let identity: { kubeconfig: string; remove(): void } | undefined;
const controllerKubeconfig = (): string => {
  if (!identity) throw new Error("the controller's credentials are made after the control plane starts");
  return identity.kubeconfig;
};
/** The controller's client-side rate limiter: as deployed (the defaults of --kube-api-qps and --kube-api-burst), or --qps. */
const ControllerQps = flags.qps ? Number(flags.qps) : 500;
const ControllerBurst = ControllerQps;
/** The deployed controller's webhook, metrics and health ports: fixed for the run (the webhook configurations keep the URL). */
let ports: string[] = [];
/** --upstream: the runner's arguments for upstream's controller (prepareUpstream). */
let upstreamArgs: string[] | undefined;
/** The CPU of kube-apiserver, etcd, the driver and the machine during each run, once the control plane is up. */
let meter: CpuMeter | undefined;

// ---------------------------------------------------------------------------------------------- shapes

interface Shape {
  name: "a" | "b" | "c" | "d";
  description: string;
  namespace: string;
  jobSets: JobSet[];
  jobs: number;
}

/** A small template: one container, no volumes; the builders' defaults plus the webhook defaults. */
function shapes(): Shape[] {
  const a = defaultJobSet(jobSet("big", "bench-a").replicatedJob(rjob("w").replicas(1000)).obj());
  const b = Array.from({ length: 500 }, (_, i) =>
    defaultJobSet(
      jobSet(`js-${String(i).padStart(3, "0")}`, "bench-b")
        .replicatedJob(rjob("w").replicas(4))
        .obj(),
    ),
  );
  const c = Array.from({ length: 1000 }, (_, i) =>
    defaultJobSet(
      jobSet(`js-${String(i).padStart(4, "0")}`, "bench-c")
        .replicatedJob(rjob("w").replicas(5))
        .obj(),
    ),
  );
  const d = defaultJobSet(jobSet("huge", "bench-d").replicatedJob(rjob("w").replicas(10_000)).obj());
  return [
    { name: "a", description: "1 JobSet × 1,000 Jobs", namespace: "bench-a", jobSets: [a], jobs: 1000 },
    { name: "b", description: "500 JobSets × 4 Jobs, created at once", namespace: "bench-b", jobSets: b, jobs: 2000 },
    { name: "c", description: "1,000 JobSets × 5 Jobs, created at once", namespace: "bench-c", jobSets: c, jobs: 5000 },
    { name: "d", description: "1 JobSet × 10,000 Jobs", namespace: "bench-d", jobSets: [d], jobs: 10_000 },
  ];
}

// ---------------------------------------------------------------------------------------------- job watch

const jobsPath = (namespace: string) => resourcePath({ ...Resources.jobs, namespace });

/** Counts the Jobs of a namespace from a LIST then a WATCH; resolves the time the count reached n. */
class JobCounter {
  readonly names = new Set<string>();
  /** performance.now() when the first Job of the namespace was seen (a Job the LIST found counts too). */
  firstAt: number | undefined;
  private readonly ctl = new AbortController();
  private target = Number.POSITIVE_INFINITY;
  private reached: ((at: number) => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly client: KubeClient;
  private readonly path: string;
  constructor(client: KubeClient, namespace: string) {
    this.client = client;
    this.path = jobsPath(namespace);
  }

  async start(): Promise<void> {
    let rv = await this.relist();
    this.loop = (async () => {
      while (!this.ctl.signal.aborted) {
        try {
          const query = { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 300 };
          for await (const ev of this.client.watch<KubeObject>(this.path, query, this.ctl.signal)) {
            rv = ev.object.metadata?.resourceVersion ?? rv;
            if (ev.type === "ADDED" || ev.type === "MODIFIED") this.add(ev.object.metadata?.name);
            else if (ev.type === "DELETED") this.names.delete(ev.object.metadata?.name ?? "");
          }
        } catch (e) {
          if (this.ctl.signal.aborted) return;
          if (isGone(e)) rv = await this.relist();
          else await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
  }

  private async relist(): Promise<string> {
    const l = await this.client.list<KubeObject>(this.path);
    for (const j of l.items) this.add(j.metadata?.name);
    return l.metadata.resourceVersion ?? "0";
  }

  private add(name: string | undefined): void {
    if (!name) return;
    this.firstAt ??= performance.now();
    this.names.add(name);
    if (this.names.size >= this.target && this.reached) {
      const r = this.reached;
      this.reached = undefined;
      r(performance.now());
    }
  }

  /** performance.now() at which `n` Jobs had been seen; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs: number): Promise<number> {
    if (this.names.size >= n) return Promise.resolve(performance.now());
    this.target = n;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reached = undefined;
        reject(new Error(`only ${this.names.size} of ${n} Jobs after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.reached = (at) => {
        clearTimeout(timer);
        resolve(at);
      };
    });
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    await this.loop;
  }
}

// ---------------------------------------------------------------------------------------------- runner

/**
 * bench/runner.ts as plain JavaScript, written once per benchmark run: the controller process must not
 * load Node's TypeScript stripper (≈ 17 MiB RSS and its start-up CPU), which the deployed image, running
 * the compiled dist/, never does.
 */
let runnerScript: string | undefined;
function runnerJs(): string {
  if (runnerScript) return runnerScript;
  const dir = mkdtempSync(join(os.tmpdir(), "jobset-bench-runner-js-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  runnerScript = join(dir, "runner.mjs");
  writeFileSync(runnerScript, stripTypeScriptTypes(readFileSync(join(here, "runner.ts"), "utf8")));
  return runnerScript;
}

/** The controller child process (bench/runner.ts, run as JavaScript: runnerJs()). */
class Runner {
  private readonly child: ChildProcess;
  /** The runner's process: the controller itself, or the parent of upstream's. */
  get pid(): number | undefined {
    return this.child.pid;
  }
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private readonly exited: Promise<number | null>;
  readonly profilePath: string | undefined;
  constructor(kubeconfig: string, o: { namespace?: string; resyncMs?: number; label: string }) {
    const args = [runnerJs(), "--kubeconfig", kubeconfig, ...ports];
    if (flags.workers) args.push("--workers", flags.workers);
    if (flags.qps) args.push("--qps", flags.qps);
    args.push("--dist", resolve(flags.dist ?? join(here, "..", "dist")));
    if (o.namespace) args.push("--namespace", o.namespace);
    if (upstreamArgs) args.push("--mode", "upstream", ...upstreamArgs);
    if (o.resyncMs !== undefined) args.push("--mode", "library", "--resync-ms", String(o.resyncMs));
    if (flags["cpu-prof"]) {
      this.profilePath = join(os.tmpdir(), `jobset-bench-${o.label}-${Date.now()}.cpuprofile`);
      args.push("--cpu-prof", this.profilePath);
    }
    // stdout: the controller's logs (discarded, as a log shipper would take them); fd 3: the runner's answers
    this.child = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ["pipe", "ignore", "inherit", "pipe"] });
    this.exited = new Promise((r) => this.child.on("exit", (code) => r(code)));
    const rl = createInterface({ input: this.child.stdio[3] as NodeJS.ReadableStream });
    rl.on("line", (line) => {
      const w = this.waiting;
      if (w) {
        this.waiting = undefined;
        w(line);
      } else this.lines.push(line);
    });
  }

  private next(timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as Record<string, unknown>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("controller runner did not answer")), timeoutMs);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      };
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`controller runner exited (${code})`));
      });
    });
  }

  async ready(): Promise<void> {
    const m = await this.next();
    if (m.type !== "ready") throw new Error(`unexpected runner message ${JSON.stringify(m)}`);
  }

  async report(): Promise<RunnerReport> {
    this.child.stdin?.write("report\n");
    return (await this.next()) as unknown as RunnerReport;
  }

  async stop(): Promise<RunnerReport> {
    this.child.stdin?.write("stop\n");
    const final = (await this.next()) as unknown as RunnerReport;
    await this.exited;
    return final;
  }

  kill(): void {
    if (this.child.exitCode !== null) return;
    if (!upstreamArgs) {
      this.child.kill("SIGKILL");
      return;
    }
    // the runner stops upstream's process on SIGTERM (SIGKILL would leave it running)
    this.child.kill("SIGTERM");
    setTimeout(() => this.child.kill("SIGKILL"), 10_000).unref();
  }
}

const total = (r: Record<string, number>) => Object.values(r).reduce((s, n) => s + n, 0);
const nonGet = (r: Record<string, number>) => total(r) - (r.GET ?? 0);
const diff = (a: Record<string, number>, b: Record<string, number>) => {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (a[k] ?? 0) - (b[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
};

/**
 * Polls the runner until its request counters (and reconcile counter, unless `reconciles` is false:
 * resyncs keep reconciling) stay unchanged for `quietMs`.
 */
async function settle(runner: Runner, quietMs = 3000, reconciles = true, timeoutMs = 180_000): Promise<RunnerReport> {
  const deadline = Date.now() + timeoutMs;
  let last = await runner.report();
  let quietSince = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const r = await runner.report();
    const same =
      total(r.requests) === total(last.requests) && (!reconciles || r.stats.reconciles === last.stats.reconciles);
    if (!same) quietSince = Date.now();
    last = r;
    if (same && Date.now() - quietSince >= quietMs) return r;
    if (Date.now() > deadline) throw new Error("the controller did not settle");
  }
}

// ---------------------------------------------------------------------------------------------- scenarios

interface ScenarioResult {
  description: string;
  jobSets: number;
  jobs: number;
  /** First JobSet create → every Job seen by the watch. */
  secondsToAllJobs: number;
  /** First → last JobSet create acknowledged. */
  secondsToCreateJobSets: number;
  /** From the first JobSet create request until the first Job was seen (webhooks, informer, first reconcile). */
  secondsToFirstJob: number;
  /**
   * What the controller's client-side rate limiters alone allow (rateLimitFloor: one bucket per resource,
   * client-go's defaults, as upstream's: QPS 500 and burst 500). A lower bound on the time to all Jobs.
   */
  rateLimitFloorSeconds: number;
  /** The machine's speed just before the scenario (bench/calibration.ts): CPU ms of a fixed workload. */
  calibrationMs: number;
  /** Requests the controller made from its start until it settled (initial LIST/WATCH included). */
  requests: Record<string, number>;
  requestsTotal: number;
  /** The same by status code (409: a create of something that already existed). */
  requestsByCode: Record<string, number>;
  /** Of those, requests after the caches synced (the work on the JobSets). */
  requestsAfterSync: Record<string, number>;
  /** Writes (non-GET requests) per second from the first create to the last Job (status writes may come later). */
  writesPerSecond: number;
  /** Mean seconds to the status line of the controller's requests, and its total rate-limiter wait. */
  meanRequestSeconds: number;
  rateLimiterWaitSeconds: number;
  cpuSeconds: number;
  cpuSecondsAfterSync: number;
  peakRssMiB: number;
  /** Peak RSS when the caches had synced (module loading, empty caches): the baseline. */
  peakRssAtSyncMiB: number;
  /** V8 heap in use then (the rest of the RSS: code, Node's own memory, buffers). */
  heapUsedAtSyncMiB: number;
  heapUsedMiB: number;
  reconciles: number;
  reconcileErrors: number;
  /** Passes skipped because the cache still showed the JobSet our status write replaced. */
  skippedStale: number;
  jobSetsWithStatus: number;
  loadavg: { before: number[]; after: number[] };
  /** What the machine's cores did from the first JobSet create to the last Job (bench/cpu-window.ts). */
  cores?: CpuWindow;
  cpuProfile?: string;
}

/**
 * What the controller's client-side rate limiters alone allow for a shape: each resource has its own bucket
 * (ADR 0024), so the floor is the most-used resource's requests beyond the burst, at the QPS: the Job
 * creates, or one Service create and one status write per JobSet when JobSets outnumber Jobs.
 */
function rateLimitFloor(shape: Shape): number {
  const perResource = [shape.jobs, shape.jobSets.length];
  return Math.max(0, Math.max(...perResource) - ControllerBurst) / ControllerQps;
}

async function runScenario(admin: KubeClient, shape: Shape): Promise<ScenarioResult> {
  log(`scenario ${shape.name}: ${shape.description}`);
  const calibrationMs = calibrate();
  const before = load();
  await ensureNamespace(admin, shape.namespace);
  const counter = new JobCounter(admin, shape.namespace);
  await counter.start();
  const runner = new Runner(controllerKubeconfig(), { namespace: shape.namespace, label: shape.name });
  try {
    await runner.ready();
    const atSync = await runner.report();
    const jsPath = resourcePath({ ...JobSetResource, namespace: shape.namespace });
    const controllerPids = runner.pid === undefined ? [] : withChildren(runner.pid);
    const cpu0 = meter?.snapshot({ controller: controllerPids });
    const t0 = performance.now();
    const created = await mapSettled(shape.jobSets, 100, (js) => admin.create(jsPath, js));
    const tCreated = performance.now();
    const failed = created.filter((r) => r.status === "rejected");
    if (failed.length > 0)
      throw new Error(`JobSet create failed: ${String((failed[0] as PromiseRejectedResult).reason)}`);
    const tAll = await counter.waitFor(shape.jobs, 300_000);
    const cpu1 = meter?.snapshot({ controller: controllerPids });
    log(
      `scenario ${shape.name}: ${shape.jobs} Jobs after ${round((tAll - t0) / 1000)} s; waiting for the controller to settle`,
    );
    await settle(runner);
    const final = await runner.stop();
    const jobSets = await admin.list<JobSet>(jsPath);
    const result: ScenarioResult = {
      description: shape.description,
      jobSets: shape.jobSets.length,
      jobs: counter.names.size,
      secondsToAllJobs: round((tAll - t0) / 1000, 3),
      secondsToCreateJobSets: round((tCreated - t0) / 1000, 3),
      secondsToFirstJob: round(((counter.firstAt ?? tAll) - t0) / 1000, 3),
      rateLimitFloorSeconds: round(rateLimitFloor(shape), 3),
      calibrationMs,
      requests: final.requests,
      requestsTotal: total(final.requests),
      requestsByCode: final.requestsByCode ?? {},
      requestsAfterSync: diff(final.requests, atSync.requests),
      writesPerSecond: round(nonGet(final.requests) / ((tAll - t0) / 1000), 1),
      meanRequestSeconds: round(final.latency.seconds / Math.max(1, final.latency.requests), 4),
      rateLimiterWaitSeconds: round(final.latency.rateLimiterSeconds, 3),
      cpuSeconds: round(final.cpuSeconds),
      cpuSecondsAfterSync: round(final.cpuSeconds - atSync.cpuSeconds),
      peakRssMiB: round(final.peakRssMiB, 1),
      peakRssAtSyncMiB: round(atSync.peakRssMiB, 1),
      heapUsedAtSyncMiB: round(atSync.heapUsedMiB, 1),
      heapUsedMiB: round(final.heapUsedMiB, 1),
      reconciles: final.stats.reconciles ?? 0,
      reconcileErrors: final.stats.errors ?? 0,
      skippedStale: final.stats.skippedStale ?? 0,
      jobSetsWithStatus: jobSets.items.filter((j) => (j.status?.replicatedJobsStatus?.length ?? 0) > 0).length,
      loadavg: { before, after: load() },
    };
    if (cpu0 && cpu1) result.cores = CpuMeter.between(cpu0, cpu1);
    if (runner.profilePath) result.cpuProfile = runner.profilePath;
    return result;
  } finally {
    runner.kill();
    await counter.stop();
  }
}

interface CeilingRun {
  jobs: number;
  secondsToAllJobs: number;
  /** From the first create request until the first Job was seen. */
  secondsToFirstJob: number;
  requests: Record<string, number>;
  loadavg: { before: number[]; after: number[] };
  /** Mean busy cores of the machine during the run (not CPU-bound when below the machine's count). */
  busyCores?: number;
  /**
   * CPU seconds in the run: kube-apiserver, etcd, `driver` (this process: the bare client's creates and
   * the watch that counts the Jobs) and `rest`. Against a scenario's, it shows what a controller costs
   * beyond the bare client's requests.
   */
  cpuSeconds?: Record<string, number>;
}

interface CeilingResult {
  jobs: number;
  /** The best of `runs` (the machine is shared: the ceiling is what the server allowed at best). */
  secondsToAllJobs: number;
  /** Creates per second of the best run. */
  createsPerSecond: number;
  runs: CeilingRun[];
}

async function runCeiling(admin: KubeClient, shape: Shape): Promise<CeilingResult> {
  const runs: CeilingRun[] = [];
  for (let i = 1; i <= Number(flags["ceiling-runs"]); i++) runs.push(await runCeilingOnce(admin, shape, i));
  const best = Math.min(...runs.map((r) => r.secondsToAllJobs));
  return { jobs: shape.jobs, secondsToAllJobs: best, createsPerSecond: round(shape.jobs / best, 1), runs };
}

/** The same Jobs created by a bare loop: QPS 500 / burst 500 client, 50 creates in flight. */
async function runCeilingOnce(admin: KubeClient, shape: Shape, run: number): Promise<CeilingRun> {
  const namespace = `ceiling-${shape.name}-${run}`;
  log(`ceiling ${shape.name} #${run}: ${shape.jobs} Job creates by a bare client loop`);
  const before = load();
  await ensureNamespace(admin, namespace);
  // The controller's Jobs, as it would build them (owner: a JobSet UID that does not exist here).
  const jobs: Job[] = shape.jobSets.flatMap((js) =>
    constructJobs({ ...js, metadata: { ...js.metadata, namespace, uid: randomUUID() } }, { restartJobGate: false }),
  );
  const counter = new JobCounter(admin, namespace);
  await counter.start();
  const client = await KubeClient.create({ kubeconfig: controllerKubeconfig(), qps: 500, burst: 500 });
  try {
    const cpu0 = meter?.snapshot();
    const t0 = performance.now();
    const results = await mapSettled(jobs, 50, (job) => client.create(jobsPath(namespace), job));
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length > 0) throw new Error(`Job create failed: ${String((failed[0] as PromiseRejectedResult).reason)}`);
    const tAll = await counter.waitFor(jobs.length, 300_000);
    const cpu1 = meter?.snapshot();
    const cores = cpu0 && cpu1 ? CpuMeter.between(cpu0, cpu1) : undefined;
    return {
      jobs: jobs.length,
      secondsToAllJobs: round((tAll - t0) / 1000, 3),
      secondsToFirstJob: round(((counter.firstAt ?? tAll) - t0) / 1000, 3),
      requests: { ...client.requestCounts },
      loadavg: { before, after: load() },
      ...(cores ? { busyCores: cores.busyCores, cpuSeconds: cores.cpuSeconds } : {}),
    };
  } finally {
    await client.close();
    await counter.stop();
  }
}

interface SteadyResult {
  resyncPeriodSeconds: number;
  resyncs: number;
  jobSets: number;
  /** Requests during the observed resyncs, by method. */
  requests: Record<string, number>;
  nonGetRequests: number;
  /** Writes at the controller's start over JobSets it had not seen (a restart): also expected 0. */
  nonGetRequestsAtRestart: number;
  reconciles: number;
  cpuSeconds: number;
  peakRssMiB: number;
  loadavg: { before: number[]; after: number[] };
}

/** A controller over everything created so far, resyncing every 2 s: no writes for unchanged JobSets. */
async function runSteady(admin: KubeClient): Promise<SteadyResult> {
  const resyncMs = 2000;
  const resyncs = Number(flags.resyncs);
  log(`steady state: ${resyncs} resyncs every ${resyncMs / 1000} s over every JobSet`);
  const before = load();
  const all = await admin.list<JobSet>(resourcePath(JobSetResource));
  const runner = new Runner(controllerKubeconfig(), { resyncMs, label: "steady" });
  try {
    await runner.ready();
    const atSync = await runner.report();
    const s0 = await settle(runner, 3000, false);
    const tStart = performance.now();
    await new Promise((r) => setTimeout(r, resyncs * resyncMs + 500));
    const s1 = await runner.report();
    const final = await runner.stop();
    const requests = diff(s1.requests, s0.requests);
    log(`steady state: ${round((performance.now() - tStart) / 1000)} s observed`);
    return {
      resyncPeriodSeconds: resyncMs / 1000,
      resyncs,
      jobSets: all.items.length,
      requests,
      nonGetRequests: nonGet(requests),
      nonGetRequestsAtRestart: nonGet(diff(s0.requests, atSync.requests)),
      reconciles: (s1.stats.reconciles ?? 0) - (s0.stats.reconciles ?? 0),
      cpuSeconds: round(s1.cpuSeconds - s0.cpuSeconds),
      peakRssMiB: round(final.peakRssMiB, 1),
      loadavg: { before, after: load() },
    };
  } finally {
    runner.kill();
  }
}

/**
 * The first create of a kind in a fresh kube-apiserver is slow (seconds for the CRD's first object:
 * storage, schema and CEL set-up): create and delete one JobSet and one Job first, so that scenarios
 * measure the controller and not the server's warm-up.
 */
async function warmUp(admin: KubeClient): Promise<void> {
  const ns = "bench-warmup";
  await ensureNamespace(admin, ns);
  const t = performance.now();
  const js = defaultJobSet(jobSet("warmup", ns).replicatedJob(rjob("w").replicas(1)).obj());
  await admin.create(resourcePath({ ...JobSetResource, namespace: ns }), js);
  await admin.delete(resourcePath({ ...JobSetResource, namespace: ns, name: "warmup" }));
  const [job] = constructJobs({ ...js, metadata: { ...js.metadata, uid: randomUUID() } }, { restartJobGate: false });
  await admin.create(jobsPath(ns), job);
  await admin.delete(resourcePath({ ...Resources.jobs, namespace: ns, name: job?.metadata?.name ?? "" }), {
    propagationPolicy: "Background",
  });
  log(`warm-up: ${round((performance.now() - t) / 1000)} s`);
}

async function ensureNamespace(admin: KubeClient, name: string): Promise<void> {
  await admin.create(resourcePath(Resources.namespaces), { apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

// ---------------------------------------------------------------------------------------------- checks

interface ScenarioLimits {
  /** The calibration of the run the limits were taken from: time and CPU limits scale with it. */
  calibrationMs?: number;
  maxSecondsToAllJobs: number;
  maxCeilingFactor: number;
  maxRequests: { perJob: number; perJobSet: number; constant: number };
  maxCpuSeconds: number;
  maxPeakRssMiB: number;
}

interface Thresholds {
  comment?: string;
  reference?: { date: string; loadavgAtStart: number[]; nodeFlags: string[] };
  scenarios: Record<string, ScenarioLimits>;
  steady: { maxNonGetRequests: number; maxNonGetRequestsAtRestart: number };
  webhook?: unknown;
}

interface Check {
  name: string;
  measured: number;
  limit: number;
  unit: string;
  ok: boolean;
}

function checks(results: Results, t: Thresholds): Check[] {
  const out: Check[] = [];
  const le = (name: string, measured: number, limit: number, unit: string) =>
    out.push({ name, measured, limit, unit, ok: measured <= limit });
  for (const [name, s] of Object.entries(results.scenarios)) {
    const th = t.scenarios[name];
    if (!th) continue;
    // time and CPU limits at this machine speed (bench/calibration.ts)
    const f = speedFactor(s.calibrationMs, th.calibrationMs);
    const speed = f === 1 ? "" : ` (×${f} for speed)`;
    le(`${name}: time to all Jobs${speed}`, s.secondsToAllJobs, atSpeed(th.maxSecondsToAllJobs, f), "s");
    const ceiling = results.ceiling[name];
    if (ceiling) {
      le(
        `${name}: time / ceiling (${round(ceiling.secondsToAllJobs)} s)`,
        round(s.secondsToAllJobs / ceiling.secondsToAllJobs),
        th.maxCeilingFactor,
        "×",
      );
    }
    const m = th.maxRequests;
    le(
      `${name}: controller requests`,
      s.requestsTotal,
      Math.round(m.perJob * s.jobs + m.perJobSet * s.jobSets + m.constant),
      "",
    );
    le(`${name}: controller CPU${speed}`, s.cpuSeconds, atSpeed(th.maxCpuSeconds, f), "s");
    le(`${name}: controller peak RSS`, s.peakRssMiB, th.maxPeakRssMiB, "MiB");
    le(`${name}: reconcile errors`, s.reconcileErrors, 0, "");
    le(`${name}: JobSets without status`, s.jobSets - s.jobSetsWithStatus, 0, "");
  }
  if (results.steady) {
    le("steady: writes over resyncs", results.steady.nonGetRequests, t.steady.maxNonGetRequests, "");
    le("steady: writes at restart", results.steady.nonGetRequestsAtRestart, t.steady.maxNonGetRequestsAtRestart, "");
  }
  return out;
}

function table(rows: Check[]): string {
  const cells = rows.map((r) => [
    r.ok ? "ok" : "FAIL",
    r.name,
    `${r.measured}${r.unit && r.unit !== "×" ? ` ${r.unit}` : r.unit}`,
    `≤ ${r.limit}${r.unit && r.unit !== "×" ? ` ${r.unit}` : r.unit}`,
  ]);
  const head = ["", "check", "measured", "threshold"];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i] ?? 0)).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------- main

interface Results {
  date: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    kubernetes: string;
    platform: string;
    loadavgAtStart: number[];
  };
  /** The controller process's Node flags (the image's, then --node-flags). */
  nodeFlags: string[];
  controlPlaneStartSeconds: number;
  scenarios: Record<string, ScenarioResult>;
  ceiling: Record<string, CeilingResult>;
  steady?: SteadyResult;
  checks?: Check[];
  passed?: boolean;
}

async function main(): Promise<number> {
  const thresholds = JSON.parse(readFileSync(join(here, "thresholds.json"), "utf8")) as Thresholds;
  if (!flags["no-build"] && !flags.dist) {
    log("building dist/ (npm run build)");
    execFileSync(process.execPath, [join(here, "..", "scripts", "build.ts")], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  ports = [
    "--webhook-port",
    String(await freePort()),
    "--metrics-port",
    String(await freePort()),
    "--health-port",
    String(await freePort()),
  ];
  const loadavgAtStart = load();
  const t = performance.now();
  const cp = await startControlPlane({ profile: "apiserver", log: (l) => log(`control plane: ${l}`) });
  const pids = Object.fromEntries(cp.components().flatMap((c) => (c.pid === undefined ? [] : [[c.name, c.pid]])));
  meter = new CpuMeter(pids);
  const admin = await KubeClient.create({ kubeconfig: cp.kubeconfigPath, qps: 0, userAgent: "jobset-bench" });
  let upstream: { remove(): void } | undefined;
  try {
    const version = await admin.get<{ gitVersion?: string }>("/version");
    const results: Results = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.availableParallelism(),
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        memoryGiB: round(os.totalmem() / 1024 / MiB, 1),
        node: process.version,
        kubernetes: version.gitVersion ?? "unknown",
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        loadavgAtStart,
      },
      nodeFlags,
      controlPlaneStartSeconds: round((performance.now() - t) / 1000),
      scenarios: {},
      ceiling: {},
    };
    await warmUp(admin);
    await ensureNamespace(admin, InstallNamespace); // the webhook certificate's Secret
    identity = await controllerIdentity(cp, admin);
    if (flags.upstream) {
      // after the warm-up: no webhook serves that
      const prepared = await prepareUpstream(admin);
      upstream = prepared;
      upstreamArgs = prepared.args;
    }
    for (const shape of shapes()) {
      if (only.has(shape.name)) results.scenarios[shape.name] = await runScenario(admin, shape);
      // the ceiling of a scale shape only when that shape runs (c and d take minutes)
      const scaleShape = shape.name === "c" || shape.name === "d";
      if (only.has("ceiling") && (!scaleShape || only.has(shape.name)))
        results.ceiling[shape.name] = await runCeiling(admin, shape);
    }
    if (only.has("steady")) results.steady = await runSteady(admin);

    if (flags.upstream) return reportUpstream(results);
    const rows = checks(results, thresholds);
    results.checks = rows;
    results.passed = rows.every((r) => r.ok);
    const dir = join(here, "results");
    mkdirSync(dir, { recursive: true });
    const json = `${JSON.stringify(results, null, 2)}\n`;
    writeFileSync(join(dir, "latest.local.json"), json);
    if (flags.reference) writeFileSync(join(dir, "latest.json"), json);
    if (flags["write-thresholds"]) writeThresholds(results, thresholds);
    process.stdout.write(`\n${summary(results)}\n\n${table(rows)}\n\n`);
    process.stdout.write(
      `results: ${resolve(dir, "latest.local.json")}${flags.reference ? ` and ${resolve(dir, "latest.json")}` : ""}\n`,
    );
    process.stdout.write(results.passed ? "all thresholds met\n" : "THRESHOLDS BROKEN\n");
    return results.passed ? 0 : 1;
  } finally {
    upstream?.remove();
    identity?.remove();
    await admin.close();
    await cp.stop();
  }
}

/** Registers both webhook configurations at the controller's webhook port with `caBundle`; returns their URL. */
async function registerWebhooks(admin: KubeClient, caBundle: string): Promise<string> {
  const url = `https://127.0.0.1:${ports[ports.indexOf("--webhook-port") + 1]}`;
  const [mutating, validating] = localWebhookConfigurations(url, caBundle);
  await admin.create(resourcePath(Resources.mutatingWebhookConfigurations), mutating);
  await admin.create(resourcePath(Resources.validatingWebhookConfigurations), validating);
  return url;
}

/** The control plane is the benchmark's own: nothing made in it needs removing afterwards. */
const noCleanup = { after: () => undefined };

/**
 * The controller's credentials as deployed in a cluster: the token of its ServiceAccount
 * (jobset-system/jobset-controller-manager, from the TokenRequest API) in a kubeconfig of its own, bound
 * to what the install grants it: ours, every role scripts/rbac.ts binds to the controller; upstream's,
 * the roles of its config/components/rbac. The rules go into one ClusterRole. The bare-client ceiling uses
 * the same credentials. With the admin's client certificate instead, the API server verified a certificate
 * chain on every request (9 % of its CPU in b, docs/benchmarks.md); it checks a token once and caches it.
 * Ours creates its webhook configurations when they are missing, which the install does not allow it: the
 * install ships them (empty caBundle; the controller injects its CA), and so does this.
 */
async function controllerIdentity(
  cp: ControlPlane,
  admin: KubeClient,
): Promise<{ kubeconfig: string; remove(): void }> {
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  const name = "jobset-bench-controller";
  const rules = flags.upstream
    ? ["role.yaml", "auth_proxy_role.yaml", "leader_election_role.yaml", "manager_secrets_role.yaml"].flatMap((f) =>
        parseAllDocuments(readFileSync(join(upstreamModuleDir(), "config", "components", "rbac", f), "utf8"))
          .map((d) => d.toJS() as { rules?: unknown[] } | null)
          .flatMap((d) => d?.rules ?? []),
      )
    : Roles.filter((r) => r.boundToController).flatMap((r) => apiRules(r, "kustomize"));
  // the ServiceAccount and its token (an hour: longer than any run)
  const token = await serviceAccountToken(noCleanup, admin, InstallNamespace, ControllerServiceAccount, false);
  await admin.create(`${rbac}/clusterroles`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name },
    rules,
  });
  await admin.create(`${rbac}/clusterrolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ kind: "ServiceAccount", name: ControllerServiceAccount, namespace: InstallNamespace }],
  });
  if (!flags.upstream) await registerWebhooks(admin, "");
  const dir = mkdtempSync(join(os.tmpdir(), "jobset-bench-identity-"));
  const kubeconfig = writeTokenKubeconfig(dir, { server: cp.server, caCert: cp.pki.caCert }, token, InstallNamespace);
  return { kubeconfig, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * --upstream: builds upstream's controller, gives its webhooks a serving certificate and registers them (its
 * internal certificate management needs the in-cluster Service; ours registers its own), and gets a token
 * its authenticated /metrics accepts. Returns the runner's arguments.
 */
async function prepareUpstream(admin: KubeClient): Promise<{ args: string[]; remove(): void }> {
  const bin = buildUpstreamController();
  const certs = servingCertDir("jobset-bench-upstream");
  const webhookUrl = await registerWebhooks(admin, certs.caPem);
  const token = await serviceAccountToken(noCleanup, admin, "default", "jobset-bench-metrics", true);
  const tokenFile = join(certs.dir, "metrics-token");
  writeFileSync(tokenFile, token, { mode: 0o600 });
  log(`upstream's controller: ${bin}; webhooks at ${webhookUrl}`);
  return {
    args: ["--upstream-bin", bin, "--cert-dir", certs.dir, "--metrics-token", tokenFile],
    remove: certs.remove,
  };
}

/** --upstream: the figures, written to bench/results/upstream.local.json; no limits are checked. */
function reportUpstream(results: Results): number {
  const dir = join(here, "results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "upstream.local.json");
  results.nodeFlags = []; // a Go binary
  writeFileSync(
    path,
    `${JSON.stringify({ controller: "upstream sigs.k8s.io/jobset v0.12.0", ...results }, null, 2)}\n`,
  );
  process.stdout.write(`\n${summary(results)}\n\nresults: ${path} (upstream's controller: no limits checked)\n`);
  return 0;
}

/** bench/thresholds.json with the limits of the scenarios of this run re-taken from it (requests and steady kept). */
function writeThresholds(r: Results, t: Thresholds): void {
  const up = (x: number, factor: number) => Math.ceil(x * factor * 100) / 100;
  for (const [name, s] of Object.entries(r.scenarios)) {
    const old = t.scenarios[name];
    const c = r.ceiling[name];
    if (!old || !c) throw new Error(`--write-thresholds: scenario ${name} needs its limits and its ceiling run`);
    t.scenarios[name] = {
      calibrationMs: s.calibrationMs,
      maxSecondsToAllJobs: up(s.secondsToAllJobs, 1.25),
      maxCeilingFactor: up(s.secondsToAllJobs / c.secondsToAllJobs, 1.25),
      maxRequests: old.maxRequests,
      maxCpuSeconds: up(s.cpuSeconds, 1.25),
      maxPeakRssMiB: up(s.peakRssMiB, 1.15),
    };
  }
  t.comment =
    "Limits checked by `npm run bench` (docs/benchmarks.md), written by `--reference --scale --write-thresholds` from the reference run (bench/results/latest.json; its date and load are in `reference`): times and CPU seconds 25% above it, peak RSS 15% above; the controller runs from the bundle with the Dockerfile ENTRYPOINT's Node flags, as deployed. Each scenario's time and CPU limits scale with calibration now / its calibrationMs (bench/calibration.ts), so they hold in the machine's slow phases too. Scenarios c and d are checked when they run (--scale). Requests: perJob x Jobs + perJobSet x JobSets + constant.";
  t.reference = { date: r.date, loadavgAtStart: r.machine.loadavgAtStart, nodeFlags: r.nodeFlags };
  const path = join(here, "thresholds.json");
  writeFileSync(path, `${JSON.stringify(t, null, 2)}\n`);
  log(`wrote ${path} (scenarios ${Object.keys(r.scenarios).join(", ")})`);
}

/** The machine's cores during a scenario, and the time its work other than the controller's needs on them. */
function coresLine(w: CpuWindow, ceiling: number | undefined): string {
  const parts = Object.entries(w.cpuSeconds).map(([name, s]) => `${name} ${s}`);
  return (
    `cores: ${w.busyCores} of ${w.cores} busy over ${w.seconds} s; CPU s: ${parts.join(", ")}; ` +
    `all but the controller need ≥ ${w.floorSeconds} s on ${w.cores} cores` +
    (ceiling ? ` (${round(w.floorSeconds / ceiling)}× the ceiling)` : "")
  );
}

function summary(r: Results): string {
  const m = r.machine;
  const lines = [
    `machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, node ${m.node}, kube-apiserver ${m.kubernetes}, load ${m.loadavgAtStart.join(" ")}`,
    `controller Node flags: ${r.nodeFlags.length > 0 ? r.nodeFlags.join(" ") : "none"}`,
  ];
  for (const [name, s] of Object.entries(r.scenarios)) {
    const c = r.ceiling[name];
    lines.push(
      `${name} (${s.description}): all ${s.jobs} Jobs in ${s.secondsToAllJobs} s` +
        (c
          ? ` (bare-client ceiling ${c.secondsToAllJobs} s, best of ${c.runs.map((x) => x.secondsToAllJobs).join(" / ")})`
          : "") +
        `; first Job after ${s.secondsToFirstJob} s; client rate-limit floor ${s.rateLimitFloorSeconds} s` +
        `; controller ${s.cpuSeconds} CPU s, peak RSS ${s.peakRssMiB} MiB, ` +
        `requests ${s.requestsTotal} ${JSON.stringify(s.requests)} by code ${JSON.stringify(s.requestsByCode)}, ` +
        `${s.reconciles} reconciles; load ${s.loadavg.after.join(" ")}`,
    );
    if (s.cores) lines.push(`  ${coresLine(s.cores, c?.secondsToAllJobs)}`);
    if (c?.runs.some((x) => x.busyCores !== undefined)) {
      const each = (k: string) => c.runs.map((x) => x.cpuSeconds?.[k] ?? "?").join(" / ");
      lines.push(
        `  ceiling runs: ${c.runs.map((x) => x.busyCores).join(" / ")} of ${s.cores?.cores ?? os.availableParallelism()} cores busy; ` +
          `CPU s: etcd ${each("etcd")}, kube-apiserver ${each("kube-apiserver")}, bare client with its watch ${each("driver")}`,
      );
    }
  }
  if (r.steady) {
    const s = r.steady;
    lines.push(
      `steady: ${s.jobSets} JobSets, ${s.resyncs} resyncs of ${s.resyncPeriodSeconds} s: ${s.reconciles} reconciles, ` +
        `requests ${JSON.stringify(s.requests)} (non-GET ${s.nonGetRequests}; at restart ${s.nonGetRequestsAtRestart}), ${s.cpuSeconds} CPU s`,
    );
  }
  return lines.join("\n");
}

process.exitCode = await main();
