// The shared "apiserver" control plane: up, RBAC enforced, our CRD served, kubectl works.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { issueClientCert, loadCa } from "../../src/pki/x509.ts";
import { ApiError, KubeClient } from "../../src/runtime/client.ts";
import { kubectl, type TestCluster, testNamespace, useCluster, waitFor } from "../support/cluster.ts";

const JOBSETS = (ns: string) => `/apis/jobset.x-k8s.io/v1alpha2/namespaces/${ns}/jobsets`;

const minimalJobSet = (name: string) => ({
  apiVersion: "jobset.x-k8s.io/v1alpha2",
  kind: "JobSet",
  metadata: { name },
  spec: {
    replicatedJobs: [
      {
        name: "workers",
        replicas: 2,
        template: {
          spec: {
            parallelism: 1,
            completions: 1,
            template: {
              spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox", command: ["true"] }] },
            },
          },
        },
      },
    ],
  },
});

describe("local control plane (apiserver profile)", () => {
  let cluster: TestCluster;
  let tmp: string;
  before(async () => {
    cluster = await useCluster("apiserver");
    tmp = await mkdtemp(join(tmpdir(), "cp-test-"));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
    await cluster.client.close();
  });

  test("the API server serves the system namespaces and reports the pinned version", async () => {
    const nss = await cluster.client.list<{ metadata: { name: string } }>("/api/v1/namespaces");
    for (const n of ["default", "kube-system", "kube-public"])
      assert.ok(
        nss.items.some((x) => x.metadata.name === n),
        `namespace ${n}`,
      );
    const v = await cluster.client.get<{ gitVersion: string; major: string }>("/version");
    assert.equal(v.gitVersion, "v1.36.3");
    assert.ok(cluster.server.startsWith("https://127.0.0.1:"));
  });

  test("RBAC is enforced: a non-admin user gets 403 until a RoleBinding grants access", async (t) => {
    const ns = await testNamespace(t, cluster);
    const ca = loadCa(cluster.caCert, cluster.caKey);
    const alice = issueClientCert(ca, "alice", ["developers"]);
    await writeFile(join(tmp, "alice.crt"), alice.certPem);
    await writeFile(join(tmp, "alice.key"), alice.keyPem);
    const kc = join(tmp, "alice.kubeconfig");
    await writeFile(
      kc,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: cluster.server, "certificate-authority": cluster.caCert } }],
        users: [
          {
            name: "alice",
            user: { "client-certificate": join(tmp, "alice.crt"), "client-key": join(tmp, "alice.key") },
          },
        ],
        contexts: [{ name: "c", context: { cluster: "c", user: "alice" } }],
        "current-context": "c",
      }),
    );
    const asAlice = await KubeClient.create({ kubeconfig: kc });
    try {
      const denied = await asAlice.get(`/api/v1/namespaces/${ns}/configmaps`).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(denied instanceof ApiError, `expected an ApiError, got ${String(denied)}`);
      assert.equal(denied.code, 403);
      assert.match(denied.message, /User "alice" cannot list resource "configmaps"/);

      // (The aggregated ClusterRoles such as "view" stay empty here: their aggregation controller runs in KCM.)
      await cluster.client.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
        metadata: { name: "configmap-reader" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
      });
      await cluster.client.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
        metadata: { name: "alice-reads-configmaps" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
        subjects: [{ kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" }],
      });
      const list = await waitFor(() => asAlice.get<{ items: unknown[] }>(`/api/v1/namespaces/${ns}/configmaps`), {
        message: "alice to be allowed to list configmaps",
      });
      assert.ok(Array.isArray(list.items));
      const other = await asAlice.get("/api/v1/namespaces/default/configmaps").catch((e: unknown) => e);
      assert.ok(other instanceof ApiError && other.code === 403, "the RoleBinding is namespaced");
    } finally {
      await asAlice.close();
    }
  });

  test("the JobSet CRD is Established and serves v1alpha2", async () => {
    const crd = await cluster.client.get<{
      status?: { conditions?: { type: string; status: string }[] };
      spec: { versions: { name: string; served: boolean; storage: boolean }[] };
    }>("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/jobsets.jobset.x-k8s.io");
    assert.equal(crd.status?.conditions?.find((c) => c.type === "Established")?.status, "True");
    assert.ok(crd.spec.versions.some((v) => v.name === "v1alpha2" && v.served && v.storage));
  });

  test("a JobSet can be created and read back", async (t) => {
    const ns = await testNamespace(t, cluster);
    const created = await cluster.client.create<{ metadata: { uid?: string } }>(JOBSETS(ns), minimalJobSet("js-1"));
    assert.ok(created.metadata.uid);
    const got = await cluster.client.get<ReturnType<typeof minimalJobSet> & { metadata: { uid?: string } }>(
      `${JOBSETS(ns)}/js-1`,
    );
    assert.equal(got.metadata.uid, created.metadata.uid);
    assert.equal(got.spec.replicatedJobs[0]?.name, "workers");
    assert.equal(got.spec.replicatedJobs[0]?.replicas, 2);
  });

  test("kubectl from the binary set can apply and get against the kubeconfig", async (t) => {
    const ns = await testNamespace(t, cluster);
    const version = JSON.parse(await kubectl(cluster, ["version", "-o", "json"])) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    assert.equal(version.clientVersion.gitVersion, "v1.36.3");
    assert.equal(version.serverVersion.gitVersion, "v1.36.3");

    const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
data:
  color: blue
---
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: from-kubectl
  namespace: ${ns}
spec:
  replicatedJobs:
  - name: workers
    replicas: 1
    template:
      spec:
        template:
          spec:
            restartPolicy: Never
            containers: [{name: main, image: busybox}]
`;
    const out = await kubectl(cluster, ["apply", "-f", "-"], manifest);
    assert.match(out, /configmap\/settings created/);
    assert.match(out, /jobset\.jobset\.x-k8s\.io\/from-kubectl created/);
    const again = await kubectl(cluster, ["apply", "-f", "-"], manifest.replace("blue", "green"));
    assert.match(again, /configmap\/settings configured/);
    const cm = JSON.parse(await kubectl(cluster, ["get", "configmap", "settings", "-n", ns, "-o", "json"])) as {
      data: Record<string, string>;
    };
    assert.deepEqual(cm.data, { color: "green" });
    const names = await kubectl(cluster, ["get", "jobsets", "-n", ns, "-o", "name"]);
    assert.equal(names.trim(), "jobset.jobset.x-k8s.io/from-kubectl");
  });
});
