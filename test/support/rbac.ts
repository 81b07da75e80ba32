// The RBAC proof's harness (test/integration/rbac.test.ts): the controller's shipped RBAC, taken from
// the rendered kustomize install (config/default), installed into a test namespace, and the jobset
// controller run in-process under that ServiceAccount's token — composed as `jobset controller`
// composes it (src/cli/controller.ts): JobSet controller under the Manager with leader election, one
// pod cache, pod controller, admission webhooks with the built-in certificate manager, secure /metrics
// with TokenReview/SubjectAccessReview authorization.
//
// Adaptations to a shared API server (each documented in docs/rbac.md):
// - namespaced objects and binding subjects move from jobset-system to the run's namespace;
// - cluster-scoped names (ClusterRoles, ClusterRoleBindings, webhook configurations, and so the
//   `resourceNames` of the cert-rotation role) get a per-run suffix;
// - the webhook configurations are URL-based (https://127.0.0.1:<port>), restricted to the run's
//   namespace, and created by the admin with an empty caBundle (the install ships them the same way);
// - the controller watches only the run's namespace (`--namespace`), so that runs do not see each other.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { DefaultLeaderElectionID } from "../../src/api/config.ts";
import type { FeatureGates } from "../../src/api/features.ts";
import { type RunningControllerManager, startControllerManager } from "../../src/app/controller-manager.ts";
import { freePort } from "../../src/local/controlplane.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import { KubeClient, type RequestInfo } from "../../src/runtime/client.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { kubeMetricsAuthorizer, Metrics } from "../../src/runtime/metrics.ts";
import {
  localWebhookConfigurations,
  MutatingConfigurationName,
  ValidatingConfigurationName,
  WebhookSecretName,
  WebhookServiceName,
} from "../../src/webhooks/configurations.ts";
import type { ClusterInfo } from "./cluster.ts";

const execFileP = promisify(execFile);

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const ADMISSION = "/apis/admissionregistration.k8s.io/v1";
export const InstallNamespace = "jobset-system";
export const ControllerServiceAccount = "jobset-controller-manager";
export const WebhookSecret = WebhookSecretName;

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: RbacRule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
  [k: string]: unknown;
}

export interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

