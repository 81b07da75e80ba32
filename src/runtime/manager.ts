// Lifecycle glue, after controller-runtime's manager: health and metrics servers, informers (started
// on every replica), controllers (queue + workers + reconcile function) and other runnables gated by
// leader election, and a graceful shutdown: stop taking work, let in-flight reconciles finish within a
// deadline, stop informers, then release the Lease so a successor takes over at once.
import type { Clock } from "./clock.ts";
import { realClock, sleep } from "./clock.ts";
import { type Check, HealthServer, informersSynced, ping } from "./health.ts";
import { LeaderElector, type LeaderElectorOptions } from "./leader-election.ts";
import { type Logger, reconcileLogger, silentLogger } from "./logger.ts";
import { type Metrics, type MetricsServerOptions, type RunningServer, startMetricsServer } from "./metrics.ts";
import { splitKey } from "./store.ts";
import { type HandlerReturn, type RateLimiter, type ReconcileOutcome, runWorkers, WorkQueue } from "./workqueue.ts";

/** What the manager needs of an informer. */
export interface ManagedInformer {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

export interface ReconcileContext {
  /** A child logger with controller, namespace, name and reconcileID. */
  log: Logger;
  /** Aborts only when the graceful-shutdown deadline passes (in-flight work is otherwise left to finish). */
  signal: AbortSignal;
}

export interface ControllerOptions {
  name: string;
  /** Reconciles one `namespace/name` key. Throw to retry with backoff. */
  reconcile: (key: string, ctx: ReconcileContext) => Promise<HandlerReturn>;
  /** Concurrent workers (default 1, as controller-runtime's MaxConcurrentReconciles). */
  concurrency?: number;
  rateLimiter?: RateLimiter;
  /** Run only on the leader (default true). */
  needLeaderElection?: boolean;
}

export interface Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  /** Adds a key (`namespace/name`) to the queue. */
  enqueue(key: string): void;
}

export interface Runnable {
  name: string;
  run(signal: AbortSignal): Promise<void>;
  /** Run only on the leader (default true). */
  needLeaderElection?: boolean;
}

export interface ManagerOptions {
  logger?: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Health probes; omit to run no health server. */
  health?: { bindAddress: string; livenessPath?: string; readinessPath?: string };
  /** /metrics server; omit (or bindAddress "0") to run none. */
  metricsServer?: Omit<MetricsServerOptions, "metrics">;
  /** Leader election; omit to lead unconditionally. */
  leaderElection?: Omit<LeaderElectorOptions, "onStartedLeading" | "onStoppedLeading" | "clock" | "logger">;
  /** Time allowed for in-flight work to finish on shutdown (default 30 s, as controller-runtime). */
  gracefulShutdownMs?: number;
  /** Give up if informers have not synced by then (default 2 min). */
  cacheSyncTimeoutMs?: number;
  /** Observes every reconcile of every controller (tests), after the metrics and the error log. */
  onReconcile?: (controller: string, key: string, outcome: ReconcileOutcome, seconds: number, error?: unknown) => void;
}

interface ControllerEntry extends Controller {
  o: ControllerOptions;
  workers?: Promise<void>;
}

export class Manager {
  readonly health: HealthServer | undefined;
  private readonly o: ManagerOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly informers: ManagedInformer[] = [];
  private readonly controllers: ControllerEntry[] = [];
  private readonly runnables: Runnable[] = [];
  private readonly stopCtl = new AbortController();
  /** Aborted when the graceful deadline passes: the last word to in-flight reconciles. */
  private readonly hardCtl = new AbortController();
  private readonly runnableCtl = new AbortController();
  private readonly runningRunnables: Promise<void>[] = [];
  private elector: LeaderElector | undefined;
  private leading = false;
  private started = false;
  private metricsServer: RunningServer | undefined;
  private electedWaiters: (() => void)[] = [];

  constructor(o: ManagerOptions = {}) {
    this.o = o;
    this.log = o.logger ?? silentLogger();
    this.clock = o.clock ?? realClock;
    if (o.health) {
      this.health = new HealthServer({ ...o.health, logger: this.log });
      this.health.addHealthCheck("ping", ping);
      this.health.addReadyCheck(
        "informers",
        informersSynced(() => this.informers),
      );
    }
  }

