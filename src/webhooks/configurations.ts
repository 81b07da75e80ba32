// The JobSet admission webhooks, defined once (spec §9.6). From this one definition come:
// - config/webhook/manifests.yaml: service-based configurations for in-cluster deployments
//   (scripts/generate-webhooks.ts writes it; a unit test keeps it in sync);
// - localWebhookConfigurations(url, caBundle): the same configurations pointing at
//   `https://127.0.0.1:PORT/<path>` for local mode and tests (the rewrite envtest does);
// - the paths the admission server serves.
import { DefaultWebhookSecretName, DefaultWebhookServiceName } from "../api/config.ts";
import { Labels } from "../api/constants.ts";

// The names of the webhook objects, in one place (the Service and Secret names are also Configuration
// defaults, `internalCertManagement.webhookServiceName` / `webhookSecretName`, hence defined there).
export const MutatingConfigurationName = "jobset-mutating-webhook-configuration";
export const ValidatingConfigurationName = "jobset-validating-webhook-configuration";
export const WebhookServiceName = DefaultWebhookServiceName;
export const WebhookSecretName = DefaultWebhookSecretName;
/** The operator namespace of the kustomize install, and of the certificates out of cluster (spec §9.7). */
export const WebhookNamespace = "jobset-system";
export const WebhookServicePort = 443;

export const Paths = {
  MutateJobSet: "/mutate-jobset-x-k8s-io-v1alpha2-jobset",
  ValidateJobSet: "/validate-jobset-x-k8s-io-v1alpha2-jobset",
  MutatePod: "/mutate--v1-pod",
  ValidatePod: "/validate--v1-pod",
} as const;
export type WebhookPath = (typeof Paths)[keyof typeof Paths];

/** Webhook names: kustomize flavour (`mjobset.kb.io`) and Helm flavour (`mutate-...x-k8s.io`). */
export const WebhookNames = {
  MutateJobSet: { kustomize: "mjobset.kb.io", helm: "mutate-jobset-x-k8s-io-v1alpha2-jobset.x-k8s.io" },
  ValidateJobSet: { kustomize: "vjobset.kb.io", helm: "validate-jobset-x-k8s-io-v1alpha2-jobset.x-k8s.io" },
  MutatePod: { kustomize: "mpod.kb.io", helm: "mutate--v1-pod.x-k8s.io" },
  ValidatePod: { kustomize: "vpod.kb.io", helm: "validate--v1-pod.x-k8s.io" },
} as const;
export type NameFlavour = "kustomize" | "helm";

export interface RuleWithOperations {
  apiGroups: string[];
  apiVersions: string[];
  operations: ("CREATE" | "UPDATE" | "DELETE" | "CONNECT" | "*")[];
  resources: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface WebhookClientConfig {
  url?: string;
  service?: { name: string; namespace: string; path?: string; port?: number };
  caBundle?: string;
}

export interface Webhook {
  name: string;
  admissionReviewVersions: string[];
  clientConfig: WebhookClientConfig;
  failurePolicy: "Fail" | "Ignore";
  sideEffects: "None" | "NoneOnDryRun";
  timeoutSeconds?: number;
  rules: RuleWithOperations[];
  objectSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  matchPolicy?: "Exact" | "Equivalent";
  reinvocationPolicy?: "Never" | "IfNeeded";
}

export interface WebhookConfiguration {
  apiVersion: "admissionregistration.k8s.io/v1";
  kind: "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  webhooks: Webhook[];
}

type Key = keyof typeof Paths;

interface WebhookDef {
  key: Key;
  type: "mutating" | "validating";
  rules: RuleWithOperations[];
  objectSelector?: LabelSelector;
}

const jobsetRule = (operations: RuleWithOperations["operations"]): RuleWithOperations[] => [
  { apiGroups: ["jobset.x-k8s.io"], apiVersions: ["v1alpha2"], operations, resources: ["jobsets"] },
];
const podRule: RuleWithOperations[] = [
  { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
];
const jobsetPodSelector: LabelSelector = { matchExpressions: [{ key: Labels.JobSetName, operator: "Exists" }] };

/** The four webhooks (spec §9.6), in upstream's manifest order. */
export const WebhookDefinitions: readonly WebhookDef[] = [
  { key: "MutateJobSet", type: "mutating", rules: jobsetRule(["CREATE"]) },
  { key: "MutatePod", type: "mutating", rules: podRule, objectSelector: jobsetPodSelector },
  { key: "ValidateJobSet", type: "validating", rules: jobsetRule(["CREATE", "UPDATE"]) },
  { key: "ValidatePod", type: "validating", rules: podRule, objectSelector: jobsetPodSelector },
];

/** Default admission timeout of the API server, written out explicitly. */
export const WebhookTimeoutSeconds = 10;

export interface ConfigurationOptions {
  /** clientConfig for a webhook path (service reference or URL, plus caBundle). */
  clientConfig: (path: WebhookPath) => WebhookClientConfig;
  flavour?: NameFlavour;
  labels?: Record<string, string>;
  mutatingName?: string;
  validatingName?: string;
  /** Restricts every webhook to matching namespaces (tests); default: all namespaces. */
  namespaceSelector?: LabelSelector;
}

/** Both configurations, `[mutating, validating]`, with clientConfig chosen by the caller. */
export function webhookConfigurations(o: ConfigurationOptions): [WebhookConfiguration, WebhookConfiguration] {
  const flavour = o.flavour ?? "kustomize";
  const build = (type: WebhookDef["type"]): Webhook[] =>
    WebhookDefinitions.filter((d) => d.type === type).map((d) => {
      const w: Webhook = {
        name: WebhookNames[d.key][flavour],
        admissionReviewVersions: ["v1"],
        clientConfig: o.clientConfig(Paths[d.key]),
        failurePolicy: "Fail",
        sideEffects: "None",
        timeoutSeconds: WebhookTimeoutSeconds,
        rules: structuredClone(d.rules),
      };
      if (d.objectSelector) w.objectSelector = structuredClone(d.objectSelector);
      if (o.namespaceSelector) w.namespaceSelector = structuredClone(o.namespaceSelector);
      return w;
    });
  const meta = (name: string) => (o.labels ? { name, labels: { ...o.labels } } : { name });
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: meta(o.mutatingName ?? MutatingConfigurationName),
      webhooks: build("mutating"),
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: meta(o.validatingName ?? ValidatingConfigurationName),
      webhooks: build("validating"),
    },
  ];
}

