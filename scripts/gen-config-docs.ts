// Writes docs/configuration.md, the reference of the controller's Configuration file and flags, from the
// code: types come from the strict decoder (src/api/config.ts decodeConfiguration: a wrong-typed value
// names the Go type), defaults from defaultConfiguration, the flags and what they override from
// `jobset controller --help` and effectiveConfiguration (src/cli/controller.ts), feature gates from
// src/api/features.ts. Only the one-line descriptions are written here; a test fails when a field of the
// Configuration has none, or when the committed file is stale.
//
//   npx node scripts/gen-config-docs.ts           # writes docs/configuration.md
//   npx node scripts/gen-config-docs.ts --check   # fails when it is out of date
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ConfigApiVersion,
  ConfigKind,
  DefaultLivenessEndpoint,
  DefaultMetricsCertDir,
  DefaultReadinessEndpoint,
  DefaultWebhookCertDir,
  decodeConfiguration,
  defaultConfiguration,
} from "../src/api/config.ts";
import { FeatureNames, FeatureSpecs } from "../src/api/features.ts";
import { controller, effectiveConfiguration, parseControllerFlags } from "../src/cli/controller.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ConfigDocsPath = "docs/configuration.md";

/** Every field of the Configuration (dotted path) with what it does. */
export const FieldDescriptions: Readonly<Record<string, string>> = {
  "webhook.port": "Port of the admission webhook server (HTTPS).",
  "webhook.host": 'Address the webhook server binds to; "" means all interfaces.',
  "webhook.certDir": `Directory with the webhook serving certificate \`tls.crt\`/\`tls.key\`; "" means \`${DefaultWebhookCertDir}\`. Written by the built-in certificate management, read otherwise.`,
  "leaderElection.leaderElect":
    "Leader election: only the holder of the Lease reconciles; every replica serves the webhooks.",
  "leaderElection.leaseDuration": "How long a Lease is valid without renewal (Go duration).",
  "leaderElection.renewDeadline": "How long the leader keeps trying to renew before it gives up leadership.",
  "leaderElection.retryPeriod": "Interval between attempts to acquire or renew the Lease.",
  "leaderElection.resourceLock": "Lock type; only `leases` is supported.",
  "leaderElection.resourceName": "Name of the Lease (coordination.k8s.io/v1).",
  "leaderElection.resourceNamespace":
    'Namespace of the Lease; "" means the pod\'s namespace (required when running outside a cluster).',
  "metrics.bindAddress":
    'Address of the /metrics server (HTTPS, callers authenticated with TokenReview and authorized with SubjectAccessReview); "0" disables it.',
  "metrics.certDir": `Directory with the metrics serving certificate \`tls.crt\`/\`tls.key\`; used when set, or (as \`${DefaultMetricsCertDir}\`) when internal certificate management is off; otherwise a self-signed certificate is generated.`,
  "health.healthProbeBindAddress": "Address of the health probe server (/healthz, /readyz).",
  "health.readinessEndpointName": `Readiness path; "" means \`${DefaultReadinessEndpoint}\`. Not ready until the webhook certificates are in place and the webhook server has started.`,
  "health.livenessEndpointName": `Liveness path; "" means \`${DefaultLivenessEndpoint}\`.`,
  "tls.minVersion":
    'Minimum TLS version of the webhook and metrics servers: `VersionTLS12` or `VersionTLS13`; "" means TLS 1.2.',
  "tls.cipherSuites":
    "TLS 1.2 cipher suites (IANA names); empty means the defaults. Must be empty when minVersion is VersionTLS13.",
  "internalCertManagement.enable":
    "Built-in certificate management: a CA and serving certificate in a Secret, rotated before expiry, CA injected into the webhook configurations. Turn off when cert-manager provides the certificates.",
  "internalCertManagement.webhookServiceName":
    "Service of the webhooks; the certificate is issued for `<name>.<namespace>.svc`. Must be a DNS-1035 label. Defaulted only when enable is true.",
  "internalCertManagement.webhookSecretName":
    "Secret holding CA and serving certificate, in the controller's namespace. Must be a DNS-1123 subdomain. Defaulted only when enable is true.",
  "clientConnection.qps":
    "Sustained requests per second of the API client, for each resource: one token bucket per resource (Jobs, Services, JobSets, …), as upstream's per-kind clients have (ADR 0024); 0 or less disables the limit.",
  "clientConnection.burst": "Requests the API client may send at once above qps, for each resource.",
  featureGates: "Feature gates by name (see below); unknown names and changes to locked gates are startup errors.",
};