  addInformer<I extends ManagedInformer>(informer: I): I {
    this.informers.push(informer);
    if (this.started) informer.start();
    return informer;
  }

  addController(o: ControllerOptions): Controller {
    if (this.controllers.some((c) => c.name === o.name)) throw new Error(`controller ${o.name} already exists`);
    const sink = this.o.metrics?.queueSink(o.name);
    const queue = new WorkQueue({ name: o.name, clock: this.clock, rateLimiter: o.rateLimiter, metrics: sink });
    this.o.metrics?.trackQueue(o.name, queue);
    this.o.metrics?.initController(o.name, o.concurrency ?? 1);
    const c: ControllerEntry = { name: o.name, queue, o, enqueue: (key) => queue.add(key) };
    this.controllers.push(c);
    return c;
  }

  addRunnable(r: Runnable): void {
    this.runnables.push(r);
  }

  addHealthCheck(name: string, check: Check): void {
    this.health?.addHealthCheck(name, check);
  }
  addReadyCheck(name: string, check: Check): void {
    this.health?.addReadyCheck(name, check);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Resolves when this replica leads (immediately without leader election). */
  elected(): Promise<void> {
    if (this.leading) return Promise.resolve();
    return new Promise((resolve) => this.electedWaiters.push(resolve));
  }

  get stopping(): boolean {
    return this.stopCtl.signal.aborted;
  }

  /** Starts a graceful shutdown; `start()` resolves when it is complete. */
  stop(): void {
    this.stopCtl.abort();
  }

  /**
   * Installs SIGTERM/SIGINT handlers that call `stop()`; a second signal exits at once (status 1).
   * Returns a function that removes them.
   */
  handleSignals(): () => void {
    let seen = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (seen) {
        this.log.error({ signal: sig }, "second signal: exiting now");
        process.exit(1);
      }
      seen = true;
      this.log.info({ signal: sig }, "shutting down gracefully");
      this.stop();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    return () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    };
  }

  private startController(c: ControllerEntry): void {
    const concurrency = Math.max(1, c.o.concurrency ?? 1);
    const m = this.o.metrics;
    this.log.info({ controller: c.name, workerCount: concurrency }, "starting workers");
    c.workers = runWorkers(
      c.queue,
      concurrency,
      async (key) => {
        const { namespace, name } = splitKey(key);
        const log = reconcileLogger(this.log, { controller: c.name, namespace, name });
        return c.o.reconcile(key, { log, signal: this.hardCtl.signal });
      },
      {
        onActive: (d) => m?.activeWorkers.inc({ controller: c.name }, d),
        onResult: (key, outcome, seconds, error) => {
          m?.observeReconcile(c.name, outcome, seconds);
          if (outcome === "error") {
            const { namespace, name } = splitKey(key);
            this.log.error({ controller: c.name, namespace, name, err: error }, "Reconciler error");
          }
          this.o.onReconcile?.(c.name, key, outcome, seconds, error);
        },
      },
      this.clock,
    );
  }

  private startRunnable(r: Runnable): void {
    this.runningRunnables.push(
      r.run(this.runnableCtl.signal).catch((e: unknown) => {
        this.log.error({ runnable: r.name, err: e }, "runnable failed");
      }),
    );
  }

  private startLeaderWork(): void {
    this.leading = true;
    for (const w of this.electedWaiters.splice(0)) w();
    for (const c of this.controllers) if (c.o.needLeaderElection !== false) this.startController(c);
    for (const r of this.runnables) if (r.needLeaderElection !== false) this.startRunnable(r);
  }

