// The admission webhooks registered with a real kube-apiserver (https://127.0.0.1:PORT + caBundle), with
// certificates from the certificate manager (Secret, CA injection) rotating every few seconds while the
// tests run. The webhooks are restricted to this file's namespace (namespaceSelector), so other test
// files sharing the control plane are unaffected.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import { toStatus } from "../../src/api/field-errors.ts";
import type { PersistentVolumeClaim, Pod } from "../../src/api/k8s.ts";
import type { JobSet } from "../../src/api/types.ts";
import { validateCreate } from "../../src/api/validation.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import { ApiError, isNotFound } from "../../src/runtime/client.ts";
import type { Informer } from "../../src/runtime/informer.ts";
import { CertManager } from "../../src/webhooks/certs.ts";
import { localWebhookConfigurations } from "../../src/webhooks/configurations.ts";
import { webhookHandlers } from "../../src/webhooks/handlers.ts";
import { pvcCacheGetter, pvcInformer } from "../../src/webhooks/pvc-cache.ts";
import { WebhookServer } from "../../src/webhooks/server.ts";
import { podWebhookLookups } from "../../src/webhooks/setup.ts";
import { jobSet, rjob } from "../builders.ts";
import { type TestCluster, useCluster, waitFor } from "../support/cluster.ts";

const id = randomBytes(3).toString("hex");
const NS = `webhooks-${id}`;
const MUTATING = `jobset-mutating-webhook-configuration-${id}`;
const VALIDATING = `jobset-validating-webhook-configuration-${id}`;
const JOBSETS = `/apis/jobset.x-k8s.io/v1alpha2/namespaces/${NS}/jobsets`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const ADMISSION = "/apis/admissionregistration.k8s.io/v1";

const denial = (webhook: string, message: string) => `admission webhook "${webhook}" denied the request: ${message}`;

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  assert.fail("expected the API server to refuse the request");
}

