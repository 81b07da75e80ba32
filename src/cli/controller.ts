// `jobset controller`: the JobSet controller manager (spec §9): the JobSet controller, the exclusive-
// placement pod controller, the admission webhooks with their certificates, leader election, health
// probes, /metrics, structured logs, graceful shutdown on SIGTERM/SIGINT. Works with any kubeconfig
// (--kubeconfig, $KUBECONFIG, ~/.kube/config) or in-cluster.
//
// Configuration: the Configuration file (`--config`, spec §9.3) with its defaults; the flags of spec
// §9.4 override it only when they are given explicitly. Flags follow Go's flag syntax (`-flag`,
// `--flag`, `--flag=value`, `--flag value`; booleans take `=true|false` only).
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  type DefaultedConfiguration,
  DefaultLivenessEndpoint,
  DefaultMetricsCertDir,
  DefaultReadinessEndpoint,
  DefaultWebhookCertDir,
  DefaultWorkers,
  loadConfiguration,
  parseDuration,
} from "../api/config.ts";
import { parseFeatureGates, parseFeatureGatesFlag } from "../api/features.ts";
import type { Pod } from "../api/k8s.ts";
import { createCa, issueServingCert } from "../local/pki.ts";
import { KubeClient } from "../runtime/client.ts";
import { Informer } from "../runtime/informer.ts";
import { startJobSetController } from "../runtime/jobset-controller.ts";
import { createLogger, type LogFormat, type Logger, parseLogLevel } from "../runtime/logger.ts";
import { kubeMetricsAuthorizer, Metrics } from "../runtime/metrics.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { jobSetPodCacheTransform } from "../runtime/transforms.ts";
import { buildInfo, userAgent } from "../version.ts";
import { CertManager, waitForCertFiles } from "../webhooks/certs.ts";
import { localWebhookConfigurations } from "../webhooks/configurations.ts";
import { addPodIndexes } from "../webhooks/pod-controller.ts";
import { WebhookServer } from "../webhooks/server.ts";
import { webhookStack } from "../webhooks/setup.ts";
import { UsageError } from "./usage.ts";

const help = `Usage: jobset controller [flags]

Runs the JobSet controller manager: the JobSet controller, the exclusive-placement pod controller,
the admission webhooks (with built-in certificate management), leader election, health probes and
Prometheus metrics. Reads a Configuration file (config.jobset.x-k8s.io/v1alpha1); flags given
explicitly override it.

Flags:
  --config PATH                      Configuration file (defaults as in the docs when omitted)
  --kubeconfig PATH                  kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --context NAME                     kubeconfig context (default: the current context)
  --kube-api-qps N                   API client QPS (default 500; overrides clientConnection.qps)
  --kube-api-burst N                 API client burst (default 500; overrides clientConnection.burst)
  --leader-elect=BOOL                leader election (overrides leaderElection.leaderElect, default true)
  --metrics-bind-address ADDR        /metrics address (default :8443, "0" disables)
  --health-probe-bind-address ADDR   /healthz and /readyz address (default :8081, "0" disables)
  --zap-log-level LEVEL              debug, info, error, or a verbosity number (2 = debug)
  --zap-devel=BOOL                   development logging: console format, debug level (default true)
  --zap-encoder json|console         log format
  --zap-stacktrace-level, --zap-time-encoding   accepted for compatibility (no effect)

Extensions (not in upstream):
  --feature-gates A=true,B=false     merged over the Configuration's featureGates
  --webhooks=BOOL                    host the admission webhooks and their certificates (default true)
  --webhook-url URL                  local clusters: webhooks called at this https URL, e.g. https://127.0.0.1:9443 (certificate for its host; configurations created if missing)
  --metrics-secure=BOOL              HTTPS + Kubernetes authn/authz on /metrics (default true)
  --workers N                        concurrent JobSet reconciles (default ${DefaultWorkers}; upstream runs 1)
  --namespace NS                     watch only this namespace (default: all namespaces)
  -h, --help                         show this help
`;

// ---------------------------------------------------------------------------------------------- flags

