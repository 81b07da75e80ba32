// The local Kubernetes of `jobset up` and `jobset run`, in this process tree: the control plane
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler as supervised children), our CRD, the
// JobSet and pod webhooks (an HTTPS server in this process, registered by URL with a serving cert from
// the control plane's CA), the JobSet controller (in this process, with the feature gates asked for) and
// the fake kubelet with its nodes. With gate InPlaceRestart on, also the in-place restart agent's
// permissions (src/agent/rbac.ts) in namespace default, so its examples run as they are.
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { AgentPolicyName, AgentServiceAccountName } from "../agent/rbac.ts";
import { CrdName } from "../api/constants.ts";
import type { FeatureGates } from "../api/features.ts";
import { startControllerManager } from "../app/controller-manager.ts";
import { type ControlPlane, startControlPlane } from "../local/controlplane.ts";
import { waitCreatable } from "../local/crds.ts";
import { type FakeKubelet, type NodeSpec, startFakeKubelet } from "../local/kubelet.ts";
import { issueServingCert, loadCa } from "../pki/x509.ts";
import { isAlreadyExists, isNotFound, type KubeClient } from "../runtime/client.ts";
import { createLogger } from "../runtime/logger.ts";
import { type ResourceRef, Resources, resourcePath } from "../runtime/resources.ts";
import { localWebhookConfigurations } from "../webhooks/configurations.ts";
import {
  AgentPermissionsLine,
  AgentPermissionsNamespace,
  agentPermissions,
  controllerGates,
  gatesOn,
} from "./local-gates.ts";

export interface LocalClusterOptions {
  nodes: NodeSpec[];
  runtime: "simulate" | "exec";
  /** Keep everything here (removed at stop). Default: a temp dir. */
  dataDir?: string;
  /** Progress lines (control-plane build and start). */
  log: (line: string) => void;
  /**
   * The JobSet controller's feature gates (default: defaultFeatureGates). With InPlaceRestart on, the
   * agent's ServiceAccount, Role, RoleBinding (namespace default) and admission policy are installed;
   * with JobSetWorkloadAwareSchedulingAPI on, the control plane serves the Workload API.
   */
  featureGates?: FeatureGates;
}

export interface LocalCluster {
  kubeconfigPath: string;
  server: string;
  dataDir: string;
  kubeletDir: string;
  kubelet: FakeKubelet;
  nodes: string[];
  /** Where the controller, webhook and kubelet logs go. */
  logDir: string;
  stop(): Promise<void>;
}

async function apply(client: KubeClient, resource: ResourceRef, obj: { metadata?: { name?: string } }): Promise<void> {
  try {
    await client.create(resourcePath(resource), obj);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const name = obj.metadata?.name ?? "";
    const cur = await client.get<{ metadata?: { resourceVersion?: string } }>(resourcePath({ ...resource, name }));
    await client.update(resourcePath({ ...resource, name }), {
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: cur.metadata?.resourceVersion },
    });
  }
}

/**
 * Installs the in-place restart agent's permissions (agentPermissions: created, or updated when they
 * exist).
 */
async function installAgentPermissions(client: KubeClient): Promise<void> {
  // kube-apiserver creates namespace default shortly after it is ready: wait for it (bounded).
  const nsPath = resourcePath({ ...Resources.namespaces, name: AgentPermissionsNamespace });
  for (let deadline = Date.now() + 30_000; ; ) {
    try {
      await client.get(nsPath);
      break;
    } catch (e) {
      if (!isNotFound(e) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (const { resource, object } of agentPermissions()) await apply(client, resource, object);
}

/** Starts the whole local stack; on failure everything started so far is stopped. */
export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const { gates, workloadApi } = controllerGates(o);
  const stops: (() => Promise<void>)[] = [];
  const streams: WriteStream[] = [];
  let cp: ControlPlane | undefined;
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
    await Promise.all(streams.splice(0).map((s) => new Promise<void>((r) => s.end(r))));
  };
  try {
    cp = await startControlPlane({
      profile: "full",
      log: o.log,
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(workloadApi ? { workloadApi: true } : {}),
    });
    const plane = cp;
    stops.push(async () => {
      await plane.stop();
      if (o.dataDir) await rm(o.dataDir, { recursive: true, force: true });
    });
    const logDir = join(cp.dataDir, "logs");
    await mkdir(logDir, { recursive: true });
    const logFile = (name: string) => {
      const s = createWriteStream(join(logDir, name), { flags: "a" });
      streams.push(s);
      return s;
    };
    const client = await cp.client();

    // The controller manager, as `jobset controller` runs it: the JobSet controller, the webhooks
    // (serving cert from the control plane's CA) and the placement-repair pod controller.
    const logger = createLogger({ destination: logFile("controller.log"), name: "jobset" });
    const ca = loadCa(cp.pki.caCert, cp.pki.caKey);
    const serving = issueServingCert(ca, { commonName: "jobset-webhook", ipAddresses: ["127.0.0.1"] });
    const controller = await startControllerManager({
      client: { kubeconfig: cp.kubeconfigPath, userAgent: "jobset-controller-local" },
      telemetry: { logger: logger.child({ logger: "controller" }) },
      gates,
      webhooks: {
        host: "127.0.0.1",
        port: 0,
        certificate: { pem: { cert: serving.certPem, key: serving.keyPem } },
        logger: logger.child({ logger: "webhooks" }),
      },
    });
    stops.push(() => controller.stop());
    // Registered by URL once the caches synced and the server listens.
    const url = await controller.webhooks?.serving;
    if (url === undefined) throw new Error("the controller manager did not host the webhooks");
    const [mutating, validating] = localWebhookConfigurations(url, ca.certPem);
    await apply(client, Resources.mutatingWebhookConfigurations, mutating);
    await apply(client, Resources.validatingWebhookConfigurations, validating);
    o.log(`JobSet controller started (feature gates on: ${gatesOn(gates)}); webhooks serving at ${url}`);
    if (gates.InPlaceRestart) {
      await installAgentPermissions(client);
      o.log(
        `${AgentPermissionsLine}: ServiceAccount, Role and RoleBinding ${AgentPermissionsNamespace}/${AgentServiceAccountName}, ValidatingAdmissionPolicy and binding ${AgentPolicyName}`,
      );
    }

    // The fake kubelet and its nodes.
    const kubeletDir = join(cp.dataDir, "kubelet");
    const kubeletLog = logFile("kubelet.log");
    const kubelet = await startFakeKubelet({
      kubeconfigPath: cp.kubeconfigPath,
      nodes: o.nodes,
      runtime: o.runtime,
      dataDir: kubeletDir,
      log: (level, msg, fields) =>
        kubeletLog.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`),
    });
    stops.push(() => kubelet.stop());
    o.log(`fake kubelet (${o.runtime}) with ${kubelet.nodeNames.length} node(s): ${kubelet.nodeNames.join(", ")}`);
    // Ready means a JobSet created now is not held by the API server because its CRD is brand new.
    await waitCreatable(client, [CrdName]);

    return {
      kubeconfigPath: cp.kubeconfigPath,
      server: cp.server,
      dataDir: cp.dataDir,
      kubeletDir,
      kubelet,
      nodes: kubelet.nodeNames,
      logDir,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