/** Service-based configurations (in-cluster): the content of config/webhook/manifests.yaml. */
export function serviceWebhookConfigurations(
  service: { name: string; namespace: string; port?: number } = {
    name: WebhookServiceName,
    namespace: WebhookNamespace,
  },
  caBundle?: string,
): [WebhookConfiguration, WebhookConfiguration] {
  return webhookConfigurations({
    clientConfig: (path) => {
      const svc: NonNullable<WebhookClientConfig["service"]> = {
        name: service.name,
        namespace: service.namespace,
        path,
      };
      if (service.port !== undefined) svc.port = service.port;
      return caBundle ? { service: svc, caBundle } : { service: svc };
    },
  });
}

/**
 * The same configurations for a webhook server reached by URL (local mode and tests), e.g.
 * `localWebhookConfigurations("https://127.0.0.1:9443", caPem)`. `caBundle` may be PEM text or its
 * base64 (the API field is base64 of the PEM).
 */
export function localWebhookConfigurations(
  url: string,
  caBundle: string | Buffer,
  names?: { mutating?: string; validating?: string; namespaceSelector?: LabelSelector },
): [WebhookConfiguration, WebhookConfiguration] {
  const base = url.replace(/\/+$/, "");
  const u = new URL(base);
  if (u.protocol !== "https:") throw new Error(`webhook url must use https: ${url}`);
  if (u.username || u.password || u.search || u.hash) {
    throw new Error(`webhook url must not carry user info, query or fragment: ${url}`);
  }
  const bundle = toCABundle(caBundle);
  const o: ConfigurationOptions = { clientConfig: (path) => ({ url: `${base}${path}`, caBundle: bundle }) };
  if (names?.mutating) o.mutatingName = names.mutating;
  if (names?.validating) o.validatingName = names.validating;
  if (names?.namespaceSelector) o.namespaceSelector = names.namespaceSelector;
  return webhookConfigurations(o);
}

/** The base64 `caBundle` field value from PEM text or bytes (already-base64 input is kept). */
export function toCABundle(ca: string | Buffer): string {
  const s = typeof ca === "string" ? ca : ca.toString("utf8");
  if (s.includes("-----BEGIN")) return Buffer.from(s, "utf8").toString("base64");
  return s.trim();
}

/** Sets `caBundle` on every webhook of a configuration; returns true when something changed. */
export function injectCABundle(
  cfg: { webhooks?: { clientConfig?: WebhookClientConfig }[] },
  caBundle: string,
): boolean {
  let changed = false;
  for (const w of cfg.webhooks ?? []) {
    w.clientConfig ??= {};
    if (w.clientConfig.caBundle !== caBundle) {
      w.clientConfig.caBundle = caBundle;
      changed = true;
    }
  }
  return changed;
}
