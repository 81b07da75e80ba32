// The PVC rows of the fidelity table (issue 15 item 6) against upstream's own webhook server, with a real
// API server behind both: a local control plane (etcd + kube-apiserver) holds the table's PVCs. Upstream's
// webhooks read them through its manager's cache; ours through the PVC informer the controller process runs
// (src/webhooks/pvc-cache.ts). Every answer must be the table's and the same JSON text from both servers.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultFeatureGates } from "../../src/api/features.ts";
import type { PersistentVolumeClaim } from "../../src/api/k8s.ts";
import { type ControlPlane, startControlPlane } from "../../src/local/controlplane.ts";
import type { KubeClient } from "../../src/runtime/client.ts";
import type { Informer } from "../../src/runtime/informer.ts";
import { Resources, resourcePath } from "../../src/runtime/resources.ts";
import { Paths } from "../../src/webhooks/configurations.ts";
import { pvcCacheGetter, pvcInformer } from "../../src/webhooks/pvc-cache.ts";
import { post, review } from "../support/admission-client.ts";
import { startUpstreamWebhook, type UpstreamWebhook } from "../support/upstream-webhook.ts";
import { existingPvcs, pvcRows } from "../support/webhook-fidelity-pvc-rows.ts";
import { type TlsWebhookServer, tlsWebhookServer } from "../support/webhook-server.ts";

describe("PVC look-ups: our webhook answers as upstream's, both reading a real API server", {
  timeout: 900_000,
}, () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let up: UpstreamWebhook;
  let cache: Informer<PersistentVolumeClaim>;
  let ours: TlsWebhookServer;

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
    up = await startUpstreamWebhook({ kubeconfig: cp.kubeconfigPath });
    cache = pvcInformer({ client });
    cache.start();
    ours = tlsWebhookServer("compat-cluster-ca", {
      gates: defaultFeatureGates,
      getPVC: pvcCacheGetter(cache),
      pods: { podsByName: () => [], getNode: () => Promise.reject(new Error("no nodes")) },
    });
    await ours.server.start();
  });
  after(async () => {
    await ours?.server.stop();
    await cache?.stop();
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
});
