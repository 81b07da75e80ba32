// The deployment artefacts against the local API server: every kustomize overlay (`kubectl kustomize`
// with our kubectl) and the Helm chart (`helm template`, defaults and every option on) render, hold
// a consistent controller install (Deployment, Services, webhook configurations, RBAC, Configuration),
// and `kubectl apply --server-side --dry-run=server` of the result succeeds. `helm lint --strict`
// passes. Each rendering is moved into the test's own namespace (the install namespace jobset-system
// is not created for real); cert-manager and Prometheus Operator CRDs are stand-ins
// (test/fixtures/deploy/third-party-crds.yaml).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { apiRules, managerRole } from "../../scripts/rbac.ts";
import { loadConfiguration } from "../../src/api/config.ts";
import { buildCrd } from "../../src/api/crd.ts";
import { MutatingConfigurationName, Paths, ValidatingConfigurationName } from "../../src/webhooks/configurations.ts";
import { kubectl, type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";
import { ensureHelm, helm } from "../support/helm.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = join(root, "test", "fixtures", "deploy");

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
};
// biome-ignore lint/suspicious/noExplicitAny: test code walks rendered manifests
type Any = any;

let cluster: TestCluster;
let helmBin = "";
let scratch = "";

before(async () => {
  cluster = await useCluster("apiserver");
  scratch = mkdtempSync(join(tmpdir(), "jobset-deploy-"));
  helmBin = await ensureHelm();
  await kubectl(cluster, ["apply", "--server-side", "-f", join(fixtures, "third-party-crds.yaml")]);
  for (const crd of [
    "certificates.cert-manager.io",
    "issuers.cert-manager.io",
    "servicemonitors.monitoring.coreos.com",
  ]) {
    await waitFor(
      async () => {
        const c = (await cluster.client.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`)) as Any;
        return (c.status?.conditions ?? []).some((x: Any) => x.type === "Established" && x.status === "True");
      },
      { message: `CRD ${crd} established` },
    );
  }
});
after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** `kubectl kustomize` of a config/ directory, moved into namespace `ns` by a kustomization on top. */
async function renderKustomize(dir: string, ns: string): Promise<string> {
  const top = mkdtempSync(join(scratch, "kustomize-"));
  const target = relative(top, join(root, dir));
  writeFileSync(
    join(top, "kustomization.yaml"),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${ns}\nresources:\n  - ${target}\n`,
  );
  return kubectl(cluster, ["kustomize", top]);
}

async function renderHelm(ns: string, valuesFiles: string[] = []): Promise<string> {
  const args = ["template", "jobset", join(root, "charts", "jobset"), "--namespace", ns];
  for (const f of valuesFiles) args.push("--values", f);
  return helm(helmBin, args, scratch);
}

function parse(text: string): Obj[] {
  const docs = parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, [], "rendered YAML parses");
    return d.toJS() as Obj | null;
  });
  return docs.filter((d): d is Obj => d !== null);
}

const find = (docs: Obj[], kind: string, pred: (o: Obj) => boolean = () => true) =>
  docs.filter((d) => d.kind === kind && pred(d));
function one(docs: Obj[], kind: string, pred?: (o: Obj) => boolean): Any {
  const found = find(docs, kind, pred);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0];
}