/** The Go type of a field, as the strict decoder names it when the field holds a value of the wrong type. */
function goTypeOf(path: string): string {
  const probe = (value: unknown): string | undefined => {
    const doc: Record<string, unknown> = {};
    let cur = doc;
    const parts = path.split(".");
    parts.forEach((p, i) => {
      if (i === parts.length - 1) cur[p] = value;
      else cur = cur[p] = {} as Record<string, unknown>;
    });
    try {
      decodeConfiguration(JSON.stringify(doc));
      return undefined;
    } catch (e) {
      const msg = (e as Error).message;
      if (/unknown field/.test(msg)) throw new Error(`${path} is not a Configuration field`);
      const m = /cannot unmarshal (\w+) .* of type (\S+)$/.exec(msg);
      if (!m) return undefined;
      // the object was accepted (a map) and its value, a number, was not
      return m[1] === "number" ? `map[string]${m[2]}` : m[2];
    }
  };
  // An object is the wrong type for every leaf but a map, whose value (a number) is then the wrong type.
  const t = probe({ probe: 1 });
  if (t === undefined) throw new Error(`cannot determine the type of ${path}`);
  return t;
}

/** Leaf paths of a defaulted Configuration (maps are leaves). */
function leaves(o: Record<string, unknown>, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (k === "featureGates" && !prefix) out.push(p);
    else if (v !== null && typeof v === "object" && !Array.isArray(v))
      out.push(...leaves(v as Record<string, unknown>, p));
    else out.push(p);
  }
  return out;
}

/** The Configuration's fields: those a default Configuration has, plus the optional `tls` block. */
export function configurationFields(): string[] {
  const d = defaultConfiguration({}) as unknown as Record<string, unknown>;
  const fields = leaves(d).filter((p) => p !== "apiVersion" && p !== "kind");
  for (const p of ["tls.minVersion", "tls.cipherSuites"]) if (!fields.includes(p)) fields.push(p);
  return fields;
}

function get(o: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((acc, k) => (acc as Record<string, unknown> | undefined)?.[k], o);
}

function show(v: unknown): string {
  if (v === undefined) return "—";
  if (v === "") return '`""`';
  if (typeof v === "object") return `\`${JSON.stringify(v)}\``;
  return `\`${String(v)}\``;
}

export interface FlagDoc {
  flag: string;
  arg: string;
  description: string;
  /** The Configuration field it overrides, if any. */
  overrides?: string;
}

