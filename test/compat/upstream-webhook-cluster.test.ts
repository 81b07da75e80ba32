// Our admission webhooks against upstream's own webhook server where they read the cluster, with a real API
// server behind both: a local control plane (etcd + kube-apiserver) holds PVCs, Nodes and leader pods.
// Upstream's webhooks read them through its manager's cache (with upstream's pod name index); ours through
// the caches the controller process runs (src/webhooks/setup.ts: the PVC informer, the JobSet-pods informer
// with the placement indexes). Every answer must be the same JSON text from both servers:
//  - the PVC rows of the fidelity table (issue 15 item 6), whose answers must also be the table's;
//  - the pod webhooks' exclusive-placement cases (leader, follower, unscheduled or missing leader, a node
//    without the topology label, another Job's pods, the node-selector strategy).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Labels } from "../../src/api/constants.ts";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { PersistentVolumeClaim, Pod } from "../../src/api/k8s.ts";
import { jobSetPodsInformer } from "../../src/controllers/pods.ts";
import { type ControlPlane, startControlPlane } from "../../src/local/controlplane.ts";
import { createCa, issueServingCert } from "../../src/pki/x509.ts";
import type { KubeClient } from "../../src/runtime/client.ts";
import type { Informer } from "../../src/runtime/informer.ts";
import { Resources, resourcePath } from "../../src/runtime/resources.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { pvcInformer } from "../../src/webhooks/pvc-cache.ts";
import { WebhookServer } from "../../src/webhooks/server.ts";
import { admissionHandlers } from "../../src/webhooks/setup.ts";
import { post, review } from "../support/admission-client.ts";
import { K, node, pod } from "../support/pods.ts";
import { answerText, startUpstreamWebhook, type UpstreamWebhook } from "../support/upstream-webhook.ts";
import { existingPvcs, pvcRows } from "../support/webhook-fidelity-pvc-rows.ts";

const owner = (uid: string) => [
  { apiVersion: "batch/v1", kind: "Job", name: "js-rj-x", uid, controller: true, blockOwnerDeletion: true },
];

/** Pod `p` of Job `job` of replicated job "rj" of JobSet "js" (completion index `index`). */
function jobPod(job: number, index: string, o: { nodeName?: string; nodeSelector?: Record<string, string> } = {}): Pod {
  const p = pod(`js-rj-${job}-${index}-${index === "0" ? "lead0" : "foll1"}`, { index, owner: `u${job}`, ...o });
  p.metadata = {
    ...p.metadata,
    labels: { ...p.metadata?.labels, [Labels.JobIndex]: String(job), [Labels.JobKey]: `key-${job}` },
    ownerReferences: owner(`u${job}`),
  };
  return p;
}

/** The leader pods in the cluster: job 0 on the labelled node, job 1 unscheduled, job 2 on a node without the label. */
const leaders = (): Pod[] => [jobPod(0, "0", { nodeName: "n1" }), jobPod(1, "0"), jobPod(2, "0", { nodeName: "n2" })];

const follower = (job: number, nodeSelector?: Record<string, string>): Pod =>
  jobPod(job, "1", nodeSelector ? { nodeSelector } : {});

const podReview = (p: Pod) =>
  review({
    operation: "CREATE",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace: "default",
    object: { apiVersion: "v1", kind: "Pod", ...p },
  });

