// The controller's Configuration file (spec §9.3): API `config.jobset.x-k8s.io/v1alpha1`, kind
// `Configuration`, the `ControllerManager` struct inlined. Decoding is strict like apimachinery's
// (`serializer.EnableStrict`): a type error fails at once (`json: cannot unmarshal ...`), unknown and
// duplicate fields are collected into one `strict decoding error: ...`. Then defaults (upstream
// SetDefaults_Configuration), then validation (`internalCertManagement.*` names, TLS options) with
// upstream's messages. Pure: the caller reads the file.
import { parse as parseYaml } from "yaml";
import { aggregateMessage, type FieldError, invalid, isDNS1035Label, isDNS1123Subdomain } from "./field-errors.ts";

export const ConfigGroup = "config.jobset.x-k8s.io";
export const ConfigVersion = "v1alpha1";
export const ConfigApiVersion = `${ConfigGroup}/${ConfigVersion}`;
export const ConfigKind = "Configuration";

export const DefaultWebhookPort = 9443;
/**
 * Concurrent JobSet reconciles (`jobset controller --workers`). Upstream runs one (controller-runtime's
 * default); reconciles wait on API round trips, so one worker leaves many JobSets created at once
 * waiting in line. The work queue never hands one JobSet to two workers, so each JobSet's requests keep
 * their order. Chosen from the benchmark (docs/benchmarks.md, "Workers").
 */
export const DefaultWorkers = 8;
export const DefaultWebhookCertDir = "/tmp/k8s-webhook-server/serving-certs";
export const DefaultMetricsCertDir = "/tmp/k8s-metrics-server/serving-certs";
export const DefaultMetricsBindAddress = ":8443";
export const DefaultHealthProbeBindAddress = ":8081";
export const DefaultReadinessEndpoint = "/readyz";
export const DefaultLivenessEndpoint = "/healthz";
export const DefaultLeaseDuration = "15s";
export const DefaultRenewDeadline = "10s";
export const DefaultRetryPeriod = "2s";
export const DefaultResourceLock = "leases";
export const DefaultLeaderElectionID = "6d4f6a47.jobset.x-k8s.io";
export const DefaultWebhookServiceName = "jobset-webhook-service";
export const DefaultWebhookSecretName = "jobset-webhook-server-cert";
export const DefaultClientConnectionQPS = 500;
export const DefaultClientConnectionBurst = 500;

export interface WebhookConfig {
  port?: number;
  host?: string;
  certDir?: string;
}
export interface LeaderElectionConfig {
  leaderElect?: boolean;
  /** Go durations ("15s", "1m30s"). */
  leaseDuration?: string;
  renewDeadline?: string;
  retryPeriod?: string;
  resourceLock?: string;
  resourceName?: string;
  resourceNamespace?: string;
}
export interface MetricsConfig {
  bindAddress?: string;
  certDir?: string;
}
export interface HealthConfig {
  healthProbeBindAddress?: string;
  readinessEndpointName?: string;
  livenessEndpointName?: string;
}
export interface TLSOptionsConfig {
  minVersion?: string;
  cipherSuites?: string[];
}
export interface InternalCertManagementConfig {
  enable?: boolean;
  webhookServiceName?: string;
  webhookSecretName?: string;
}
export interface ClientConnectionConfig {
  qps?: number;
  burst?: number;
}

/** The file as written (every field optional). */
export interface Configuration {
  apiVersion?: string;
  kind?: string;
  webhook?: WebhookConfig;
  leaderElection?: LeaderElectionConfig;
  metrics?: MetricsConfig;
  health?: HealthConfig;
  tls?: TLSOptionsConfig;
  internalCertManagement?: InternalCertManagementConfig;
  clientConnection?: ClientConnectionConfig;
  featureGates?: Record<string, boolean>;
}

/** A Configuration after defaulting: what the controller runs with. */
export interface DefaultedConfiguration {
  apiVersion: string;
  kind: string;
  webhook: { port: number; host: string; certDir: string };
  leaderElection: Required<LeaderElectionConfig>;
  metrics: { bindAddress: string; certDir: string };
  health: { healthProbeBindAddress: string; readinessEndpointName: string; livenessEndpointName: string };
  tls?: TLSOptionsConfig;
  internalCertManagement: { enable: boolean; webhookServiceName?: string; webhookSecretName?: string };
  clientConnection: { qps: number; burst: number };
  featureGates: Record<string, boolean>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

// ---------------------------------------------------------------------------------------------- schema

type Leaf = "string" | "int" | "int32" | "float32" | "bool" | "duration" | "stringList" | "boolMap";
interface Struct {
  /** Go type name, for `cannot unmarshal` messages. */
  goType: string;
  fields: Record<string, Leaf | Struct>;
}

const schema: Struct = {
  goType: "Configuration",
  fields: {
    apiVersion: "string",
    kind: "string",
    webhook: { goType: "ControllerWebhook", fields: { port: "int", host: "string", certDir: "string" } },
    leaderElection: {
      goType: "LeaderElectionConfiguration",
      fields: {
        leaderElect: "bool",
        leaseDuration: "duration",
        renewDeadline: "duration",
        retryPeriod: "duration",
        resourceLock: "string",
        resourceName: "string",
        resourceNamespace: "string",
      },
    },
    metrics: { goType: "ControllerMetrics", fields: { bindAddress: "string", certDir: "string" } },
    health: {
      goType: "ControllerHealth",
      fields: { healthProbeBindAddress: "string", readinessEndpointName: "string", livenessEndpointName: "string" },
    },
    tls: { goType: "TLSOptions", fields: { minVersion: "string", cipherSuites: "stringList" } },
    internalCertManagement: {
      goType: "InternalCertManagement",
      fields: { enable: "bool", webhookServiceName: "string", webhookSecretName: "string" },
    },
    clientConnection: { goType: "ClientConnection", fields: { qps: "float32", burst: "int32" } },
    featureGates: "boolMap",
  },
};

const goTypeOf: Record<Leaf, string> = {
  string: "string",
  int: "int",
  int32: "int32",
  float32: "float32",
  bool: "bool",
  duration: "v1.Duration",
  stringList: "[]string",
  boolMap: "map[string]bool",
};

function jsonKind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v === "number" ? "number" : typeof v;
}

