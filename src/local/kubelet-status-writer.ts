// Writes a pod's status as the fake kubelet models it: coalesced (at most one PATCH in flight per pod,
// always of the latest model), retried on transient errors, and finished for good once the pod is gone.
import type { KubeClient } from "../runtime/client.ts";
import { isNotFound } from "../runtime/client.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { delay, errMsg, type KubeletLog, type KubeletStats, transient } from "./kubelet-context.ts";

export interface StatusWriterOptions {
  client: KubeClient;
  log: KubeletLog;
  stats: KubeletStats;
  namespace: string;
  name: string;
  /** The status patch for the model as it is now (called for every PATCH). */
  render: () => unknown;
  /** True once the kubelet stops (no more retries). */
  stopped: () => boolean;
}

export class StatusWriter {
  private readonly o: StatusWriterOptions;
  private dirty = false;
  private flushing: Promise<void> | undefined;
  /** The pod is gone from the API (a PATCH said NotFound, or the kubelet forgot it): nothing more is written. */
  gone = false;

  constructor(o: StatusWriterOptions) {
    this.o = o;
  }

  /** Publishes the model (coalesced: at most one patch in flight, always the latest state). */
  publish(): void {
    this.dirty = true;
    if (this.flushing) return;
    this.flushing = (async () => {
      try {
        while (this.dirty && !this.gone) {
          this.dirty = false;
          await this.patch();
        }
      } finally {
        this.flushing = undefined;
      }
    })();
  }

  /** Resolves once nothing is being written. */
  async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async patch(): Promise<void> {
    const { client, stats, namespace, name } = this.o;
    const path = resourcePath({ ...Resources.pods, namespace, name, subresource: "status" });
    for (let attempt = 0; ; attempt++) {
      try {
        await client.patch(path, this.o.render(), "strategic");
        stats.statusPatches++;
        return;
      } catch (e) {
        if (isNotFound(e)) {
          this.gone = true;
          return;
        }
        stats.apiErrors++;
        if (!transient(e) || attempt >= 6 || this.o.stopped()) {
          this.o.log("error", "pod status patch failed", { pod: `${namespace}/${name}`, error: errMsg(e) });
          return;
        }
        await delay(100 * 2 ** attempt);
      }
    }
  }
}
