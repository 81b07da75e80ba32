// The fake kubelet's nodes: registration (create, or adopt an existing Node), the node Leases renewed
// on a timer (the node-lifecycle controller reads them), and removal at stop.
import type { KubeClient } from "../runtime/client.ts";
import { isAlreadyExists, isNotFound } from "../runtime/client.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { errMsg, type KubeletLog, type KubeletStats, nowIso } from "./kubelet-context.ts";
import { FakeNodeIP, microTime, type NodeSpec, nodeBody } from "./kubelet-status.ts";

const NodeLeaseNamespace = "kube-node-lease";
const nodePath = (name?: string, subresource?: string) => resourcePath({ ...Resources.nodes, name, subresource });
const leasePath = (name?: string) => resourcePath({ ...Resources.leases, namespace: NodeLeaseNamespace, name });

export interface NodeRegistryOptions {
  /** The nodes to register, or how many (named `<namePrefix>-<i>`). */
  nodes: NodeSpec[] | number;
  namePrefix?: string;
  kubeletVersion?: string;
  /** Where the kubelet API listens (advertised in each Node's status). */
  kubeletPort?: number;
}

export class NodeRegistry {
  /** Node name → the IP it advertises; the nodes this kubelet serves. */
  private readonly ips = new Map<string, string>();
  private readonly uids = new Map<string, string>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly client: KubeClient;
  private readonly log: KubeletLog;
  private readonly stats: KubeletStats;

  constructor(client: KubeClient, log: KubeletLog, stats: KubeletStats) {
    this.client = client;
    this.log = log;
    this.stats = stats;
  }

  get names(): string[] {
    return [...this.ips.keys()];
  }

  has(name: string | undefined): boolean {
    return name !== undefined && this.ips.has(name);
  }

  /** The IP node `name` advertises ("" for a node not served here). */
  ipOf(name: string | undefined): string {
    return this.ips.get(name ?? "") ?? "";
  }

  /** Creates (or patches into shape) every Node, with its status and exactly the taints asked for. */
  async register(o: NodeRegistryOptions): Promise<void> {
    const specs = typeof o.nodes === "number" ? Array.from({ length: o.nodes }, () => ({})) : o.nodes;
    const now = nowIso();
    await Promise.all(
      specs.map(async (spec, i) => {
        const body = nodeBody(spec, i, now, {
          namePrefix: o.namePrefix,
          kubeletVersion: o.kubeletVersion,
          kubeletPort: o.kubeletPort,
        });
        const name = body.metadata.name;
        if (this.ips.has(name)) throw new Error(`fake kubelet: duplicate node name ${name}`);
        this.ips.set(name, FakeNodeIP);
        const path = nodePath(name);
        type NodeOut = { metadata?: { uid?: string }; spec?: { taints?: { key: string }[] } };
        let node: NodeOut;
        try {
          node = await this.client.create<NodeOut>(nodePath(), { apiVersion: "v1", kind: "Node", ...body });
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
          node = await this.client.patch<NodeOut>(
            path,
            { metadata: { labels: body.metadata.labels }, spec: { ...body.spec, taints: body.spec.taints ?? null } },
            "merge",
          );
        }
        this.uids.set(name, node.metadata?.uid ?? "");
        await this.client.patch(nodePath(name, "status"), { status: body.status }, "merge");
        // The TaintNodesByCondition admission plugin taints new nodes not-ready; without the node
        // lifecycle controller nothing would remove it, so put back exactly the taints asked for.
        const want = new Set((body.spec.taints ?? []).map((t) => t.key));
        if ((node.spec?.taints ?? []).some((t) => !want.has(t.key)))
          await this.client.patch(path, { spec: { taints: body.spec.taints ?? null } }, "merge");
        this.stats.nodes++;
        this.log("info", "node registered", { node: name });
      }),
    );
  }

  /** Renews every node's Lease now, then every `everyMs`. */
  async keepLeases(everyMs: number): Promise<void> {
    await this.renewLeases();
    this.leaseTimer = setInterval(() => void this.renewLeases(), everyMs);
    this.leaseTimer.unref();
  }

  private async renewLeases(): Promise<void> {
    const renewTime = microTime(new Date());
    const rs = await Promise.allSettled(
      this.names.map(async (name) => {
        try {
          await this.client.patch(leasePath(name), { spec: { renewTime, holderIdentity: name } }, "merge");
        } catch (e) {
          if (!isNotFound(e)) throw e;
          await this.client.create(leasePath(), {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: {
              name,
              namespace: NodeLeaseNamespace,
              ownerReferences: [{ apiVersion: "v1", kind: "Node", name, uid: this.uids.get(name) ?? "" }],
            },
            spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
          });
        }
      }),
    );
    for (const r of rs)
      if (r.status === "rejected" && !this.stopped)
        this.log("warn", "lease renewal failed", { error: errMsg(r.reason) });
  }

  /** Stops renewing Leases. */
  stop(): void {
    this.stopped = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
  }

  /** Deletes the Nodes and their Leases (best effort). */
  async remove(): Promise<void> {
    await Promise.allSettled(
      this.names.flatMap((n) => [
        this.client.delete(nodePath(n)).catch((e) => {
          if (!isNotFound(e)) this.log("warn", "cannot delete node", { node: n, error: errMsg(e) });
        }),
        this.client.delete(leasePath(n)).catch(() => undefined),
      ]),
    );
  }
}
