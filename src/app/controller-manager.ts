// The process assembly (upstream's main.go): one API client, a Manager with leader election, health
// probes and /metrics, the JobSet controller, and — when the process hosts the admission webhooks — the
// shared JobSet-pods cache, the webhooks' PVC cache, the webhook server and the placement-repair pod
// controller. `jobset
// controller`, `jobset up` (src/cli/local-cluster.ts), the test stacks and the benchmark all start the
// same thing through startControllerManager, so what is tested is what runs.
import { DefaultLeaderElectionID } from "../api/config.ts";
import { defaultFeatureGates, type FeatureGates } from "../api/features.ts";
import type { Pod } from "../api/k8s.ts";
import type { ControllerDeps } from "../controllers/deps.ts";
import {
  type JobSetController,
  type JobSetControllerSettings,
  setupJobSetController,
} from "../controllers/jobset/controller.ts";
import { setupPodController } from "../controllers/pod/controller.ts";
import { jobSetPodsInformer } from "../controllers/pods.ts";
import { type ClientOptions, KubeClient } from "../runtime/client.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Informer } from "../runtime/informer.ts";
import { KubeLeaseStore } from "../runtime/leader-election.ts";
import type { Logger } from "../runtime/logger.ts";
import { Manager, type ManagerOptions } from "../runtime/manager.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { pvcInformer } from "../webhooks/pvc-cache.ts";
import { type HostedWebhooks, hostWebhooks, type WebhookHosting } from "./webhooks.ts";

/** Lease-based leader election (spec §9.5). */
export interface LeaderElectionSettings {
  namespace: string;
  /** Default `6d4f6a47.jobset.x-k8s.io`. */
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

/** The Manager's own settings. */
export interface ManagerSettings {
  /** Omit to lead at once. */
  leaderElection?: LeaderElectionSettings;
  /** Health probes server; omit for none. */
  health?: ManagerOptions["health"];
  /** /metrics server (needs `telemetry.metrics`); omit for none. */
  metricsServer?: ManagerOptions["metricsServer"];
  gracefulShutdownMs?: number;
  /** Observes every reconcile of every controller (tests). */
  onReconcile?: ManagerOptions["onReconcile"];
}

export interface ControllerManagerOptions {
  /** The API client to use (left open on stop), or how to make one (instrumented, closed on stop). */
  client: KubeClient | ClientOptions;
  /** The process's clock, logger and metrics (all optional: real clock, silent, none). */
  telemetry?: { clock?: Clock; logger?: Logger; metrics?: Metrics };
  /** Feature gates of the controllers and webhooks (default: the defaults). */
  gates?: FeatureGates;
  /** Watch only this namespace (tests); default all namespaces. */
  namespace?: string;
  /** The JobSet controller's settings. */
  jobset?: Omit<JobSetControllerSettings, "gates" | "namespace" | "pods">;
  manager?: ManagerSettings;
  /** Host the admission webhooks and run the placement-repair pod controller; omit for neither. */
  webhooks?: WebhookHosting;
  /** Stops everything when aborted. */
  signal?: AbortSignal;
}

export interface RunningControllerManager {
  controller: JobSetController;
  manager: Manager;
  client: KubeClient;
  /** The webhook server, when hosted. */
  webhooks: HostedWebhooks | undefined;
  /** Settles when the manager has stopped (rejects on a fatal error such as a lost leader election). */
  done: Promise<void>;
  /** Stops gracefully (and closes the client if this function created it). */
  stop(): Promise<void>;
}

function managerOptions(o: ControllerManagerOptions, client: KubeClient): ManagerOptions {
  const { clock, logger, metrics } = o.telemetry ?? {};
  const m = o.manager ?? {};
  const mo: ManagerOptions = {
    ...(logger ? { logger } : {}),
    ...(metrics ? { metrics } : {}),
    ...(clock ? { clock } : {}),
    ...(m.health ? { health: m.health } : {}),
    ...(m.metricsServer ? { metricsServer: m.metricsServer } : {}),
    ...(m.gracefulShutdownMs !== undefined ? { gracefulShutdownMs: m.gracefulShutdownMs } : {}),
    ...(m.onReconcile ? { onReconcile: m.onReconcile } : {}),
  };
  const le = m.leaderElection;
  if (le) {
    mo.leaderElection = {
      store: new KubeLeaseStore(client, le.namespace, le.name ?? DefaultLeaderElectionID),
      ...(le.identity ? { identity: le.identity } : {}),
      ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
    };
  }
  return mo;
}

/** Registers the controllers (and the webhooks, when hosted) with `manager`. */
function setupControllers(
  manager: Manager,
  deps: ControllerDeps,
  o: ControllerManagerOptions,
): { controller: JobSetController; webhooks: HostedWebhooks | undefined } {
  const gates = o.gates ?? defaultFeatureGates;
  const namespace = o.namespace ? { namespace: o.namespace } : {};
  // One JobSet-pods cache for the pod webhooks, the pod controller and in-place restart.
  let pods: Informer<Pod> | undefined;
  if (o.webhooks || gates.InPlaceRestart) {
    const resync = o.jobset?.resyncPeriodMs;
    pods = manager.addInformer(
      jobSetPodsInformer(deps, { ...namespace, ...(resync !== undefined ? { resyncPeriodMs: resync } : {}) }),
    );
  }
  const controller = setupJobSetController(manager, deps, {
    ...o.jobset,
    ...namespace,
    gates,
    ...(pods ? { pods } : {}),
  });
  let webhooks: HostedWebhooks | undefined;
  if (o.webhooks && pods) {
    setupPodController(manager, deps, pods);
    // The JobSet validating webhook's PVC cache: only in a process that hosts the webhooks. Like the pod
    // cache it is a manager informer, so it runs on every replica (webhooks answer on non-leaders too).
    const pvcs = manager.addInformer(pvcInformer(deps, namespace));
    webhooks = hostWebhooks(manager, o.webhooks, { client: deps.client, pods, pvcs, gates });
  }
  return { controller, webhooks };
}

/**
 * Starts the controller manager in this process and resolves once the JobSet controller's caches have
 * synced (rejects, after stopping, if the manager stops first).
 */
export async function startControllerManager(o: ControllerManagerOptions): Promise<RunningControllerManager> {
  const owned = !(o.client instanceof KubeClient);
  let client: KubeClient;
  if (o.client instanceof KubeClient) client = o.client;
  else {
    client = await KubeClient.create({ qps: 500, burst: 500, ...o.client });
    o.telemetry?.metrics?.instrumentClient(client);
  }
  const closeClient = async () => {
    if (owned) await client.close();
  };
  let manager: Manager;
  let setup: ReturnType<typeof setupControllers>;
  try {
    manager = new Manager(managerOptions(o, client));
    setup = setupControllers(manager, { client, ...o.telemetry }, o);
  } catch (e) {
    await closeClient();
    throw e;
  }
  const { controller, webhooks } = setup;
  const done = manager.start(o.signal);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    manager.stop();
    await done.catch(() => undefined);
    await closeClient();
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
    throw outcome instanceof Error ? outcome : new Error("the controller manager stopped before its caches synced");
  }
  return { controller, manager, client, webhooks, done, stop };
}