function typeError(value: unknown, path: string, goType: string): ConfigError {
  const shown = typeof value === "number" ? `number ${value}` : jsonKind(value);
  return new ConfigError(
    `json: cannot unmarshal ${shown} into Go struct field Configuration.${path} of type ${goType}`,
  );
}

const durationRe = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration (`time.ParseDuration`) into milliseconds; throws `time: invalid duration "<s>"`. */
export function parseDuration(s: string): number {
  if (s === "0") return 0;
  if (!durationRe.test(s)) throw new ConfigError(`time: invalid duration ${JSON.stringify(s)}`);
  const sign = s.startsWith("-") ? -1 : 1;
  let total = 0;
  for (const m of s.replace(/^[-+]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (unitMs[m[2] as string] ?? 0);
  }
  return sign * total;
}

/** Checks one value against the schema; collects unknown fields, throws on type errors. */
function check(value: unknown, type: Leaf | Struct, path: string, unknown: string[]): void {
  if (value === null) return; // Go: null leaves the (pointer/zero) field unset
  if (typeof type === "object") {
    if (jsonKind(value) !== "object") throw typeError(value, path, type.goType);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = type.fields[k];
      const p = path ? `${path}.${k}` : k;
      if (sub === undefined) {
        unknown.push(p);
        continue;
      }
      check(v, sub, p, unknown);
    }
    return;
  }
  const go = goTypeOf[type];
  switch (type) {
    case "string":
      if (typeof value !== "string") throw typeError(value, path, go);
      return;
    case "bool":
      if (typeof value !== "boolean") throw typeError(value, path, go);
      return;
    case "int":
    case "int32":
      if (typeof value !== "number" || !Number.isInteger(value)) throw typeError(value, path, go);
      if (type === "int32" && (value > 2 ** 31 - 1 || value < -(2 ** 31))) throw typeError(value, path, go);
      return;
    case "float32":
      if (typeof value !== "number") throw typeError(value, path, go);
      return;
    case "duration":
      if (typeof value !== "string") throw typeError(value, path, go);
      parseDuration(value);
      return;
    case "stringList":
      if (!Array.isArray(value)) throw typeError(value, path, go);
      for (const item of value) if (typeof item !== "string") throw typeError(item, path, "string");
      return;
    case "boolMap":
      if (jsonKind(value) !== "object") throw typeError(value, path, go);
      for (const item of Object.values(value as Record<string, unknown>)) {
        if (typeof item !== "boolean") throw typeError(item, path, "bool");
      }
      return;
  }
}

/** Removes `null` values (Go leaves those fields unset). */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

/**
 * Decodes a Configuration file (YAML or JSON) strictly. Throws ConfigError on a syntax error, a type
 * error, a wrong apiVersion/kind, or unknown/duplicate fields.
 */