/** The rendered install, `kubectl kustomize config/default` with the cluster's own kubectl. */
export async function renderInstall(cluster: ClusterInfo): Promise<Manifest[]> {
  if (!cluster.kubectl) throw new Error(`no kubectl in ${cluster.binDir}`);
  const { stdout: text } = await execFileP(cluster.kubectl, ["kustomize", join(root, "config", "default")], {
    maxBuffer: 16 << 20,
  });
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

/** What the install grants the controller: its ServiceAccount, the roles bound to it and the bindings. */
export interface ControllerRbac {
  serviceAccount: Manifest;
  /** Roles and ClusterRoles bound to the controller's ServiceAccount, by their shipped name. */
  roles: Manifest[];
  bindings: Manifest[];
  /** `jobset-metrics-reader`, for the scraper's identity. */
  metricsReader: Manifest;
}

export function controllerRbac(install: Manifest[]): ControllerRbac {
  const serviceAccount = install.find(
    (m) => m.kind === "ServiceAccount" && m.metadata.name === ControllerServiceAccount,
  );
  if (!serviceAccount) throw new Error(`the install has no ServiceAccount ${ControllerServiceAccount}`);
  const bindings = install.filter(
    (m) =>
      (m.kind === "RoleBinding" || m.kind === "ClusterRoleBinding") &&
      (m.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === ControllerServiceAccount),
  );
  const roles = bindings.map((b) => {
    const r = install.find((m) => m.kind === b.roleRef?.kind && m.metadata.name === b.roleRef?.name);
    if (!r) throw new Error(`${b.kind} ${b.metadata.name} refers to a missing ${b.roleRef?.kind} ${b.roleRef?.name}`);
    return r;
  });
  const metricsReader = install.find((m) => m.kind === "ClusterRole" && m.metadata.name === "jobset-metrics-reader");
  if (!metricsReader) throw new Error("the install has no ClusterRole jobset-metrics-reader");
  return { serviceAccount, roles, bindings, metricsReader };
}

/** Cluster-scoped names of one run. */
export interface RunNames {
  suffix: string;
  mutating: string;
  validating: string;
}

export const runNames = (suffix: string): RunNames => ({
  suffix,
  mutating: `${MutatingConfigurationName}-${suffix}`,
  validating: `${ValidatingConfigurationName}-${suffix}`,
});

/**
 * The controller's RBAC moved to namespace `ns`, cluster-scoped names suffixed, the webhook
 * configurations' `resourceNames` renamed; `editRules(roleName, rules)` may change a role's rules.
 */
export function adaptRbac(
  rbac: ControllerRbac,
  ns: string,
  names: RunNames,
  editRules?: (role: string, rules: RbacRule[]) => RbacRule[],
): Manifest[] {
  const clusterName = (n: string) => `${n}-${names.suffix}`;
  const out: Manifest[] = [];
  out.push({ ...structuredClone(rbac.serviceAccount), metadata: { ...rbac.serviceAccount.metadata, namespace: ns } });
  for (const role of rbac.roles) {
    const r = structuredClone(role);
    if (r.kind === "ClusterRole") r.metadata.name = clusterName(r.metadata.name);
    else r.metadata.namespace = ns;
    let rules = (r.rules ?? []).map((rule) => {
      if (!rule.resourceNames) return rule;
      const resourceNames = rule.resourceNames.map((n) =>
        n === MutatingConfigurationName ? names.mutating : n === ValidatingConfigurationName ? names.validating : n,
      );
      return { ...rule, resourceNames };
    });
    if (editRules) rules = editRules(role.metadata.name, rules);
    r.rules = rules;
    out.push(r);
  }
  for (const binding of rbac.bindings) {
    const b = structuredClone(binding);
    if (b.kind === "ClusterRoleBinding") b.metadata.name = clusterName(b.metadata.name);
    else b.metadata.namespace = ns;
    if (b.roleRef?.kind === "ClusterRole") b.roleRef.name = clusterName(b.roleRef.name);
    b.subjects = (b.subjects ?? []).map((s) => (s.kind === "ServiceAccount" ? { ...s, namespace: ns } : s));
    out.push(b);
  }
  return out;
}

const plural: Record<string, string> = {
  ServiceAccount: "serviceaccounts",
  Role: "roles",
  RoleBinding: "rolebindings",
  ClusterRole: "clusterroles",
  ClusterRoleBinding: "clusterrolebindings",
};

function collectionPath(m: Manifest): string {
  const p = plural[m.kind];
  if (!p) throw new Error(`cannot create a ${m.kind}`);
  if (m.kind === "ServiceAccount") return `/api/v1/namespaces/${m.metadata.namespace}/${p}`;
  return m.metadata.namespace ? `${RBAC}/namespaces/${m.metadata.namespace}/${p}` : `${RBAC}/${p}`;
}

/** Creates the objects; returns a function deleting the cluster-scoped ones (the namespace takes the rest). */
export async function applyManifests(admin: KubeClient, objs: Manifest[]): Promise<() => Promise<void>> {
  for (const o of objs) await admin.create(collectionPath(o), o);
  return async () => {
    for (const o of objs) {
      if (o.metadata.namespace) continue;
      await admin.delete(`${collectionPath(o)}/${o.metadata.name}`).catch(() => undefined);
    }
  };
}

/** A token of ServiceAccount `ns/name` from the TokenRequest API. */
export async function serviceAccountToken(admin: KubeClient, ns: string, name: string): Promise<string> {
  const tr = await admin.create<{ status?: { token?: string } }>(
    `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`,
    { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  );
  const token = tr.status?.token;
  if (!token) throw new Error(`no token in the TokenRequest answer for ${ns}/${name}`);
  return token;
}

/** A kubeconfig file for `token` at the cluster's server, trusting its CA. */
export function writeTokenKubeconfig(
  dir: string,
  cluster: Pick<ClusterInfo, "server" | "caCert">,
  token: string,
  ns: string,
): string {
  const path = join(dir, "controller.kubeconfig");
  // ClusterInfo.caCert is the CA certificate's file
  const ca = readFileSync(cluster.caCert).toString("base64");
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "  - name: local",
      "    cluster:",
      `      server: ${cluster.server}`,
      `      certificate-authority-data: ${ca}`,
      "users:",
      `  - name: ${ControllerServiceAccount}`,
      "    user:",
      `      token: ${token}`,
      "contexts:",
      "  - name: controller",
      "    context:",
      "      cluster: local",
      `      user: ${ControllerServiceAccount}`,
      `      namespace: ${ns}`,
      "current-context: controller",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return path;
}

const portsHandedOut = new Set<number>();

/**
 * A free port no other run of this process was given: runs pick their webhook and metrics ports
 * before binding them (the webhook configurations name the URL first), so two concurrent runs must
 * not be handed the same one.
 */
async function uniquePort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (!portsHandedOut.has(p)) {
      portsHandedOut.add(p);
      return p;
    }
  }
}