/** A Service/probe port (number or container port name) → container port number. */
function portNumber(container: Any, port: number | string): number {
  if (typeof port === "number") return port;
  const p = (container.ports as Any[]).find((x) => x.name === port);
  assert.ok(p, `container port named ${port}`);
  return p.containerPort;
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

interface Expect {
  replicas: number;
  certManager: boolean;
  serviceMonitor: boolean;
}

/** The install is complete and consistent. */
function checkInstall(docs: Obj[], ns: string, want: Expect): void {
  const namespaced = new Set([
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Service",
    "Deployment",
    "PodDisruptionBudget",
    "Certificate",
    "Issuer",
    "ServiceMonitor",
  ]);
  for (const d of docs) {
    if (namespaced.has(d.kind)) assert.equal(d.metadata.namespace, ns, `${d.kind} ${d.metadata.name} namespace`);
    else assert.equal(d.metadata.namespace, undefined, `${d.kind} ${d.metadata.name} is cluster-scoped`);
  }

  // CRD: the generated one
  const crd = one(docs, "CustomResourceDefinition");
  assert.deepEqual(crd.spec, (buildCrd() as Any).spec);

  // Deployment
  const dep = one(docs, "Deployment");
  assert.equal(dep.spec.replicas, want.replicas);
  const pod = dep.spec.template;
  assert.ok(selects(dep.spec.selector.matchLabels, pod.metadata.labels), "selector matches the pod labels");
  const c = (pod.spec.containers as Any[]).find((x) => x.name === "manager");
  assert.ok(c, "container manager");
  assert.ok((c.args as string[]).includes("--config=/etc/jobset/controller_manager_config.yaml"));
  assert.equal(c.livenessProbe.httpGet.path, "/healthz");
  assert.equal(c.readinessProbe.httpGet.path, "/readyz");
  assert.equal(portNumber(c, c.livenessProbe.httpGet.port), 8081);
  assert.equal(portNumber(c, c.readinessProbe.httpGet.port), 8081);
  assert.equal(c.resources.requests.cpu, "500m");
  assert.ok(c.resources.limits.memory, "a memory limit");
  assert.deepEqual(c.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  });
  assert.equal(pod.spec.securityContext.runAsNonRoot, true);
  assert.equal(pod.spec.securityContext.runAsUser, 65532);
  const mounts = c.volumeMounts as Any[];
  const tmp = mounts.find((m) => m.mountPath === "/tmp");
  assert.ok(tmp, "writable /tmp");
  assert.ok((pod.spec.volumes as Any[]).find((v) => v.name === tmp.name)?.emptyDir, "/tmp is an emptyDir");
  for (const m of mounts) {
    assert.ok(m.mountPath === "/tmp" || m.mountPath.startsWith("/tmp/") || m.readOnly, `${m.mountPath} read-only`);
  }

  // Configuration
  const cfgMount = mounts.find((m) => m.mountPath === "/etc/jobset");
  const cfgVolume = (pod.spec.volumes as Any[]).find((v) => v.name === cfgMount?.name);
  const cm = one(docs, "ConfigMap", (o) => o.metadata.name === cfgVolume?.configMap?.name);
  const cfg = loadConfiguration(cm.data["controller_manager_config.yaml"]);
  assert.equal(cfg.leaderElection.leaderElect, true);
  assert.equal(cfg.internalCertManagement.enable, !want.certManager);

  // ServiceAccount and bindings
  const sa = one(docs, "ServiceAccount");
  assert.equal(pod.spec.serviceAccountName, sa.metadata.name);
  const roles = new Map(
    [...find(docs, "ClusterRole"), ...find(docs, "Role")].map((r) => [`${r.kind}/${r.metadata.name}`, r as Any]),
  );
  const bindings = [...find(docs, "ClusterRoleBinding"), ...find(docs, "RoleBinding")] as Any[];
  for (const b of bindings) {
    assert.deepEqual(b.subjects, [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: ns }]);
    assert.ok(roles.has(`${b.roleRef.kind}/${b.roleRef.name}`), `${b.metadata.name} binds a shipped role`);
  }
  const bound = (kind: string, pred: (r: Any) => boolean) =>
    bindings.some((b) => b.roleRef.kind === kind && pred(roles.get(`${kind}/${b.roleRef.name}`)));
  const hasRule = (r: Any, group: string, resource: string) =>
    (r.rules as Any[]).some((x) => x.apiGroups?.includes(group) && x.resources?.includes(resource));
  assert.ok(
    bound("ClusterRole", (r) => JSON.stringify(r.rules) === JSON.stringify(apiRules(managerRole, "kustomize"))),
    "the manager ClusterRole (rules of scripts/rbac.ts) is bound",
  );
  assert.ok(
    bound("Role", (r) => hasRule(r, "coordination.k8s.io", "leases")),
    "leader election Role bound",
  );
  assert.ok(bound("ClusterRole", (r) => hasRule(r, "authorization.k8s.io", "subjectaccessreviews")));
  assert.equal(
    bound("Role", (r) => hasRule(r, "", "secrets")),
    !want.certManager,
    "Secret access iff built-in certs",
  );
  assert.equal(
    bound("ClusterRole", (r) => hasRule(r, "admissionregistration.k8s.io", "mutatingwebhookconfigurations")),
    !want.certManager,
    "webhook configuration access iff built-in certs",
  );
  for (const r of roles.values()) {
    for (const rule of r.rules as Any[]) {
      assert.ok(!rule.verbs.includes("*") && !(rule.resources ?? []).includes("*"), `${r.metadata.name}: no wildcards`);
    }
  }

  // Services
  const podLabels = pod.metadata.labels as Record<string, string>;
  const webhookSvc = one(docs, "Service", (s: Any) => s.spec.ports.some((p: Any) => p.port === 443));
  assert.ok(selects(webhookSvc.spec.selector, podLabels), "webhook Service selects the controller pods");
  assert.equal(portNumber(c, webhookSvc.spec.ports[0].targetPort), 9443);
  const metricsSvc = one(docs, "Service", (s: Any) => s.spec.ports.some((p: Any) => p.name === "https"));
  assert.ok(selects(metricsSvc.spec.selector, podLabels), "metrics Service selects the controller pods");
  assert.equal(metricsSvc.spec.ports[0].port, 8443);
  assert.equal(portNumber(c, metricsSvc.spec.ports[0].targetPort), 8443);
  if (!want.certManager) {
    assert.equal(cfg.internalCertManagement.webhookServiceName, webhookSvc.metadata.name);
  }

  // Webhook configurations: the names the certificate manager injects into, pointing at the Service
  const mwc = one(docs, "MutatingWebhookConfiguration");
  const vwc = one(docs, "ValidatingWebhookConfiguration");
  assert.equal(mwc.metadata.name, MutatingConfigurationName);
  assert.equal(vwc.metadata.name, ValidatingConfigurationName);
  const paths = [...mwc.webhooks, ...vwc.webhooks].map((w: Any) => {
    assert.deepEqual(
      { name: w.clientConfig.service.name, namespace: w.clientConfig.service.namespace },
      { name: webhookSvc.metadata.name, namespace: ns },
    );
    return w.clientConfig.service.path;
  });
  assert.deepEqual(paths.sort(), Object.values(Paths).sort());

  // cert-manager
  if (want.certManager) {
    const certs = find(docs, "Certificate") as Any[];
    const serving = certs.find((x) => x.spec.dnsNames[0].startsWith(`${webhookSvc.metadata.name}.`));
    assert.ok(serving, "a Certificate for the webhook Service");
    assert.ok(
      certs.some((x) => x.spec.dnsNames[0].startsWith(`${metricsSvc.metadata.name}.`)),
      "metrics Certificate",
    );
    const volumes = pod.spec.volumes as Any[];
    const webhookCertMount = mounts.find((m) => m.mountPath === "/tmp/k8s-webhook-server/serving-certs");
    assert.equal(volumes.find((v) => v.name === webhookCertMount?.name)?.secret?.secretName, serving.spec.secretName);
    for (const w of [mwc, vwc]) {
      const inject = w.metadata.annotations?.["cert-manager.io/inject-ca-from"] as string;
      assert.match(inject, new RegExp(`/${serving.metadata.name}$`), "CA injected from the serving Certificate");
    }
  } else {
    assert.equal(find(docs, "Certificate").length, 0);
    assert.equal(mwc.metadata.annotations?.["cert-manager.io/inject-ca-from"], undefined);
  }
  assert.equal(find(docs, "ServiceMonitor").length, want.serviceMonitor ? 1 : 0);
  if (want.serviceMonitor) {
    const sm = one(docs, "ServiceMonitor");
    assert.ok(selects(sm.spec.selector.matchLabels, metricsSvc.metadata.labels), "ServiceMonitor selects the Service");
    assert.equal(sm.spec.endpoints[0].port, "https");
  }
}