export function decodeConfiguration(text: string): Configuration {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, prettyErrors: false }) ?? {};
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const dup = /Map keys must be unique/.test(msg);
    throw new ConfigError(dup ? `strict decoding error: ${msg}` : `error converting YAML to JSON: ${msg}`);
  }
  const unknown: string[] = [];
  check(doc, schema, "", unknown);
  const cfg = dropNulls(doc) as Configuration;
  const apiVersion = cfg.apiVersion ?? ConfigApiVersion;
  const kind = cfg.kind ?? ConfigKind;
  if (apiVersion !== ConfigApiVersion || kind !== ConfigKind) {
    throw new ConfigError(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)}`);
  }
  if (unknown.length > 0) {
    throw new ConfigError(
      `strict decoding error: ${unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(", ")}`,
    );
  }
  return cfg;
}

/** Upstream SetDefaults_Configuration (certDir / endpoint names stay "" and are resolved where used). */
export function defaultConfiguration(c: Configuration = {}): DefaultedConfiguration {
  const le = c.leaderElection ?? {};
  const icm = c.internalCertManagement ?? {};
  const enable = icm.enable ?? true;
  const out: DefaultedConfiguration = {
    apiVersion: ConfigApiVersion,
    kind: ConfigKind,
    webhook: {
      port: c.webhook?.port ?? DefaultWebhookPort,
      host: c.webhook?.host ?? "",
      certDir: c.webhook?.certDir ?? "",
    },
    leaderElection: {
      leaderElect: le.leaderElect ?? true,
      leaseDuration: le.leaseDuration || DefaultLeaseDuration,
      renewDeadline: le.renewDeadline || DefaultRenewDeadline,
      retryPeriod: le.retryPeriod || DefaultRetryPeriod,
      resourceLock: le.resourceLock || DefaultResourceLock,
      resourceName: le.resourceName || DefaultLeaderElectionID,
      resourceNamespace: le.resourceNamespace ?? "",
    },
    metrics: { bindAddress: c.metrics?.bindAddress || DefaultMetricsBindAddress, certDir: c.metrics?.certDir ?? "" },
    health: {
      healthProbeBindAddress: c.health?.healthProbeBindAddress || DefaultHealthProbeBindAddress,
      readinessEndpointName: c.health?.readinessEndpointName ?? "",
      livenessEndpointName: c.health?.livenessEndpointName ?? "",
    },
    internalCertManagement: { enable },
    clientConnection: {
      qps: c.clientConnection?.qps ?? DefaultClientConnectionQPS,
      burst: c.clientConnection?.burst ?? DefaultClientConnectionBurst,
    },
    featureGates: { ...(c.featureGates ?? {}) },
  };
  if (enable) {
    out.internalCertManagement.webhookServiceName = icm.webhookServiceName ?? DefaultWebhookServiceName;
    out.internalCertManagement.webhookSecretName = icm.webhookSecretName ?? DefaultWebhookSecretName;
  } else {
    if (icm.webhookServiceName !== undefined) out.internalCertManagement.webhookServiceName = icm.webhookServiceName;
    if (icm.webhookSecretName !== undefined) out.internalCertManagement.webhookSecretName = icm.webhookSecretName;
  }
  if (c.tls !== undefined) out.tls = structuredClone(c.tls);
  return out;
}

/** Go's crypto/tls CipherSuites() names (secure suites), the list upstream prints on a bad name. */
export const SecureCipherSuiteNames: readonly string[] = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

const tlsVersions: Record<string, number> = {
  VersionTLS10: 0x0301,
  VersionTLS11: 0x0302,
  VersionTLS12: 0x0303,
  VersionTLS13: 0x0304,
};

/** Field-level validation of a defaulted Configuration (upstream pkg/config validate). */
export function validateConfiguration(c: DefaultedConfiguration): FieldError[] {
  const errs: FieldError[] = [];
  const icm = c.internalCertManagement;
  if (icm.enable) {
    const svc = icm.webhookServiceName ?? "";
    for (const msg of isDNS1035Label(svc)) errs.push(invalid("internalCertManagement.webhookServiceName", svc, msg));
    const secret = icm.webhookSecretName ?? "";
    for (const msg of isDNS1123Subdomain(secret)) {
      errs.push(invalid("internalCertManagement.webhookSecretName", secret, msg));
    }
  }
  if (c.tls?.minVersion === "VersionTLS13" && (c.tls.cipherSuites ?? []).length > 0) {
    errs.push(
      invalid("tls.cipherSuites", c.tls.cipherSuites, "may not be specified when `minVersion` is 'VersionTLS13'"),
    );
  }
  return errs;
}

/**
 * Upstream ParseTLSOptions' checks: returns the error message, or undefined when the options are usable.
 * An empty minVersion means TLS 1.2; empty cipherSuites mean the defaults.
 */
export function tlsOptionsError(tls: TLSOptionsConfig | undefined): string | undefined {
  const v = tls?.minVersion ?? "";
  if (v !== "") {
    const n = tlsVersions[v];
    if (n === undefined)
      return `invalid minVersion: unknown tls version ${JSON.stringify(v)}. Please use VersionTLS12 or VersionTLS13`;
    if (n < 0x0303) return `invalid minVersion: ${v} is not supported. Please use VersionTLS12 or VersionTLS13`;
  }
  for (const name of tls?.cipherSuites ?? []) {
    if (!SecureCipherSuiteNames.includes(name)) {
      return `invalid cipher suites: Cipher suite ${name} not supported or doesn't exist. Please use the secure cipher names: [${SecureCipherSuiteNames.join(" ")}]`;
    }
  }
  return undefined;
}

/**
 * Decodes (when `text` is given), defaults and validates: the Configuration the process runs with.
 * Throws ConfigError with upstream's messages.
 */
export function loadConfiguration(text: string | undefined): DefaultedConfiguration {
  const cfg = defaultConfiguration(text === undefined ? {} : decodeConfiguration(text));
  const errs = validateConfiguration(cfg);
  if (errs.length > 0) throw new ConfigError(aggregateMessage(errs));
  const tlsErr = tlsOptionsError(cfg.tls);
  if (tlsErr) throw new ConfigError(tlsErr);
  return cfg;
}