async function controllerHelp(): Promise<string> {
  const write = process.stdout.write;
  let buf = "";
  process.stdout.write = ((s: string | Uint8Array) => {
    buf += typeof s === "string" ? s : Buffer.from(s).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await controller(["--help"]);
  } finally {
    process.stdout.write = write;
  }
  return buf;
}

/** The flags of `jobset controller --help`, each with the Configuration field it overrides (probed). */
export async function controllerFlags(): Promise<FlagDoc[]> {
  const help = await controllerHelp();
  const base = JSON.stringify(effectiveConfiguration({}, () => ""));
  const baseCfg = JSON.parse(base) as unknown;
  const out: FlagDoc[] = [];
  for (const line of help.split("\n")) {
    // "  --name ARG   description", "  --name=BOOL   ...", "  -h, --help   ...", "  --a, --b   ..."
    const m = /^ {2}(-\S.*?)\s{2,}(\S.*)$/.exec(line);
    if (!m) continue;
    const description = m[2] as string;
    const specs = (m[1] as string).split(", ").filter((x) => x.startsWith("--"));
    const first = /^--([\w-]+)(=BOOL|(?:=| )\S+)?$/.exec(specs[0] ?? "");
    if (!first) continue;
    const name = first[1] as string;
    const boolArg = first[2] === "=BOOL";
    const valueArg = boolArg ? undefined : first[2]?.slice(1);
    const doc: FlagDoc = {
      flag: [`--${name}`, ...specs.slice(1)].join("`, `"),
      arg: boolArg ? "=BOOL" : valueArg ? ` ${valueArg}` : "",
      description,
    };
    if (name !== "config" && name !== "help") {
      const samples = boolArg ? ["=false", "=true"] : valueArg === "N" ? ["=7"] : ["=:1234", "=InPlaceRestart=true"];
      for (const s of samples) {
        let cfg: unknown;
        try {
          cfg = effectiveConfiguration(parseControllerFlags([`--${name}${s}`]), () => "");
        } catch {
          continue;
        }
        const changed = configurationFields().filter(
          (p) => JSON.stringify(get(cfg, p)) !== JSON.stringify(get(baseCfg, p)),
        );
        if (changed.length === 1) {
          doc.overrides = changed[0] as string;
          break;
        }
      }
    }
    out.push(doc);
  }
  return out;
}

export async function renderConfigDocs(): Promise<string> {
  const fields = configurationFields();
  const missing = fields.filter((f) => !(f in FieldDescriptions));
  if (missing.length > 0) throw new Error(`no description for Configuration field(s) ${missing.join(", ")}`);
  const extra = Object.keys(FieldDescriptions).filter((f) => !fields.includes(f));
  if (extra.length > 0) throw new Error(`described but not Configuration fields: ${extra.join(", ")}`);
  const defaults = defaultConfiguration({});
  const flags = await controllerFlags();
  const flagFor = (f: string) =>
    flags
      .filter((x) => x.overrides === f)
      .map((x) => `\`${x.flag}\``)
      .join(", ") || "—";

  const lines: string[] = [
    "<!-- Generated by scripts/gen-config-docs.ts from src/api/config.ts, src/api/features.ts and",
    "     src/cli/controller.ts. Do not edit: run `npx node scripts/gen-config-docs.ts`. -->",
    "",
    "# Configuration reference",
    "",
    "`jobset controller` reads its configuration from a file given with `--config` (the shipped manifests",
    "mount it from the ConfigMap `jobset-manager-config` at `/etc/jobset/controller_manager_config.yaml`;",
    "the Helm chart writes it from its values). Without `--config` every field has its default. Flags given",
    "explicitly override the file.",
    "",
    "The file is decoded strictly: an unknown or duplicate field, a value of the wrong type, or another",
    "`apiVersion`/`kind` stops the controller with an error.",
    "",
    "```yaml",
    `apiVersion: ${ConfigApiVersion}`,
    `kind: ${ConfigKind}`,
    "leaderElection:",
    "  leaderElect: true",
    "internalCertManagement:",
    "  enable: true",
    "clientConnection:",
    "  qps: 500",
    "  burst: 500",
    "featureGates:",
    "  InPlaceRestart: true",
    "```",
    "",
    "## Fields",
    "",
    "| Field | Type | Default | Flag | Description |",
    "|---|---|---|---|---|",
  ];
  for (const f of fields) {
    const row = [`\`${f}\``, `\`${goTypeOf(f)}\``, show(get(defaults, f)), flagFor(f), FieldDescriptions[f]];
    lines.push(`| ${row.join(" | ")} |`);
  }
  lines.push(
    "",
    "Durations are Go durations (`15s`, `1m30s`). A `—` default means the field is unset (the behaviour",
    "described applies).",
    "",
    "## Feature gates",
    "",
    "| Gate | Stage | Default | Settable |",
    "|---|---|---|---|",
  );
  for (const name of FeatureNames) {
    const s = FeatureSpecs[name];
    lines.push(`| \`${name}\` | ${s.stage} | \`${s.default}\` | ${s.locked ? "no (locked)" : "yes"} |`);
  }
  lines.push(
    "",
    "## Flags",
    "",
    "From `jobset controller --help`; a flag that overrides a field does so only when given.",
    "",
    "| Flag | Overrides | Description |",
    "|---|---|---|",
  );
  for (const f of flags) {
    const cell = (x: string) => x.replaceAll("|", "\\|");
    const overrides = f.overrides ? `\`${f.overrides}\`` : "—";
    lines.push(`| \`${cell(f.flag + f.arg)}\` | ${overrides} | ${cell(f.description)} |`);
  }
  lines.push("");
  return lines.join("\n");
}

if (import.meta.main) {
  const want = await renderConfigDocs();
  const path = join(root, ConfigDocsPath);
  if (process.argv.includes("--check")) {
    let have = "";
    try {
      have = readFileSync(path, "utf8");
    } catch {
      have = "";
    }
    if (have !== want) {
      console.error(`${ConfigDocsPath} is out of date: run \`npx node scripts/gen-config-docs.ts\``);
      process.exit(1);
    }
  } else {
    writeFileSync(path, want);
    console.log(`wrote ${ConfigDocsPath}`);
  }
}