/** `kubectl apply --server-side --dry-run=server`: every object is accepted. */
async function dryRun(docs: Obj[], manifest: string): Promise<void> {
  const out = await kubectl(cluster, ["apply", "--server-side", "--dry-run=server", "-f", "-"], manifest);
  const lines = out.trim().split("\n");
  assert.equal(lines.length, docs.length, out);
  for (const l of lines) assert.match(l, /serverside-applied \(server dry run\)$/, l);
}

interface Variant {
  name: string;
  render: (ns: string) => Promise<string>;
  want: Expect;
}

const variants: Variant[] = [
  {
    name: "kustomize config/default",
    render: (ns) => renderKustomize("config/default", ns),
    want: { replicas: 2, certManager: false, serviceMonitor: false },
  },
  {
    name: "kustomize config/overlays/cert-manager",
    render: (ns) => renderKustomize("config/overlays/cert-manager", ns),
    want: { replicas: 2, certManager: true, serviceMonitor: false },
  },
  {
    name: "kustomize config/overlays/prometheus",
    render: (ns) => renderKustomize("config/overlays/prometheus", ns),
    want: { replicas: 2, certManager: false, serviceMonitor: true },
  },
  {
    name: "helm template (default values)",
    render: (ns) => renderHelm(ns),
    want: { replicas: 2, certManager: false, serviceMonitor: false },
  },
  {
    name: "helm template (every option: test/fixtures/deploy/helm-values-full.yaml)",
    render: (ns) => renderHelm(ns, [join(fixtures, "helm-values-full.yaml")]),
    want: { replicas: 3, certManager: true, serviceMonitor: true },
  },
];

