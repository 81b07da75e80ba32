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
import { type FeatureGates, parseFeatureGates, parseFeatureGatesFlag } from "../api/features.ts";
import {
  type LeaderElectionSettings,
  type ManagerSettings,
  type RunningControllerManager,
  startControllerManager,
} from "../app/controller-manager.ts";
import type { WebhookHosting } from "../app/webhooks.ts";
import { createCa, issueServingCert } from "../pki/x509.ts";
import { KubeClient } from "../runtime/client.ts";
import { createLogger, type LogFormat, type Logger, parseLogLevel } from "../runtime/logger.ts";
import { kubeMetricsAuthorizer, Metrics } from "../runtime/metrics.ts";
import { buildInfo, userAgent } from "../version.ts";
import {
  localWebhookConfigurations,
  WebhookNamespace,
  WebhookSecretName,
  WebhookServiceName,
} from "../webhooks/configurations.ts";
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
  return inClusterNamespace() ?? WebhookNamespace;
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

// ---------------------------------------------------------------------------------------------- parts

/** The effective configuration and feature gates; undefined (after logging why) when they are invalid. */
function loadSettings(flags: Flags, log: Logger): { cfg: DefaultedConfiguration; gates: FeatureGates } | undefined {
  try {
    const cfg = effectiveConfiguration(flags);
    return { cfg, gates: parseFeatureGates(cfg.featureGates) };
  } catch (e) {
    if (e instanceof ConfigError || (e as Error).name === "FeatureGateError") {
      log.error({ err: (e as Error).message }, "unable to load the configuration");
      return undefined;
    }
    throw e;
  }
}

/**
 * Leader election as configured: undefined when disabled; "no-namespace" when enabled but no namespace
 * is configured and we are not in a cluster (upstream fails there too).
 */
function leaderElectionSettings(cfg: DefaultedConfiguration): LeaderElectionSettings | undefined | "no-namespace" {
  if (!cfg.leaderElection.leaderElect) return undefined;
  const namespace = cfg.leaderElection.resourceNamespace || inClusterNamespace();
  if (!namespace) return "no-namespace";
  return {
    namespace,
    name: cfg.leaderElection.resourceName,
    leaseDurationMs: parseDuration(cfg.leaderElection.leaseDuration),
    renewDeadlineMs: parseDuration(cfg.leaderElection.renewDeadline),
    retryPeriodMs: parseDuration(cfg.leaderElection.retryPeriod),
  };
}

/**
 * The /metrics server: HTTPS with Kubernetes authn/authz (upstream), or plain HTTP with
 * --metrics-secure=false; undefined when disabled. `selfSignedDir` is a directory to remove at exit.
 */
async function metricsServerSettings(
  cfg: DefaultedConfiguration,
  flags: Flags,
  client: KubeClient,
): Promise<{ server: ManagerSettings["metricsServer"]; selfSignedDir?: string }> {
  if (cfg.metrics.bindAddress === "0") return { server: undefined };
  const server: NonNullable<ManagerSettings["metricsServer"]> = { bindAddress: cfg.metrics.bindAddress };
  if (!(bool(flags, "metrics-secure") ?? true)) return { server };
  const selfSignedDir =
    !cfg.metrics.certDir && cfg.internalCertManagement.enable ? await selfSignedMetricsCertDir() : undefined;
  server.certDir = cfg.metrics.certDir || selfSignedDir || DefaultMetricsCertDir;
  server.authorize = kubeMetricsAuthorizer(client);
  if (cfg.tls?.minVersion === "VersionTLS13") server.minVersion = "VersionTLS13";
  return selfSignedDir ? { server, selfSignedDir } : { server };
}