  /**
   * Runs until `stop()` (or `signal`), then shuts down gracefully. Rejects if the caches cannot sync,
   * or when leadership is lost (after stopping everything): the process should then exit.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) throw new Error("manager already started");
    this.started = true;
    signal?.addEventListener("abort", () => this.stop(), { once: true });
    if (signal?.aborted) this.stop();
    let failure: Error | undefined;
    const electorCtl = new AbortController();
    let electorRun: Promise<boolean> | undefined;
    try {
      if (this.health) {
        const port = await this.health.start();
        if (port !== undefined) this.log.info({ port }, "serving health probes");
      }
      if (this.o.metricsServer && this.o.metrics) {
        this.metricsServer = await startMetricsServer({ ...this.o.metricsServer, metrics: this.o.metrics });
        if (this.metricsServer) this.log.info({ port: this.metricsServer.port }, "serving metrics");
      }
      for (const inf of this.informers) inf.start();
      // controllers and runnables that do not need leadership start at once
      for (const c of this.controllers) if (c.o.needLeaderElection === false) this.startController(c);
      for (const r of this.runnables) if (r.needLeaderElection === false) this.startRunnable(r);

      const syncCtl = new AbortController();
      const cancelSyncTimer = this.clock.setTimer(() => syncCtl.abort(), this.o.cacheSyncTimeoutMs ?? 120_000);
      const onStop = () => syncCtl.abort();
      this.stopCtl.signal.addEventListener("abort", onStop, { once: true });
      const synced = await Promise.all(this.informers.map((i) => i.waitForSync(syncCtl.signal)));
      cancelSyncTimer();
      this.stopCtl.signal.removeEventListener("abort", onStop);
      if (!this.stopping && synced.some((ok) => !ok)) {
        const pending = this.informers.filter((i) => !i.hasSynced()).map((i) => i.name);
        throw new Error(`timed out waiting for caches to sync: ${pending.join(", ")}`);
      }

      if (!this.stopping) {
        if (this.o.leaderElection) {
          const metrics = this.o.metrics;
          const le = this.o.leaderElection;
          this.elector = new LeaderElector({
            ...le,
            clock: this.clock,
            logger: this.log,
            onStartedLeading: () => {
              if (!this.stopping) this.startLeaderWork();
            },
            onLeaderStatus: (v) => {
              metrics?.leaderStatus.set({ name: le.store.description }, v ? 1 : 0);
              le.onLeaderStatus?.(v);
            },
          });
          electorRun = this.elector.run(electorCtl.signal);
          // the election ending on its own means leadership was lost
          void electorRun.then(() => {
            if (!electorCtl.signal.aborted && !this.stopping) {
              failure = new Error("leader election lost");
              this.stop();
            }
          });
        } else this.startLeaderWork();
      }
      await new Promise<void>((resolve) => {
        if (this.stopping) resolve();
        else this.stopCtl.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
      this.stop();
    } finally {
      await this.shutdown(electorCtl, electorRun);
    }
    if (failure) throw failure;
  }

  private async shutdown(electorCtl: AbortController, electorRun: Promise<boolean> | undefined): Promise<void> {
    const deadline = this.clock.now() + (this.o.gracefulShutdownMs ?? 30_000);
    const left = () => Math.max(0, deadline - this.clock.now());
    // cancels the deadline timers below once shutdown is over (they would keep the process alive)
    const timers = new AbortController();
    this.log.info("stopping: waiting for in-flight work");
    // 1. stop taking work; let in-flight reconciles finish
    const drained = await Promise.all(this.controllers.map((c) => c.queue.shutDownWithDrain(left())));
    this.runnableCtl.abort();
    const runnablesDone = Promise.all(this.runningRunnables).then(() => true);
    const inTime = await Promise.race([runnablesDone, sleep(this.clock, left(), timers.signal).then(() => false)]);
    if (drained.some((d) => !d) || !inTime) {
      this.log.warn("graceful shutdown deadline passed with work in flight");
      this.hardCtl.abort();
    }
    await Promise.race([
      Promise.all(this.controllers.map((c) => c.workers ?? Promise.resolve())),
      sleep(this.clock, left(), timers.signal),
    ]);
    // 2. stop informers
    await Promise.all(this.informers.map((i) => i.stop()));
    // 3. release the lease (after our work has stopped, so a successor never overlaps with us)
    electorCtl.abort();
    if (electorRun) await Promise.race([electorRun, sleep(this.clock, Math.max(left(), 5_000), timers.signal)]);
    this.leading = false;
    // 4. servers
    await this.health?.stop();
    await this.metricsServer?.close();
    timers.abort();
    this.log.info("stopped");
  }
}