describe("deployment manifests on the API server", () => {
  for (const v of variants) {
    test(`${v.name}: renders a consistent install that a server-side dry run accepts`, async (t) => {
      const ns = await testNamespace(t, cluster);
      const manifest = await v.render(ns);
      const docs = parse(manifest);
      checkInstall(docs, ns, v.want);
      await dryRun(docs, manifest);
    });
  }

  test("helm template applies the values: scheduling, image digest, feature gates, rate limits, TLS, PDB", async () => {
    const docs = parse(await renderHelm("jobset-system", [join(fixtures, "helm-values-full.yaml")]));
    const dep = one(docs, "Deployment");
    const spec = dep.spec.template.spec;
    assert.deepEqual(spec.nodeSelector, { "kubernetes.io/os": "linux" });
    assert.equal(spec.tolerations[0].key, "node-role.kubernetes.io/control-plane");
    assert.ok(spec.affinity.nodeAffinity, "affinity from values replaces the default anti-affinity");
    assert.equal(spec.priorityClassName, "system-cluster-critical");
    assert.equal(
      spec.containers[0].image,
      "registry.example.com/jobset-controller@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    );
    assert.ok(spec.containers[0].args.includes("--kube-api-burst=100"));
    const cfg = loadConfiguration(one(docs, "ConfigMap").data["controller_manager_config.yaml"]);
    assert.deepEqual(cfg.featureGates, { InPlaceRestart: true, RestartJob: true });
    assert.deepEqual(cfg.clientConnection, { qps: 50, burst: 100 });
    assert.equal(cfg.tls?.minVersion, "VersionTLS13");
    assert.equal(one(docs, "PodDisruptionBudget").spec.minAvailable, 1);
    assert.equal(one(docs, "ServiceMonitor").metadata.labels.release, "prometheus");
  });

  test("helm template with release name jobset gives the kustomize names", async () => {
    const helmDocs = parse(await renderHelm("jobset-system"));
    const kustomizeDocs = parse(await kubectl(cluster, ["kustomize", join(root, "config", "default")]));
    const names = (docs: Obj[]) => docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ""}/${d.metadata.name}`).sort();
    // Helm does not own the release namespace (`helm install --create-namespace` creates it)
    assert.deepEqual(names(helmDocs), names(kustomizeDocs.filter((d) => d.kind !== "Namespace")));
  });

  test("helm lint --strict passes with the default values and with every option", async () => {
    const chart = join(root, "charts", "jobset");
    await helm(helmBin, ["lint", "--strict", chart], scratch);
    await helm(helmBin, ["lint", "--strict", chart, "--values", join(fixtures, "helm-values-full.yaml")], scratch);
  });
});