describe("webhooks registered with the API server", () => {
  let cluster: TestCluster;
  let server: WebhookServer;
  let certs: CertManager;
  let certDir: string;
  let pvcs: Informer<PersistentVolumeClaim>;

  before(async () => {
    cluster = await useCluster("apiserver");
    const c = cluster.client;
    await c.create("/api/v1/namespaces", { metadata: { name: NS, labels: { "jobset-ts.test/webhooks": id } } });
    certDir = await mkdtemp(join(tmpdir(), "webhook-it-"));
    // The pod cache is not needed for these tests: leader lookups go to the API (list by name prefix).
    const lookups = podWebhookLookups(
      {
        get: () => undefined,
        addIndex: () => {},
        byIndex: () => [],
        addEventHandler: () => () => {},
      },
      async (name) => {
        try {
          return await c.get(`/api/v1/nodes/${name}`);
        } catch (e) {
          if (isNotFound(e)) return null;
          throw e;
        }
      },
    );
    // The PVC cache of the JobSet validating webhook, as the controller process builds it.
    pvcs = pvcInformer({ client: c }, { namespace: NS });
    pvcs.start();
    const handlers = webhookHandlers({ gates: defaultFeatureGates, getPVC: pvcCacheGetter(pvcs), pods: lookups });
    const throwaway = issueServingCert(createCa("throwaway", 1));
    server = new WebhookServer({
      host: "127.0.0.1",
      port: 0,
      certificate: { cert: throwaway.certPem, key: throwaway.keyPem },
      handlers,
    });
    let url = "";
    certs = new CertManager({
      client: c,
      namespace: NS,
      serviceName: "jobset-webhook-service",
      ipAddresses: ["127.0.0.1"],
      certDir,
      mutatingConfigurationName: MUTATING,
      validatingConfigurationName: VALIDATING,
      createConfigurations: (bundle) =>
        localWebhookConfigurations(url, bundle, {
          mutating: MUTATING,
          validating: VALIDATING,
          namespaceSelector: { matchLabels: { "jobset-ts.test/webhooks": id } },
        }),
      // Short-lived serving certificates: they rotate every ~3 s during the whole file.
      certValidityMs: 6_000,
      rotateAtFraction: 0.5,
      checkIntervalMs: 500,
      onCertificate: (cert) => server.setCertificate(cert),
    });
    // The server listens first (with a throwaway certificate) so that its URL is known; the manager then
    // swaps in the real certificate and creates the configurations pointing at that URL.
    await server.start();
    url = server.url;
    await certs.start();
    // Configurations take effect asynchronously: wait until an invalid JobSet is refused by our webhook.
    await waitFor(
      async () => {
        const js = jobSet("probe", NS).replicatedJob(rjob("rj")).obj();
        js.spec = { ...js.spec, network: { subdomain: "Probe" } };
        try {
          await c.create(JOBSETS, js, { dryRun: "All" });
          return false;
        } catch (e) {
          return e instanceof ApiError && e.message.includes('admission webhook "vjobset.kb.io"');
        }
      },
      { message: "the webhooks to take effect", timeoutMs: 30_000 },
    );
  });

  after(async () => {
    const c = cluster.client;
    for (const [plural, name] of [
      ["mutatingwebhookconfigurations", MUTATING],
      ["validatingwebhookconfigurations", VALIDATING],
    ] as const) {
      await c.delete(`${ADMISSION}/${plural}/${name}`).catch(() => undefined);
    }
    certs?.stop();
    await server?.stop();
    await pvcs?.stop();
    await c.delete(`/api/v1/namespaces/${NS}`).catch(() => undefined);
    // The cert manager may still be finishing a write when stopped: retry ENOTEMPTY.
    await rm(certDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    await c.close();
  });

  test("the CA bundle is injected into every webhook and the Secret holds the certificates", async () => {
    const c = cluster.client;
    const secret = await c.get<{ data: Record<string, string> }>(
      `/api/v1/namespaces/${NS}/secrets/jobset-webhook-server-cert`,
    );
    assert.deepEqual(Object.keys(secret.data).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    for (const [plural, name] of [
      ["mutatingwebhookconfigurations", MUTATING],
      ["validatingwebhookconfigurations", VALIDATING],
    ] as const) {
      const cfg = await c.get<{ webhooks: { name: string; clientConfig: { caBundle: string; url: string } }[] }>(
        `${ADMISSION}/${plural}/${name}`,
      );
      assert.equal(cfg.webhooks.length, 2);
      for (const w of cfg.webhooks) {
        assert.equal(w.clientConfig.caBundle, secret.data["ca.crt"]);
        assert.ok(w.clientConfig.url.startsWith(server.url));
      }
    }
  });

  test("defaults of spec §2.2 appear on the stored object", async () => {
    const c = cluster.client;
    const js = jobSet("defaults", NS).replicatedJob(rjob("rj")).obj();
    js.spec = {
      ...js.spec,
      failurePolicy: { maxRestarts: 1, rules: [{ action: "FailJobSet" } as never] },
      volumeClaimPolicies: [],
    };
    const rj = js.spec?.replicatedJobs?.[0];
    if (rj?.template.spec?.template.spec) delete rj.template.spec.template.spec.restartPolicy;
    await c.create(JOBSETS, js);
    const stored = await c.get<JobSet>(`${JOBSETS}/defaults`);
    assert.deepEqual(stored.spec?.successPolicy, { operator: "All" });
    assert.deepEqual(stored.spec?.startupPolicy, { startupPolicyOrder: "AnyOrder" });
    assert.deepEqual(stored.spec?.network, { enableDNSHostnames: true, publishNotReadyAddresses: true });
    assert.equal(stored.spec?.replicatedJobs?.[0]?.template.spec?.completionMode, "Indexed");
    assert.equal(stored.spec?.replicatedJobs?.[0]?.template.spec?.template.spec?.restartPolicy, "OnFailure");
    assert.equal(stored.spec?.failurePolicy?.rules?.[0]?.name, "failurePolicyRule0");
    assert.equal(stored.spec?.failurePolicy?.restartStrategy, "Recreate", "CRD structural default");
  });

  test("the Go round trip: a container without name and a volumeMount without mountPath are stored as upstream stores them", async () => {
    const c = cluster.client;
    const js = jobSet("roundtrip", NS).replicatedJob(rjob("rj")).obj();
    const podSpec = js.spec?.replicatedJobs?.[0]?.template.spec?.template.spec;
    assert.ok(podSpec);
    podSpec.containers = [
      {
        image: "busybox",
        resources: { requests: { memory: "1024Mi", cpu: "1000m" } },
        volumeMounts: [{ name: "scratch" }],
      } as never,
    ];
    podSpec.volumes = [{ name: "scratch", emptyDir: {} }];
    await c.create(JOBSETS, js);
    const stored = await c.get<JobSet>(`${JOBSETS}/roundtrip`);
    const template = stored.spec?.replicatedJobs?.[0]?.template;
    const container = template?.spec?.template.spec?.containers[0];
    assert.equal(container?.name, "", "the webhook writes the absent required name as Go's zero value");
    assert.deepEqual(container?.volumeMounts, [{ name: "scratch", mountPath: "" }]);
    assert.deepEqual(container?.resources, { requests: { memory: "1Gi", cpu: "1" } }, "quantities in canonical form");
    assert.deepEqual(template?.metadata, {}, "non-pointer structs are written");
    assert.deepEqual(template?.spec?.template.metadata, {});
  });

  const invalid: [string, (js: JobSet) => void, string?][] = [
    [
      "subdomain not a DNS-1035 label",
      (js) => {
        js.spec = { ...js.spec, network: { subdomain: "Foo" } };
      },
    ],
    [
      "dependsOn on the first replicated job",
      (js) => {
        const r = js.spec?.replicatedJobs?.[0];
        if (r) r.dependsOn = [];
      },
      "<nil>: Internal error: DependsOn can't be set for the first ReplicatedJob",
    ],
    [
      "successPolicy target that does not exist",
      (js) => {
        js.spec = { ...js.spec, successPolicy: { operator: "All", targetReplicatedJobs: ["nope"] } };
      },
      "<nil>: Internal error: invalid replicatedJob name 'nope' does not appear in .spec.ReplicatedJobs",
    ],
    [
      "InPlaceRestart with the gate off",
      (js) => {
        js.spec = { ...js.spec, failurePolicy: { restartStrategy: "InPlaceRestart" } };
      },
      "<nil>: Internal error: InPlaceRestart restart strategy cannot be set when InPlaceRestart feature gate is disabled",
    ],
    [
      "invalid groupName",
      (js) => {
        const r = js.spec?.replicatedJobs?.[0];
        if (r) r.groupName = "Bad_Group";
      },
    ],
    [
      "managedBy without a domain",
      (js) => {
        js.spec = { ...js.spec, managedBy: "nodomain" };
      },
    ],
    [
      "several errors at once",
      (js) => {
        js.spec = { ...js.spec, managedBy: "nodomain", network: { subdomain: "Foo" } };
      },
    ],
  ];
  for (const [name, mutate, literal] of invalid) {
    test(`CREATE refused: ${name}`, async () => {
      const slug = name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .slice(0, 20)
        .replace(/-+$/, "");
      const js = jobSet(`bad-${slug}`, NS).replicatedJob(rjob("rj")).obj();
      mutate(js);
      const e = await apiError(cluster.client.create(JOBSETS, js));
      assert.equal(e.code, 422);
      assert.equal(e.reason, "Invalid");
      const jsName = js.metadata?.name ?? "";
      const errs = validateCreate(js, defaultFeatureGates, { nameForValidation: jsName });
      assert.ok(errs.length > 0);
      assert.equal(e.message, denial("vjobset.kb.io", toStatus(jsName, errs).message ?? ""));
      if (literal)
        assert.equal(e.message, denial("vjobset.kb.io", `JobSet.jobset.x-k8s.io "${jsName}" is invalid: ${literal}`));
      assert.equal(e.status?.details?.name, jsName);
      assert.equal(e.status?.details?.kind, "JobSet");
      assert.deepEqual(
        (e.status?.details?.causes ?? []).map((c) => c.field),
        errs.map((x) => x.field),
      );
    });
  }

  // kube-apiserver v1.36 generates the name from generateName before admission, so the webhook sees
  // `metadata.name` set; the name-length rules then check the real name (spec §3.2's generated-name
  // path only matters for objects that reach the webhook without a name).
  test("CREATE with generateName: the API server's generated name is checked and reported", async () => {
    const js = jobSet("x", NS)
      .generateName(`${"g".repeat(57)}-`)
      .replicatedJob(rjob("rj"))
      .obj();
    const e = await apiError(cluster.client.create(JOBSETS, js));
    assert.equal(e.code, 422);
    const name = e.status?.details?.name ?? "";
    assert.match(name, /^g{57}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(
      e.message,
      denial(
        "vjobset.kb.io",
        `JobSet.jobset.x-k8s.io "${name}" is invalid: spec.replicatedJobs[0].name: Invalid value: "${name}-rj-0": JobSet name is too long, job names generated for this JobSet will exceed 63 characters`,
      ),
    );
  });

  test("UPDATE: immutable replicatedJobs and managedBy refused; allowed changes pass", async () => {
    const c = cluster.client;
    await c.create(JOBSETS, jobSet("upd", NS).replicatedJob(rjob("rj").replicas(2)).obj());
    const cur = await c.get<JobSet>(`${JOBSETS}/upd`);

    const more = structuredClone(cur);
    const r0 = more.spec?.replicatedJobs?.[0];
    if (r0) r0.replicas = 3;
    const e = await apiError(c.update(`${JOBSETS}/upd`, more));
    assert.equal(e.code, 422);
    assert.match(
      e.message,
      /^admission webhook "vjobset\.kb\.io" denied the request: JobSet\.jobset\.x-k8s\.io "upd" is invalid: spec\.replicatedJobs: Invalid value: .*: field is immutable$/,
    );

    const managed = structuredClone(cur);
    managed.spec = { ...managed.spec, managedBy: "example.com/other" };
    const e2 = await apiError(c.update(`${JOBSETS}/upd`, managed));
    assert.equal(
      e2.message,
      denial(
        "vjobset.kb.io",
        'JobSet.jobset.x-k8s.io "upd" is invalid: spec.managedBy: Invalid value: "example.com/other": field is immutable',
      ),
    );

    const ok = structuredClone(cur);
    ok.metadata = { ...ok.metadata, labels: { team: "a" } };
    ok.spec = { ...ok.spec, suspend: true };
    const pod = ok.spec?.replicatedJobs?.[0]?.template.spec?.template;
    if (pod) pod.metadata = { labels: { kueue: "yes" } };
    const updated = await c.update<JobSet>(`${JOBSETS}/upd`, ok);
    assert.equal(updated.spec?.suspend, true);
    assert.equal(updated.spec?.replicatedJobs?.[0]?.template.spec?.template.metadata?.labels?.kueue, "yes");
  });

  test("CREATE: an existing PVC is seen through the webhook's PVC cache (rule 9)", async () => {
    const c = cluster.client;
    // the controller would create PVC data-vcp; here the user made it before the JobSet
    await c.create<PersistentVolumeClaim>(`/api/v1/namespaces/${NS}/persistentvolumeclaims`, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-vcp", labels: { owner: "someone" } },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    const withClaim = (storage: string, whenDeleted: "Delete" | "Retain"): JobSet => {
      const js = jobSet("vcp", NS).replicatedJob(rjob("rj")).obj();
      const container = js.spec?.replicatedJobs?.[0]?.template.spec?.template.spec?.containers[0];
      assert.ok(container);
      container.volumeMounts = [{ name: "data", mountPath: "/data" }];
      js.spec = {
        ...js.spec,
        volumeClaimPolicies: [
          {
            templates: [
              {
                metadata: { name: "data" },
                // volumeMode as the API server defaults it on the PVC: rule 9 compares whole specs
                spec: {
                  accessModes: ["ReadWriteOnce"],
                  resources: { requests: { storage } },
                  volumeMode: "Filesystem",
                },
              },
            ],
            retentionPolicy: { whenDeleted },
          },
        ],
      };
      return js;
    };
    // The cache learns of the PVC from its watch: wait until the webhook refuses because it exists.
    const retain = `JobSet.jobset.x-k8s.io "vcp" is invalid: spec.volumeClaimPolicies[0].retentionPolicy.whenDeleted: Invalid value: "Delete": retentionPolicy must be retain when PVC exists`;
    await waitFor(
      async () => {
        try {
          await c.create(JOBSETS, withClaim("1Gi", "Delete"), { dryRun: "All" });
          return false;
        } catch (e) {
          return e instanceof ApiError && e.message === denial("vjobset.kb.io", retain);
        }
      },
      { message: "the webhook to refuse a Delete retention for the existing PVC", timeoutMs: 30_000 },
    );
    // a different spec is refused with the template's spec rendered as Go does
    const e = await apiError(c.create(JOBSETS, withClaim("2Gi", "Retain"), { dryRun: "All" }));
    assert.equal(e.code, 422);
    assert.equal(
      e.message,
      denial(
        "vjobset.kb.io",
        `JobSet.jobset.x-k8s.io "vcp" is invalid: spec.volumeClaimPolicies[0].template[0].spec: Invalid value: {"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"2Gi"}},"volumeMode":"Filesystem"}: spec does not match existing PVC data-vcp in namespace ${NS}`,
      ),
    );
    // the same size spelled differently (1024Mi) is the same spec: Retain is admitted
    const created = await c.create<JobSet>(JOBSETS, withClaim("1024Mi", "Retain"));
    assert.equal(created.spec?.volumeClaimPolicies?.[0]?.retentionPolicy?.whenDeleted, "Retain");
  });

  const podOf = (index: string, extra: Partial<Pod["spec"]> = {}): Pod => ({
    metadata: {
      generateName: `js-rj-0-${index}-`,
      labels: {
        "jobset.sigs.k8s.io/jobset-name": "js",
        "jobset.sigs.k8s.io/replicatedjob-name": "rj",
        "jobset.sigs.k8s.io/job-index": "0",
        "jobset.sigs.k8s.io/job-key": "k1",
      },
      annotations: {
        "jobset.sigs.k8s.io/jobset-name": "js",
        "alpha.jobset.sigs.k8s.io/exclusive-topology": "rack",
        "batch.kubernetes.io/job-completion-index": index,
      },
    },
    spec: { containers: [{ name: "c", image: "busybox" }], ...extra },
  });

  test("pods: follower refused until its leader is scheduled (403 with upstream's message)", async () => {
    const e = await apiError(cluster.client.create(PODS, podOf("1")));
    assert.equal(e.code, 403);
    assert.equal(e.message, denial("vpod.kb.io", "follower pod node selector not set"));
    const e2 = await apiError(cluster.client.create(PODS, podOf("1", { nodeSelector: { rack: "r1" } })));
    assert.equal(
      e2.message,
      denial("vpod.kb.io", "expected 1 leader pod (js-rj-0-0), but got 0. this is an expected, transient error"),
    );
  });

  test("pods: leader gets the priority label and exclusive affinities", async () => {
    const p = await cluster.client.create<Pod>(PODS, podOf("0"));
    assert.equal(p.metadata?.labels?.["jobset.sigs.k8s.io/priority"], "0");
    assert.equal(
      p.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey,
      "rack",
    );
    assert.deepEqual(
      p.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.labelSelector
        ?.matchExpressions,
      [
        { key: "jobset.sigs.k8s.io/job-key", operator: "Exists" },
        { key: "jobset.sigs.k8s.io/job-key", operator: "NotIn", values: ["k1"] },
        { key: "jobset.sigs.k8s.io/priority", operator: "In", values: ["0"] },
      ],
    );
  });

  test("requests keep succeeding while the serving certificate rotates", async () => {
    const c = cluster.client;
    const before = certs.issued.serving;
    const deadline = Date.now() + 8_000;
    let n = 0;
    while (Date.now() < deadline) {
      const js = jobSet(`rot-${n++}`, NS).replicatedJob(rjob("rj")).obj();
      const created = await c.create<JobSet>(JOBSETS, js, { dryRun: "All" });
      assert.deepEqual(created.spec?.successPolicy, { operator: "All" }, "defaulted by the mutating webhook");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(
      certs.issued.serving - before >= 2,
      `rotations during the loop: ${certs.issued.serving - before} (${n} requests)`,
    );
  });
});