export interface RunOptions {
  admin: KubeClient;
  cluster: ClusterInfo;
  rbac: ControllerRbac;
  /** The run's namespace (created by the caller); also the install namespace of this run. */
  namespace: string;
  /** Suffix of cluster-scoped names (unique per run). */
  suffix: string;
  gates: FeatureGates;
  editRules?: (role: string, rules: RbacRule[]) => RbacRule[];
  /** Create an empty webhook Secret first (upstream ships one): the certificate manager must update it. */
  emptySecret?: boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

/** The controller of one run, under the ServiceAccount's identity. */
export interface ControllerRun {
  readonly namespace: string;
  readonly names: RunNames;
  /** The controller's own client (the ServiceAccount's token). */
  readonly client: KubeClient;
  /** Every request of the controller's client answered 403 (method, path). */
  readonly forbidden: RequestInfo[];
  /** Resolves once the JobSet controller's caches have synced (rejects if they never do). */
  readonly started: Promise<RunningControllerManager>;
  readonly metricsUrl: string;
  /** A token of a ServiceAccount bound to the install's `jobset-metrics-reader`. */
  readonly readerToken: string;
  readonly leaseName: string;
  stop(): Promise<void>;
}

/** Installs the (possibly edited) RBAC into the run's namespace and starts the controller under it. */
export async function startControllerRun(o: RunOptions): Promise<ControllerRun> {
  const { admin, namespace: ns } = o;
  const names = runNames(o.suffix);
  const dir = mkdtempSync(join(tmpdir(), "jobset-rbac-"));
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // RBAC of the controller, and a scraper identity bound to jobset-metrics-reader
    cleanups.push(await applyManifests(admin, adaptRbac(o.rbac, ns, names, o.editRules)));
    const readerRole = { ...structuredClone(o.rbac.metricsReader) };
    readerRole.metadata.name = `${readerRole.metadata.name}-${names.suffix}`;
    cleanups.push(
      await applyManifests(admin, [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "scraper", namespace: ns } },
        readerRole,
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name: readerRole.metadata.name },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: readerRole.metadata.name },
          subjects: [{ kind: "ServiceAccount", name: "scraper", namespace: ns }],
        },
      ]),
    );
    const readerToken = await serviceAccountToken(admin, ns, "scraper");

    // webhook configurations as shipped (empty caBundle), but URL-based and for this namespace only
    const webhookPort = await uniquePort();
    const webhookUrl = `https://127.0.0.1:${webhookPort}`;
    const [mutating, validating] = localWebhookConfigurations(webhookUrl, "", {
      mutating: names.mutating,
      validating: names.validating,
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
    });
    for (const w of mutating.webhooks ?? []) delete w.clientConfig.caBundle;
    for (const w of validating.webhooks ?? []) delete w.clientConfig.caBundle;
    await admin.create(`${ADMISSION}/mutatingwebhookconfigurations`, mutating);
    cleanups.push(() => admin.delete(`${ADMISSION}/mutatingwebhookconfigurations/${names.mutating}`));
    await admin.create(`${ADMISSION}/validatingwebhookconfigurations`, validating);
    cleanups.push(() => admin.delete(`${ADMISSION}/validatingwebhookconfigurations/${names.validating}`));
    if (o.emptySecret) {
      await admin.create(`/api/v1/namespaces/${ns}/secrets`, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: WebhookSecret, namespace: ns },
      });
    }

    // the controller's identity
    const token = await serviceAccountToken(admin, ns, ControllerServiceAccount);
    const kubeconfig = writeTokenKubeconfig(dir, o.cluster, token, ns);
    const forbidden: RequestInfo[] = [];
    const client = await KubeClient.create({
      kubeconfig,
      userAgent: `jobset-rbac-proof-${o.suffix}`,
      onRequest: (r) => {
        if (r.code === 403) forbidden.push(r);
      },
    });
    cleanups.push(() => client.close());

    // metrics server certificate (the CLI writes a self-signed one the same way)
    const metricsDir = join(dir, "metrics");
    const mca = createCa("jobset-metrics-ca", 1);
    const mcert = issueServingCert(mca, { commonName: "jobset-metrics" });
    mkdirSync(metricsDir);
    writeFileSync(join(metricsDir, "tls.crt"), mcert.certPem + mca.certPem);
    writeFileSync(join(metricsDir, "tls.key"), mcert.keyPem, { mode: 0o600 });
    const metricsPort = await uniquePort();

    const logger = createLogger({ level: process.env.JOBSET_TEST_LOG_LEVEL ?? "silent", name: `rbac-${o.suffix}` });
    const metrics = new Metrics();
    metrics.instrumentClient(client);
    const stopCtl = new AbortController();
    const leaseName = DefaultLeaderElectionID;
    // what src/cli/controller.ts runs with --webhooks=true (the default) and built-in certificates
    const started = startControllerManager({
      client,
      telemetry: { logger, metrics },
      gates: o.gates,
      namespace: ns,
      signal: stopCtl.signal,
      manager: {
        gracefulShutdownMs: 2_000,
        leaderElection: {
          namespace: ns,
          name: leaseName,
          leaseDurationMs: o.leaseDurationMs ?? 15_000,
          renewDeadlineMs: o.renewDeadlineMs ?? 10_000,
          retryPeriodMs: o.retryPeriodMs ?? 500,
        },
        metricsServer: {
          bindAddress: `127.0.0.1:${metricsPort}`,
          certDir: metricsDir,
          authorize: kubeMetricsAuthorizer(client),
        },
      },
      webhooks: {
        host: "127.0.0.1",
        port: webhookPort,
        certificate: {
          managed: {
            namespace: ns,
            serviceName: WebhookServiceName,
            secretName: WebhookSecret,
            certDir: join(dir, "webhook-certs"),
            ipAddresses: ["127.0.0.1"],
            mutatingConfigurationName: names.mutating,
            validatingConfigurationName: names.validating,
            retryIntervalMs: 250,
          },
        },
      },
    });
    started.catch((e: unknown) => {
      // a run without list permissions never syncs: probes fail instead
      if (process.env.JOBSET_TEST_LOG_LEVEL) process.stderr.write(`controller run ${o.suffix}: ${String(e)}\n`);
    });
    cleanups.push(async () => {
      stopCtl.abort();
      const running = await started.catch(() => undefined);
      await running?.stop();
    });
    return {
      namespace: ns,
      names,
      client,
      forbidden,
      started,
      metricsUrl: `https://127.0.0.1:${metricsPort}/metrics`,
      readerToken,
      leaseName,
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