describe("webhooks that read the cluster: ours answer as upstream's, both reading a real API server", {
  timeout: 900_000,
}, () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let up: UpstreamWebhook;
  let cache: Informer<PersistentVolumeClaim>;
  let podCache: Informer<Pod>;
  let ours: { server: WebhookServer; caPem: string };

  before(async () => {
    cp = await startControlPlane({ profile: "apiserver" });
    client = await cp.client();
    for (const ns of ["ns", "other"]) {
      await client.create(resourcePath(Resources.namespaces), {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: ns },
      });
    }
    for (const p of existingPvcs()) {
      // What a client may send: the identity and status fields the table's objects carry are the server's.
      const { name, namespace, labels, annotations } = p.metadata ?? {};
      await client.create(resourcePath({ ...Resources.persistentvolumeclaims, namespace }), {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name, namespace, labels, annotations },
        spec: p.spec,
      });
    }
    for (const n of [node("n1", { [K]: "pool-1" }), node("n2", {})]) {
      await client.create(resourcePath(Resources.nodes), { apiVersion: "v1", kind: "Node", ...n });
    }
    for (const p of leaders()) {
      await client.create(resourcePath({ ...Resources.pods, namespace: "default" }), {
        apiVersion: "v1",
        kind: "Pod",
        ...p,
      });
    }
    up = await startUpstreamWebhook({ kubeconfig: cp.kubeconfigPath });
    cache = pvcInformer({ client });
    podCache = jobSetPodsInformer({ client });
    cache.start();
    podCache.start();
    assert.equal(await podCache.waitForSync(), true);
    const ca = createCa("compat-cluster-ca", 1);
    const leaf = issueServingCert(ca);
    const server = new WebhookServer({
      host: "127.0.0.1",
      port: 0,
      certificate: { cert: leaf.certPem, key: leaf.keyPem },
      handlers: admissionHandlers({ client, pods: podCache, pvcs: cache, gates: defaultFeatureGates }),
    });
    ours = { server, caPem: ca.certPem };
    await server.start();
    // Upstream's cache fills in the background: wait until it shows the scheduled leader.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const a = await post(`${up.url}${Paths.MutatePod}`, JSON.stringify(podReview(follower(0))), { ca: up.caPem });
      if ((JSON.parse(a.body) as { response?: { patch?: string } }).response?.patch) break;
      if (Date.now() > deadline) throw new Error(`upstream's cache never showed the leader: ${a.body}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    await ours?.server.stop();
    await cache?.stop();
    await podCache?.stop();
    await up?.stop();
    await cp?.stop();
  });

  for (const row of pvcRows) {
    test(row.name, async () => {
      const body = JSON.stringify(review(row.request));
      const [u, w] = await Promise.all([
        post(`${up.url}${Paths.ValidateJobSet}`, body, { ca: up.caPem }),
        post(`${ours.server.url}${Paths.ValidateJobSet}`, body, { ca: ours.caPem }),
      ]);
      const { uid: _uid, ...got } = (JSON.parse(u.body) as { response: { uid: string } }).response;
      assert.deepEqual(got, row.want, "upstream's answer is the table's");
      assert.equal(w.body, u.body, "ours is upstream's, byte for byte");
    });
  }

  const podCases: [string, Pod][] = [
    [
      "a pod of no JobSet",
      { metadata: { name: "plain", namespace: "default" }, spec: { containers: [{ name: "c", image: "i" }] } },
    ],
    ["a leader (completion index 0)", pod("js-rj-0-0-zzzzz", { index: "0", owner: "u0" })],
    ["a follower whose leader is scheduled on a labelled node", follower(0)],
    ["that follower with the node selector already set", follower(0, { [K]: "pool-1" })],
    ["that follower with another node selector", follower(0, { [K]: "pool-2" })],
    ["a follower whose leader is not scheduled", follower(1)],
    ["that follower with a node selector", follower(1, { [K]: "pool-1" })],
    ["a follower whose leader's node has no topology label", follower(2)],
    ["a follower whose leader does not exist", follower(3)],
    [
      "a follower owned by another Job than its leader",
      { ...follower(0), metadata: { ...follower(0).metadata, ownerReferences: owner("u9") } },
    ],
    [
      "a pod of the node-selector strategy",
      pod("js-rj-0-1-nsnsn", { index: "1", owner: "u0", nodeSelectorStrategy: true }),
    ],
    ["a JobSet pod without exclusive placement", pod("js-rj-0-1-noexc", { index: "1", owner: "u0", exclusive: false })],
  ];
  for (const [what, p] of podCases) {
    for (const path of [Paths.MutatePod, Paths.ValidatePod]) {
      test(`${path}: ${what}`, async () => {
        const body = JSON.stringify(podReview(p));
        const [u, w] = await Promise.all([
          post(`${up.url}${path}`, body, { ca: up.caPem }),
          post(`${ours.server.url}${path}`, body, { ca: ours.caPem }),
        ]);
        assert.equal(answerText(w.body), answerText(u.body));
      });
    }
  }
});