type FlagKind = "string" | "bool" | "number";
const flagKinds: Record<string, FlagKind> = {
  config: "string",
  kubeconfig: "string",
  context: "string",
  "kube-api-qps": "number",
  "kube-api-burst": "number",
  "leader-elect": "bool",
  "metrics-bind-address": "string",
  "health-probe-bind-address": "string",
  "zap-log-level": "string",
  "zap-devel": "bool",
  "zap-encoder": "string",
  "zap-stacktrace-level": "string",
  "zap-time-encoding": "string",
  "feature-gates": "string",
  webhooks: "bool",
  "webhook-url": "string",
  "metrics-secure": "bool",
  workers: "number",
  namespace: "string",
  help: "bool",
  h: "bool",
};

export type Flags = Record<string, string | number | boolean>;

/** Go flag-package parsing; returns only the flags given explicitly. */
export function parseControllerFlags(argv: readonly string[]): Flags {
  const out: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument "${argv[i + 1]}"`);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") throw new UsageError(`unexpected argument "${arg}"`);
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const kind = flagKinds[name];
    if (!kind) throw new UsageError(`flag provided but not defined: -${name}`);
    let raw: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (kind === "bool") {
      if (raw === undefined) out[name] = true;
      else if (/^(1|t|true|TRUE|True)$/.test(raw)) out[name] = true;
      else if (/^(0|f|false|FALSE|False)$/.test(raw)) out[name] = false;
      else throw new UsageError(`invalid boolean value "${raw}" for -${name}`);
      continue;
    }
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      raw = argv[++i] as string;
    }
    if (kind === "number") {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw new UsageError(`invalid value "${raw}" for flag -${name}`);
      out[name] = n;
    } else out[name] = raw;
  }
  return out;
}

const str = (f: Flags, k: string): string | undefined => (typeof f[k] === "string" ? (f[k] as string) : undefined);
const num = (f: Flags, k: string): number | undefined => (typeof f[k] === "number" ? (f[k] as number) : undefined);
const bool = (f: Flags, k: string): boolean | undefined => (typeof f[k] === "boolean" ? (f[k] as boolean) : undefined);

/** The Configuration file (if any) with the explicitly given flags applied over it (spec §9.4). */
export function effectiveConfiguration(
  flags: Flags,
  readFile: (p: string) => string = (p) => readFileSync(p, "utf8"),
): DefaultedConfiguration {
  const path = str(flags, "config");
  const cfg = loadConfiguration(path ? readFile(path) : undefined);
  const metrics = str(flags, "metrics-bind-address");
  if (metrics !== undefined) cfg.metrics.bindAddress = metrics;
  const health = str(flags, "health-probe-bind-address");
  if (health !== undefined) cfg.health.healthProbeBindAddress = health;
  const le = bool(flags, "leader-elect");
  if (le !== undefined) cfg.leaderElection.leaderElect = le;
  const qps = num(flags, "kube-api-qps");
  if (qps !== undefined) cfg.clientConnection.qps = qps;
  const burst = num(flags, "kube-api-burst");
  if (burst !== undefined) cfg.clientConnection.burst = burst;
  const gates = str(flags, "feature-gates");
  if (gates !== undefined) cfg.featureGates = { ...cfg.featureGates, ...parseFeatureGatesFlag(gates) };
  return cfg;
}

// ---------------------------------------------------------------------------------------------- helpers

const ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The namespace the controller runs in (service-account file), or undefined out of cluster. */
function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(ServiceAccountNamespaceFile, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The operator namespace of the webhook certificates (spec §9.7): service-account namespace, else `jobset-system`. */
function operatorNamespace(): string {
  return inClusterNamespace() ?? "jobset-system";
}

/**
 * Writes a self-signed certificate for /metrics (when no certDir is configured) into a directory of
 * this process (replicas sharing a host must not overwrite each other's key pair); returns the dir.
 */
async function selfSignedMetricsCertDir(): Promise<string> {
  const ca = createCa("jobset-metrics-ca", 3650);
  const cert = issueServingCert(ca, { commonName: "jobset-metrics", dnsNames: ["localhost", hostname()] });
  await mkdir(DefaultMetricsCertDir, { recursive: true });
  const dir = await mkdtemp(join(DefaultMetricsCertDir, "self-signed-"));
  await writeFile(join(dir, "tls.crt"), cert.certPem + ca.certPem);
  await writeFile(join(dir, "tls.key"), cert.keyPem, { mode: 0o600 });
  return dir;
}

function loggerFor(flags: Flags): Logger {
  const devel = bool(flags, "zap-devel") ?? true;
  const encoder = str(flags, "zap-encoder");
  if (encoder !== undefined && encoder !== "json" && encoder !== "console") {
    throw new UsageError(`invalid value "${encoder}" for flag -zap-encoder: must be json or console`);
  }
  const format: LogFormat = (encoder as LogFormat | undefined) ?? (devel ? "console" : "json");
  const level = str(flags, "zap-log-level") ?? (devel ? "debug" : "info");
  try {
    parseLogLevel(level);
  } catch (e) {
    throw new UsageError(`invalid value "${level}" for flag -zap-log-level: ${(e as Error).message}`);
  }
  return createLogger({ level, format });
}

// ---------------------------------------------------------------------------------------------- command

export async function controller(argv: string[]): Promise<number> {
  const flags = parseControllerFlags(argv);
  if (flags.help === true || flags.h === true) {
    process.stdout.write(help);
    return 0;
  }
  // Named loggers are children of an unnamed root (a child of a named logger repeated the "logger" key).
  const root = loggerFor(flags);
  const log = root.child({ logger: "setup" });
  let cfg: DefaultedConfiguration;
  let gates: ReturnType<typeof parseFeatureGates>;
  try {
    cfg = effectiveConfiguration(flags);
    gates = parseFeatureGates(cfg.featureGates);
  } catch (e) {
    if (e instanceof ConfigError || (e as Error).name === "FeatureGateError") {
      log.error({ err: (e as Error).message }, "unable to load the configuration");
      return 1;
    }
    throw e;
  }
  const ua = userAgent();
  log.info(
    { version: buildInfo.version, commit: buildInfo.commit, userAgent: ua, featureGates: gates },
    "starting jobset controller",
  );

  const kubeconfig = str(flags, "kubeconfig");
  const context = str(flags, "context");
  const client = await KubeClient.create({
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(context ? { context } : {}),
    qps: cfg.clientConnection.qps,
    burst: cfg.clientConnection.burst,
    userAgent: ua,
  });
  const metrics = new Metrics(undefined, { processMetrics: true });
  metrics.instrumentClient(client);

  // leader election namespace: configured, else the pod's namespace (upstream fails out of cluster)
  let leaderElection: Parameters<typeof startJobSetController>[0]["leaderElection"];
  if (cfg.leaderElection.leaderElect) {
    const namespace = cfg.leaderElection.resourceNamespace || inClusterNamespace();
    if (!namespace) {
      log.error(
        "unable to find leader election namespace: not running in-cluster, please specify leaderElection.resourceNamespace in the configuration (or --leader-elect=false)",
      );
      await client.close();
      return 1;
    }
    leaderElection = {
      namespace,
      name: cfg.leaderElection.resourceName,
      leaseDurationMs: parseDuration(cfg.leaderElection.leaseDuration),
      renewDeadlineMs: parseDuration(cfg.leaderElection.renewDeadline),
      retryPeriodMs: parseDuration(cfg.leaderElection.retryPeriod),
    };
  }

  // /metrics: HTTPS with authn/authz (upstream), or plain HTTP with --metrics-secure=false
  const secure = bool(flags, "metrics-secure") ?? true;
  let metricsServer: Parameters<typeof startJobSetController>[0]["metricsServer"];
  let selfSignedDir: string | undefined;
  if (cfg.metrics.bindAddress !== "0") {
    metricsServer = { bindAddress: cfg.metrics.bindAddress };
    if (secure) {
      if (!cfg.metrics.certDir && cfg.internalCertManagement.enable) selfSignedDir = await selfSignedMetricsCertDir();
      const certDir = cfg.metrics.certDir || selfSignedDir || DefaultMetricsCertDir;
      metricsServer.certDir = certDir;
      metricsServer.authorize = kubeMetricsAuthorizer(client);
      if (cfg.tls?.minVersion === "VersionTLS13") metricsServer.minVersion = "VersionTLS13";
    }
  }

  const webhooksOn = bool(flags, "webhooks") ?? true;
  const webhookUrl = str(flags, "webhook-url");
  let webhookHost: { dnsNames: string[] } | { ipAddresses: string[] } | undefined;
  if (webhookUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(webhookUrl);
      localWebhookConfigurations(webhookUrl, ""); // validates: https, no user info, query or fragment
    } catch (e) {
      await client.close();
      throw new UsageError(`invalid value "${webhookUrl}" for flag -webhook-url: ${(e as Error).message}`);
    }
    const host = u.hostname.replace(/^\[|\]$/g, "");
    webhookHost = isIP(host) ? { ipAddresses: [host] } : { dnsNames: [host] };
  }
  const namespace = str(flags, "namespace");
  // One pod cache (pods of JobSets only) for the pod webhooks, the pod controller and in-place restart.
  const needPods = webhooksOn || gates.InPlaceRestart;
  const pods = needPods
    ? new Informer<Pod>({
        client,
        path: resourcePath({ ...Resources.pods, namespace }),
        name: "pods",
        labelSelector: "jobset.sigs.k8s.io/jobset-name",
        transform: jobSetPodCacheTransform,
        logger: log,
        metrics: metrics.informerSink("pods"),
      })
    : undefined;
  if (pods && webhooksOn) addPodIndexes(pods);

  let certManager: CertManager | undefined;
  let webhookServer: WebhookServer | undefined;
  const running = await startJobSetController({
    client,
    gates,
    metrics,
    logger: root.child({ logger: "controller" }),
    workers: num(flags, "workers") ?? DefaultWorkers,
    ...(namespace ? { namespace } : {}),
    ...(pods ? { pods } : {}),
    ...(leaderElection ? { leaderElection } : {}),
    ...(metricsServer ? { metricsServer } : {}),
    health: {
      bindAddress: cfg.health.healthProbeBindAddress,
      livenessPath: cfg.health.livenessEndpointName || DefaultLivenessEndpoint,
      readinessPath: cfg.health.readinessEndpointName || DefaultReadinessEndpoint,
    },
    configure: (manager) => {
      if (!webhooksOn || !pods) return;
      const { handlers, podController } = webhookStack({ client, pods, gates });
      manager.addRunnable(podController);
      const certDir = cfg.webhook.certDir || DefaultWebhookCertDir;
      const server = new WebhookServer({
        host: cfg.webhook.host,
        port: cfg.webhook.port,
        handlers,
        tls: {
          ...(cfg.tls?.minVersion ? { minVersion: cfg.tls.minVersion } : {}),
          ...(cfg.tls?.cipherSuites ? { cipherSuites: cfg.tls.cipherSuites } : {}),
        },
        ...(cfg.internalCertManagement.enable ? {} : { certDir }),
        logger: root.child({ logger: "webhooks" }),
      });
      webhookServer = server;
      if (cfg.internalCertManagement.enable) {
        certManager = new CertManager({
          client,
          namespace: operatorNamespace(),
          serviceName: cfg.internalCertManagement.webhookServiceName ?? "jobset-webhook-service",
          secretName: cfg.internalCertManagement.webhookSecretName ?? "jobset-webhook-server-cert",
          certDir,
          ...webhookHost,
          ...(webhookUrl
            ? { createConfigurations: (bundle: string) => localWebhookConfigurations(webhookUrl, bundle) }
            : {}),
          // before the server starts this sets its initial certificate
          onCertificate: (c) => server.setCertificate(c),
          logger: root.child({ logger: "cert-rotation" }),
        });
        const cm = certManager;
        manager.addReadyCheck("certs", () => cm.readyCheck());
      }
      manager.addReadyCheck("webhook", () => {
        if (!server.isStarted) throw new Error("webhook server not started");
      });
      manager.addRunnable({
        name: "webhooks",
        needLeaderElection: false,
        run: async (signal) => {
          if (certManager) await certManager.start(signal);
          else await waitForCertFiles(certDir, signal);
          if (signal.aborted) return;
          await server.start();
          log.info({ port: server.port }, "serving webhooks");
          await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
          certManager?.stop();
          await server.stop();
        },
      });
    },
  });
  const removeSignals = running.manager.handleSignals();
  log.info({ leaderElection: Boolean(leaderElection), webhooks: webhooksOn }, "jobset controller started");
  try {
    await running.done;
    return 0;
  } catch (e) {
    log.error({ err: (e as Error).message }, "controller manager stopped with an error");
    return 1;
  } finally {
    removeSignals();
    certManager?.stop();
    if (webhookServer?.isStarted) await webhookServer.stop().catch(() => undefined);
    await client.close();
    if (selfSignedDir) await rm(selfSignedDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