/** The `--webhook-url` flag, checked: the URL and the host its certificate must name. */
function webhookUrlFlag(
  flags: Flags,
): { url: string; host: { dnsNames: string[] } | { ipAddresses: string[] } } | undefined {
  const url = str(flags, "webhook-url");
  if (url === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(url);
    localWebhookConfigurations(url, ""); // validates: https, no user info, query or fragment
  } catch (e) {
    throw new UsageError(`invalid value "${url}" for flag -webhook-url: ${(e as Error).message}`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return { url, host: isIP(host) ? { ipAddresses: [host] } : { dnsNames: [host] } };
}

/** How this process hosts the webhooks (spec §9.6, §9.7): built-in certificate management or a cert dir. */
function webhookHosting(
  cfg: DefaultedConfiguration,
  webhookUrl: ReturnType<typeof webhookUrlFlag>,
  root: Logger,
): WebhookHosting {
  const certDir = cfg.webhook.certDir || DefaultWebhookCertDir;
  const icm = cfg.internalCertManagement;
  const certificate: WebhookHosting["certificate"] = icm.enable
    ? {
        managed: {
          namespace: operatorNamespace(),
          serviceName: icm.webhookServiceName ?? WebhookServiceName,
          secretName: icm.webhookSecretName ?? WebhookSecretName,
          certDir,
          ...webhookUrl?.host,
          ...(webhookUrl
            ? { createConfigurations: (bundle: string) => localWebhookConfigurations(webhookUrl.url, bundle) }
            : {}),
          logger: root.child({ logger: "cert-rotation" }),
        },
      }
    : { dir: certDir };
  return {
    host: cfg.webhook.host,
    port: cfg.webhook.port,
    tls: {
      ...(cfg.tls?.minVersion ? { minVersion: cfg.tls.minVersion } : {}),
      ...(cfg.tls?.cipherSuites ? { cipherSuites: cfg.tls.cipherSuites } : {}),
    },
    certificate,
    logger: root.child({ logger: "webhooks" }),
  };
}

/** The API client (--kubeconfig, --context, the configured QPS and burst), counted in `metrics`. */
async function connect(flags: Flags, cfg: DefaultedConfiguration, ua: string, metrics: Metrics): Promise<KubeClient> {
  const kubeconfig = str(flags, "kubeconfig");
  const context = str(flags, "context");
  const client = await KubeClient.create({
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(context ? { context } : {}),
    qps: cfg.clientConnection.qps,
    burst: cfg.clientConnection.burst,
    userAgent: ua,
  });
  metrics.instrumentClient(client);
  return client;
}

/** Waits for the manager to stop (SIGTERM/SIGINT, or a fatal error): exit code 0 or 1. */
async function runUntilStopped(running: RunningControllerManager, log: Logger): Promise<number> {
  const removeSignals = running.manager.handleSignals();
  try {
    await running.done;
    return 0;
  } catch (e) {
    log.error({ err: (e as Error).message }, "controller manager stopped with an error");
    return 1;
  } finally {
    removeSignals();
  }
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
  const settings = loadSettings(flags, log);
  if (!settings) return 1;
  const { cfg, gates } = settings;
  const webhooksOn = bool(flags, "webhooks") ?? true;
  const webhookUrl = webhookUrlFlag(flags);
  const ua = userAgent();
  log.info(
    { version: buildInfo.version, commit: buildInfo.commit, userAgent: ua, featureGates: gates },
    "starting jobset controller",
  );
  const leaderElection = leaderElectionSettings(cfg);
  if (leaderElection === "no-namespace") {
    log.error(
      "unable to find leader election namespace: not running in-cluster, please specify leaderElection.resourceNamespace in the configuration (or --leader-elect=false)",
    );
    return 1;
  }

  const metrics = new Metrics(undefined, { processMetrics: true });
  const client = await connect(flags, cfg, ua, metrics);
  let selfSignedDir: string | undefined;
  try {
    const metricsServer = await metricsServerSettings(cfg, flags, client);
    selfSignedDir = metricsServer.selfSignedDir;
    const namespace = str(flags, "namespace");
    const running = await startControllerManager({
      client,
      telemetry: { logger: root.child({ logger: "controller" }), metrics },
      gates,
      ...(namespace ? { namespace } : {}),
      jobset: { workers: num(flags, "workers") ?? DefaultWorkers },
      manager: {
        ...(leaderElection ? { leaderElection } : {}),
        ...(metricsServer.server ? { metricsServer: metricsServer.server } : {}),
        health: {
          bindAddress: cfg.health.healthProbeBindAddress,
          livenessPath: cfg.health.livenessEndpointName || DefaultLivenessEndpoint,
          readinessPath: cfg.health.readinessEndpointName || DefaultReadinessEndpoint,
        },
      },
      ...(webhooksOn ? { webhooks: webhookHosting(cfg, webhookUrl, root) } : {}),
    });
    const server = running.webhooks?.server;
    running.webhooks?.serving.then(
      () => log.info({ port: server?.port }, "serving webhooks"),
      () => undefined,
    );
    log.info({ leaderElection: Boolean(leaderElection), webhooks: webhooksOn }, "jobset controller started");
    return await runUntilStopped(running, log);
  } finally {
    await client.close();
    if (selfSignedDir) await rm(selfSignedDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
